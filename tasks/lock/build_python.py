"""Which interpreter runs an sdist build while locking: one of the variant's minor version.

A build backend that runs on the host's Python reports the host's metadata (and may reach
the network from the wrong interpreter). Locking therefore builds with the variant's
``major.minor``: ``$RUNENV_BUILD_PYTHON``, else one uv finds (PATH, uv-managed), else one
pyenv installed. When none is found, builds are disabled and a lock that needs one fails
with a message saying how to provide the interpreter.
"""

from __future__ import annotations

import os
from functools import cache
from pathlib import Path

from tasks.errors import RunenvError
from tasks.model.platforms import major_minor
from tasks.plumbing.commands import run_command, uv_binary

BUILD_PYTHON_VARIABLE = "RUNENV_BUILD_PYTHON"


def minor_of(python_version: str) -> str:
    return major_minor(python_version)


def version_of(executable: str) -> str | None:
    try:
        done = run_command(
            [executable, "-c", "import sys; print('%d.%d' % sys.version_info[:2])"],
            "a build interpreter",
            30,
            check=False,
        )
    except RunenvError:
        return None
    return done.stdout.strip() if done.returncode == 0 else None


def found_by_uv(minor: str) -> str | None:
    done = run_command(
        [uv_binary(), "python", "find", "--no-python-downloads", "--no-project", minor], "a build interpreter", 60,
        check=False,
    )  # fmt: skip
    return done.stdout.strip() or None if done.returncode == 0 else None


def found_by_pyenv(minor: str) -> str | None:
    root = Path(os.environ.get("PYENV_ROOT", Path.home() / ".pyenv")) / "versions"
    candidates = sorted(root.glob(f"{minor}.*/bin/python{minor}"), key=lambda p: p.parts[-3])
    return str(candidates[-1]) if candidates else None


@cache
def build_python(python_version: str) -> str | None:
    """An interpreter of the variant's minor version, or None."""
    minor = minor_of(python_version)
    configured = os.environ.get(BUILD_PYTHON_VARIABLE)
    for candidate in (configured, found_by_uv(minor), found_by_pyenv(minor)):
        if candidate and version_of(candidate) == minor:
            return candidate
    return None


def missing_message(variant: str, python_version: str, name: str) -> str:
    minor = minor_of(python_version)
    return (
        f"lock {variant}: resolving {name} needs an sdist build, and builds while locking run on Python "
        f"{minor} (the variant's), which this machine lacks: install it (e.g. `pyenv install {minor}`) "
        f"or set {BUILD_PYTHON_VARIABLE} to a python{minor}"
    )
