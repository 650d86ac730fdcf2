"""build:<variant>-<platform> — everything one cell needs, as one name to type; and new_variant."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from tasks.action import action
from tasks.plumbing.cells import LAYOUT, cells, unpinned_note


def cell_stages(variant_name: str, cell: str) -> list[str]:
    """The last task of each chain that a finished cell needs."""
    return [f"pack:{cell}", f"check:{cell}", f"descriptor:{variant_name}"]


def task_build() -> Iterator[dict[str, Any]]:
    """Build every variant × platform cell (doit build:<variant>-<platform> for one)."""
    yield {
        "name": None,
        "doc": "Build every variant × platform cell (doit build:<variant>-<platform> for one).",
        # `doit clean` (the default task, with its dependencies) also drops the generated catalogue.
        "clean": [action("tasks.publish.cataloguing:remove_catalogue", LAYOUT)],
    }
    for variant, platform in cells():
        cell = variant.cell(platform)
        yield {
            "name": cell,
            "doc": f"{variant.dirname} for {platform}{unpinned_note(variant)}",
            "actions": [action("tasks.build.summary:print_cell_summary", LAYOUT, variant, platform)],
            "task_dep": cell_stages(variant.name, cell),
            # Printed when the cell changed: an unchanged rebuild stays a silent no-op.
            "file_dep": [LAYOUT.cell_report(variant, platform), LAYOUT.check_report(variant, platform)],
            "clean": [action("tasks.build.clean:clean_cell", LAYOUT, variant, platform)],
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
    from tasks.action import run

    return run("tasks.build.new_variant:new_variant", LAYOUT, name, allow_unpinned)
