"""The one place where runenv errors become doit failures."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from doit.exceptions import TaskFailed

from tasks.errors import RunenvError


def run(function: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    """Run a stage function as a doit python-action; a RunenvError fails the task cleanly."""
    try:
        result = function(*args, **kwargs)
    except RunenvError as exc:
        return TaskFailed(str(exc))
    return result if isinstance(result, dict) else None


def action(function: Callable[..., Any], *args: Any, **kwargs: Any) -> tuple[Any, ...]:
    """A doit action tuple that runs *function* through :func:`run`."""
    return (run, (function, *args), kwargs)
