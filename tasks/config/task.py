"""config:<variant> — validate and merge a variant's config into build/config.json."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from tasks.action import action
from tasks.plumbing.cells import LAYOUT, removes_targets, unpinned_note, variants

# The merge and validation rules, as the checkout holds them: a change to them re-runs config.
CODE = [LAYOUT.root / "tasks" / path for path in ("config/merge.py", "config/validate.py", "model/floors.py")]


@removes_targets
def task_config() -> Iterator[dict[str, Any]]:
    """Validate and merge configs/shared-config.json with each python-<variant>/config.json."""
    for variant in variants():
        yield {
            "name": variant.name,
            "doc": f"merged config of {variant.dirname}{unpinned_note(variant)}",
            "actions": [action("tasks.config.merged:write_merged_config", LAYOUT, variant)],
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
