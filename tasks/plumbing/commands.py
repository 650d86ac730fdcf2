"""External commands with one kind of failure: a RunenvError naming the step, the command
and the tail of its output (or the build.timeout it ran over), never a raw traceback."""

from __future__ import annotations

import signal
import subprocess
from collections.abc import Mapping, Sequence
from functools import cache
from pathlib import Path
from typing import Any

from tasks.errors import BuildError, RunenvError

TAIL_LINES = 15


def shown(command: Sequence[Any]) -> str:
    return " ".join(Path(str(command[0])).name if i == 0 else str(part) for i, part in enumerate(command))


def tail(text: str | bytes | None) -> list[str]:
    if isinstance(text, bytes):
        text = text.decode(errors="replace")
    return (text or "").strip().splitlines()[-TAIL_LINES:]


def exit_status(code: int) -> str:
    if code < 0:
        try:
            return f"was killed by {signal.Signals(-code).name}"
        except ValueError:
            return f"was killed by signal {-code}"
    return f"exited with status {code}"


def run_command(
    command: Sequence[Any],
    step: str,
    timeout: float | None,
    *,
    cwd: Path | None = None,
    env: Mapping[str, str] | None = None,
    text: bool = True,
    check: bool = True,
    error: type[RunenvError] = BuildError,
    described: str | None = None,
) -> subprocess.CompletedProcess[Any]:
    """Run *command*, the one way runenv runs a program: a missing program, a timeout or (with
    *check*) a failure raises *error* naming the step, the command (or *described*) and the
    tail of its output. A timeout's error has ``timed_out`` set."""
    what = described or f"`{shown(command)}`"
    try:
        done = subprocess.run(
            [str(part) for part in command], cwd=cwd, env=env, capture_output=True, text=text, timeout=timeout
        )
    except (FileNotFoundError, PermissionError):
        raise error(f"{step}: {command[0]} is not installed (needed for {what})") from None
    except subprocess.TimeoutExpired:
        failure = error(
            f"{step}: {what} exceeded build.timeout ({timeout:g} s); raise build.timeout in the config if this "
            "step is legitimately slow"
        )
        failure.timed_out = True
        raise failure from None
    if check and done.returncode != 0:
        output = tail(done.stderr) or tail(done.stdout)
        raise error(
            f"{step}: `{shown(command)}` {exit_status(done.returncode)}" + "".join(f"\n  | {line}" for line in output)
        )
    return done


@cache
def uv_binary() -> str:
    """uv's executable. Found once: the lookup reads sysconfig, whose first use is not thread-safe."""
    from uv import find_uv_bin

    return str(find_uv_bin())
