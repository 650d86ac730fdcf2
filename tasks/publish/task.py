"""catalogue, publish and matrix: the set of built cells and where it goes."""

from __future__ import annotations

import sys
from typing import Any

from tasks.action import action
from tasks.model.platforms import PLATFORM_KEYS
from tasks.pack.task import archive_target
from tasks.plumbing.cells import LAYOUT, ROOT, cells, variants


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
        "clean": [action("tasks.publish.cataloguing:remove_catalogue", LAYOUT)],
        "verbosity": 2,
    }


def catalogue_action(cells: str) -> Any:
    from tasks.action import run

    return run("tasks.publish.cataloguing:write_catalogue", LAYOUT, list(variants()), cells or None)


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
    from tasks.action import run

    return run("tasks.publish.publishing:publish", LAYOUT, list(variants()), force=force, cells=cells or None)


def task_matrix() -> dict[str, Any]:
    """Write matrix.json: a GitHub Actions matrix of Linux and native-runner jobs."""
    return {
        "actions": [
            action(
                "tasks.publish.matrix_file:write_matrix",
                LAYOUT,
                list(variants()),
                list(PLATFORM_KEYS),
                ROOT / "matrix.json",
            )
        ],
        "task_dep": [f"config:{v.name}" for v in variants()],
        "uptodate": [False],
    }
