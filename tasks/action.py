"""The one place where runenv errors become doit failures.

Stage functions are named as ``"module:function"`` strings and imported only when the task
runs, so describing tasks (``doit list``) never imports jsonschema, requests or boto3.
"""

from __future__ import annotations

import errno
import importlib
from typing import Any

from doit.exceptions import TaskFailed

from tasks.errors import RunenvError

OS_ERROR_HINTS = {
    errno.ENOSPC: "the disk is full: free some space (or point RUNENV_CACHE_DIR at a larger disk)",
    errno.EDQUOT: "the disk quota is exhausted: free some space",
    errno.EROFS: "the file system is read-only: build in a writable checkout",
    errno.EACCES: "permission denied: check the owner and mode of the file or its directory",
    errno.EPERM: "operation not permitted: check the owner and mode of the file or its directory",
}


def describe_os_error(exc: OSError) -> str:
    """One line naming the path, what went wrong and what to do."""
    paths = " -> ".join(str(p) for p in (exc.filename, exc.filename2) if p)
    what = exc.strerror or str(exc)
    hint = OS_ERROR_HINTS.get(exc.errno or 0, "")
    return f"{paths or 'a file operation'}: {what}" + (f"; {hint}" if hint else "")


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
