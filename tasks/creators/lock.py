"""lock:<variant> and upgrade:<variant> — one universal resolution per variant."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from tasks.core.layout import Variant
from tasks.creators.action import action
from tasks.creators.common import LAYOUT, variants


def lock_is_current(variant: Variant) -> bool:
    """Up to date when the committed lock records the hash of today's resolver input,
    whatever doit's DB says: a fresh clone with a committed lock never re-resolves."""
    from tasks.adapters.locking import lock_is_current as current

    return current(LAYOUT, variant)


def task_lock() -> Iterator[dict[str, Any]]:
    """Resolve each variant once for all five platforms into python-<variant>/pylock.toml."""
    for variant in variants():
        yield {
            "name": variant.name,
            "doc": f"universal lock of {variant.dirname} (committed)",
            "actions": [action("tasks.adapters.locking:write_lock", LAYOUT, variant)],
            "task_dep": [f"config:{variant.name}"],
            "uptodate": [(lock_is_current, (variant,), {})],
            "targets": [LAYOUT.lock(variant)],
        }


def task_upgrade() -> Iterator[dict[str, Any]]:
    """Re-resolve a variant to the newest versions its pins allow (rewrites pylock.toml)."""
    for variant in variants():
        yield {
            "name": variant.name,
            "doc": f"re-resolve {variant.dirname} to newer versions",
            "actions": [action("tasks.adapters.locking:write_lock", LAYOUT, variant, upgrade=True)],
            "task_dep": [f"config:{variant.name}"],
            "uptodate": [False],
        }
