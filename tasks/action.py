"""The one place where runenv errors become doit failures.

Stage functions are named as ``"module:function"`` strings and imported only when the task
runs, so describing tasks (``doit list``) never imports jsonschema, requests or boto3.
"""

from __future__ import annotations

import importlib
from typing import Any

from doit.exceptions import TaskFailed

from tasks.errors import RunenvError
from tasks.plumbing.files import describe_os_error


def run(target: str, *args: Any, **kwargs: Any) -> Any:
    """Import and run a stage function; a RunenvError (or an OSError, with its path) fails the
    task with one clear message instead of a traceback."""
    module_name, _, function_name = target.partition(":")
    function = getattr(importlib.import_module(module_name), function_name)
    try:
        result = function(*args, **kwargs)
    except RunenvError as exc:
        return TaskFailed(str(exc))
    except OSError as exc:
        return TaskFailed(describe_os_error(exc))
    return result if isinstance(result, dict) else None


def action(target: str, *args: Any, **kwargs: Any) -> tuple[Any, ...]:
    """A doit python-action that runs the stage function *target* through :func:`run`."""
    return (run, (target, *args), kwargs)
