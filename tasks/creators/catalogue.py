"""catalogue, publish, matrix and new_variant: the set of built cells and where it goes."""

from __future__ import annotations

import sys
from typing import Any

from tasks.core.platforms import PLATFORM_KEYS
from tasks.creators.action import action
from tasks.creators.common import LAYOUT, ROOT, cells, variants
from tasks.creators.environment import archive_target

ADAPTERS = "tasks.adapters"


def cell_outputs() -> list[Any]:
    outputs: list[Any] = []
    for variant, platform in cells():
        archive = archive_target(variant, platform)
        outputs += [LAYOUT.env_manifest(variant, platform), LAYOUT.check_report(variant, platform)]
        outputs += [archive, LAYOUT.archive_record(variant, platform)] if archive else []
    return outputs


CELLS_PARAM = {
    "name": "cells",
    "long": "cells",
    "type": str,
    "default": "",
    "help": "only the cells matching this glob over <variant>-<platform> that are built here; builds nothing",
}


def requested_cells() -> str | None:
    """The ``--cells`` glob of this command line, if any. Read while creating tasks because it
    changes their dependencies: a partial catalogue or publish works with the cells built
    here and never builds one (a runner publishes its own cells; the last job the rest)."""
    arguments = sys.argv[1:]
    for position, argument in enumerate(arguments):
        if argument == "--cells" and position + 1 < len(arguments):
            return arguments[position + 1]
        if argument.startswith("--cells="):
            return argument.split("=", 1)[1]
    return None


def task_catalogue() -> dict[str, Any]:
    """catalogue/package.json and catalogue/dist/ (index.json, SHA256SUMS, descriptors);
    doit catalogue --cells '<glob>' catalogues only the matching cells built here."""
    found = list(variants())
    partial = requested_cells() is not None
    return {
        "actions": [(catalogue_action, (), {})],
        "params": [CELLS_PARAM],
        "task_dep": [f"descriptor:{v.name}" for v in found] if partial else [],
        "file_dep": []
        if partial
        else [
            LAYOUT.catalogue_config,
            *cell_outputs(),
            *(LAYOUT.descriptor(v) for v in found),
            *(LAYOUT.package_json(v) for v in found),
        ],
        "uptodate": [False] if partial else [],
        "targets": [
            LAYOUT.catalogue_package,
            LAYOUT.catalogue_dist / "index.json",
            LAYOUT.catalogue_dist / "SHA256SUMS",
        ],
        "clean": [action(f"{ADAPTERS}.cataloguing:remove_catalogue", LAYOUT)],
        "verbosity": 2,
    }


def catalogue_action(cells: str) -> Any:
    from tasks.creators.action import run

    return run(f"{ADAPTERS}.cataloguing:write_catalogue", LAYOUT, list(variants()), cells or None)


def task_publish() -> dict[str, Any]:
    """Publish archives, descriptors, the catalogue (index last) and the npm packages
    (doit publish [--force] [--cells '<glob>'])."""
    return {
        "actions": [(publish_action, (), {})],
        "task_dep": [] if requested_cells() is not None else ["catalogue"],
        "params": [
            {
                "name": "force",
                "long": "force",
                "type": bool,
                "default": False,
                "help": "replace objects whose sha256 differs",
            },
            CELLS_PARAM,
        ],
        "uptodate": [False],
        "verbosity": 2,
    }


def publish_action(force: bool, cells: str) -> Any:
    from tasks.creators.action import run

    return run(f"{ADAPTERS}.publishing:publish", LAYOUT, list(variants()), force=force, cells=cells or None)


def task_matrix() -> dict[str, Any]:
    """Write matrix.json: a GitHub Actions matrix of Linux and native-runner jobs."""
    return {
        "actions": [
            action(
                f"{ADAPTERS}.scaleout:write_matrix", LAYOUT, list(variants()), list(PLATFORM_KEYS), ROOT / "matrix.json"
            )
        ],
        "task_dep": [f"config:{v.name}" for v in variants()],
        "uptodate": [False],
    }


def task_new_variant() -> dict[str, Any]:
    """Create python-<name>/ with a config.json and package.json: doit new_variant --name 3.13.0-custom."""
    return {
        "actions": [(new_variant_action, (), {})],
        "params": [
            {"name": "name", "long": "name", "type": str, "default": "", "help": "X.Y.Z or X.Y.Z-suffix"},
            {
                "name": "allow_unpinned",
                "long": "allow-unpinned",
                "type": bool,
                "default": False,
                "help": "allow a base version with no pinned interpreter",
            },
        ],
        "uptodate": [False],
        "verbosity": 2,
    }


def new_variant_action(name: str, allow_unpinned: bool) -> Any:
    from tasks.creators.action import run

    return run(f"{ADAPTERS}.variants:new_variant", LAYOUT, name, allow_unpinned)
