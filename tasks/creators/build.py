"""build:<variant>-<platform> — everything one cell needs, as one name to type."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from tasks.creators.action import action
from tasks.creators.common import LAYOUT, cells, unpinned_note


def cell_stages(variant_name: str, cell: str) -> list[str]:
    """The last task of each chain that a finished cell needs."""
    return [f"pack:{cell}", f"check:{cell}", f"descriptor:{variant_name}"]


def task_build() -> Iterator[dict[str, Any]]:
    """Build every variant × platform cell (doit build:<variant>-<platform> for one)."""
    yield {
        "name": None,
        "doc": "Build every variant × platform cell (doit build:<variant>-<platform> for one).",
        # `doit clean` (the default task, with its dependencies) also drops the generated catalogue.
        "clean": [action("tasks.adapters.cataloguing:remove_catalogue", LAYOUT)],
    }
    for variant, platform in cells():
        cell = variant.cell(platform)
        yield {
            "name": cell,
            "doc": f"{variant.dirname} for {platform}{unpinned_note(variant)}",
            "actions": [action("tasks.adapters.build_summary:print_cell_summary", LAYOUT, variant, platform)],
            "task_dep": cell_stages(variant.name, cell),
            # Printed when the cell changed: an unchanged rebuild stays a silent no-op.
            "file_dep": [LAYOUT.cell_report(variant, platform), LAYOUT.check_report(variant, platform)],
            "clean": [action("tasks.adapters.cleaning:clean_cell", LAYOUT, variant, platform)],
        }
