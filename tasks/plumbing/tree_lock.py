"""One doit run per checkout: a second one waits briefly, then exits naming the holder's PID.

The lock (the ``filelock`` package, an OS file lock released when the process ends, however
it ends) is taken when doit loads ``dodo.py``; commands that only read (``list``, ``info``,
``help``…) do not take it. ``doit -n N`` inside one process shares it with its workers.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

from tasks.plumbing.files import describe_os_error

LOCK_FILE = ".runenv.lock"
WAIT_VARIABLE = "RUNENV_LOCK_WAIT"
READ_ONLY_COMMANDS = frozenset({"list", "info", "help", "dumpdb", "tabcompletion", "strace"})
held: list[Any] = []  # keeps the lock object (and so the lock) alive for the whole run


def run_by_doit(argv: list[str]) -> bool:
    entry = Path(argv[0]) if argv else Path()
    return entry.name == "doit" or entry.parent.name == "doit"


def needs_lock(argv: list[str]) -> bool:
    """doit runs that may write: every command but the read-only ones."""
    first = next((arg for arg in argv[1:] if not arg.startswith("-")), None)
    return run_by_doit(argv) and first not in READ_ONLY_COMMANDS


def hold_tree_lock(root: Path, argv: list[str] | None = None) -> None:
    """Take the checkout's lock for this process, or exit with one line naming who holds it."""
    argv = sys.argv if argv is None else argv
    if not needs_lock(argv) or held:
        return
    from filelock import FileLock, Timeout

    wait = float(os.environ.get(WAIT_VARIABLE, "5"))
    lock = FileLock(root / LOCK_FILE, timeout=wait)
    pid_file = root / f"{LOCK_FILE}.pid"
    try:
        lock.acquire()
        pid_file.write_text(f"{os.getpid()}\n")
    except Timeout:
        holder = pid_file.read_text().strip() if pid_file.is_file() else "unknown"
        print(
            f"runenv: another doit run (PID {holder}) is working in {root.resolve()}; waited {wait:g} s. "
            "Let it finish (or stop it), then run again",
            file=sys.stderr,
        )
        raise SystemExit(1) from None
    except OSError as exc:  # a read-only checkout, a full disk
        print(f"runenv: cannot take the tree's lock: {describe_os_error(exc)}", file=sys.stderr)
        raise SystemExit(1) from None
    held.append(lock)
