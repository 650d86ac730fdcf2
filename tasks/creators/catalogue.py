"""catalogue, publish, matrix and new_variant: the set of built cells and where it goes."""

from __future__ import annotations

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
        outputs += [archive, archive.with_name(archive.name + ".sha256")] if archive else []
    return outputs


def task_catalogue() -> dict[str, Any]:
    """catalogue/package.json and catalogue/dist/ (index.json, SHA256SUMS, descriptors)."""
    found = list(variants())
    return {
        "actions": [action(f"{ADAPTERS}.cataloguing:write_catalogue", LAYOUT, found)],
        "file_dep": [
            LAYOUT.catalogue_config,
            *cell_outputs(),
            *(LAYOUT.descriptor(v) for v in found),
            *(LAYOUT.package_json(v) for v in found),
        ],
        "targets": [
            LAYOUT.catalogue_package,
            LAYOUT.catalogue_dist / "index.json",
            LAYOUT.catalogue_dist / "SHA256SUMS",
        ],
        "clean": [action(f"{ADAPTERS}.cataloguing:remove_catalogue", LAYOUT)],
    }


def task_publish() -> dict[str, Any]:
    """Publish archives, descriptors and the catalogue, index last (doit publish [--force])."""
    return {
        "actions": [(publish_action, (), {})],
        "task_dep": ["catalogue"],
        "params": [
            {
                "name": "force",
                "long": "force",
                "type": bool,
                "default": False,
                "help": "replace objects whose sha256 differs",
            }
        ],
        "uptodate": [False],
        "verbosity": 2,
    }


def publish_action(force: bool) -> Any:
    from tasks.creators.action import run

    return run(f"{ADAPTERS}.publishing:publish", LAYOUT, list(variants()), force=force)


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
