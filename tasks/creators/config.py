"""config:<variant> — validate and merge a variant's config into build/config.json."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from tasks.creators.action import action
from tasks.creators.common import LAYOUT, removes_targets, unpinned_note, variants

CODE = [LAYOUT.root / "tasks" / "core" / name for name in ("merge.py", "validate.py", "floors.py")]


@removes_targets
def task_config() -> Iterator[dict[str, Any]]:
    """Validate and merge configs/shared-config.json with each python-<variant>/config.json."""
    for variant in variants():
        yield {
            "name": variant.name,
            "doc": f"merged config of {variant.dirname}{unpinned_note(variant)}",
            "actions": [action("tasks.adapters.config_files:write_merged_config", LAYOUT, variant)],
            "file_dep": [
                LAYOUT.shared_config,
                *(p for p in (LAYOUT.variant_config(variant), LAYOUT.package_json(variant)) if p.is_file()),
                LAYOUT.schema,
                LAYOUT.platforms,
                *CODE,
            ],
            "targets": [LAYOUT.merged_config(variant)],
            "clean": True,
        }
