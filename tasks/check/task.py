"""check:<cell> — verify each environment (static on every platform, imports on the host)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from tasks.action import action
from tasks.plumbing.cells import LAYOUT, cells, removes_targets, signed_cell


@removes_targets
def task_check() -> Iterator[dict[str, Any]]:
    """Verify each environment: linkage, minimum OS and completeness on every platform; on the
    host also an offline install and an import of every module."""
    for variant, platform in cells():
        whitelist = LAYOUT.whitelist(platform)
        yield {
            "name": variant.cell(platform),
            "actions": [action("tasks.check.check:check_cell", LAYOUT, variant, platform)],
            "file_dep": [
                LAYOUT.env_manifest(variant, platform),
                LAYOUT.configs / "system-libraries.json",
                *([whitelist] if whitelist.is_file() else []),
            ],
            "task_dep": [f"sign:{variant.cell(platform)}"] if signed_cell(variant, platform) else [],
            "targets": [LAYOUT.check_report(variant, platform)],
            "clean": True,
        }
