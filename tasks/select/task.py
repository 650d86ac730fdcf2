"""select:<variant>-<platform> — one artifact per package for one platform."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from tasks.action import action
from tasks.plumbing.cells import LAYOUT, cells, removes_targets


@removes_targets
def task_select() -> Iterator[dict[str, Any]]:
    """Pick each cell's files from the universal lock (pure, no network)."""
    for variant, platform in cells():
        yield {
            "name": variant.cell(platform),
            "doc": f"{variant.dirname} files for {platform}",
            "actions": [action("tasks.select.select:select_cell", LAYOUT, variant, platform)],
            "task_dep": [f"lock:{variant.name}"],
            "file_dep": [LAYOUT.lock(variant), LAYOUT.merged_config(variant), LAYOUT.platforms],
            "targets": [
                LAYOUT.cell_lock(variant, platform),
                LAYOUT.cell_requirements(variant, platform),
                LAYOUT.cell_report(variant, platform),
            ],
            "clean": True,
        }
