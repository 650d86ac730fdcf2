"""lock:<variant> and upgrade:<variant> — one universal resolution per variant."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from tasks.action import action
from tasks.model.layout import Variant
from tasks.plumbing.cells import LAYOUT, variants


def lock_is_current(variant: Variant) -> bool:
    """Up to date when the committed lock records the hash of today's resolver input,
    whatever doit's DB says: a fresh clone with a committed lock never re-resolves."""
    from tasks.lock.lock import lock_is_current as current

    return current(LAYOUT, variant)


def task_lock() -> Iterator[dict[str, Any]]:
    """Resolve each variant once for all five platforms into python-<variant>/pylock.toml."""
    for variant in variants():
        yield {
            "name": variant.name,
            "doc": f"universal lock of {variant.dirname} (committed)",
            "actions": [action("tasks.lock.lock:write_lock", LAYOUT, variant)],
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
            "actions": [action("tasks.lock.lock:write_lock", LAYOUT, variant, upgrade=True)],
            "task_dep": [f"config:{variant.name}"],
            "uptodate": [False],
        }
