"""fetch:<variant>-<platform> — the cell's files into the shared cache and its wheelhouse."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from tasks.action import action
from tasks.plumbing.cells import LAYOUT, cells, removes_targets


@removes_targets
def task_fetch() -> Iterator[dict[str, Any]]:
    """Download each cell's selected files (parallel, SHA-256 verified, cached)."""
    for variant, platform in cells():
        yield {
            "name": variant.cell(platform),
            "doc": f"{variant.dirname} wheelhouse for {platform}",
            "actions": [action("tasks.fetch.fetch:fetch_cell", LAYOUT, variant, platform)],
            "file_dep": [LAYOUT.cell_report(variant, platform), LAYOUT.cell_requirements(variant, platform)],
            "targets": [
                LAYOUT.fetch_manifest(variant, platform),
                LAYOUT.wheelhouse(variant, platform) / "requirements.txt",
            ],
            "clean": True,
        }


def task_clear_cache() -> dict[str, Any]:
    """Empty the shared download cache ($RUNENV_CACHE_DIR, default ~/.cache/runenv)."""
    return {"actions": [action("tasks.fetch.fetch:clear_cache")], "uptodate": [False]}
