"""Shared fixtures: temp copies of the repository and real doit runs inside them."""

from __future__ import annotations

import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
IGNORED = shutil.ignore_patterns(
    ".git", ".venv", ".doit.db*", "__pycache__", "*_cache", "build", "pydist", "dist", ".registry"
)


def copy_repo(destination: Path) -> Path:
    """A fresh copy of the checkout's sources (no outputs, no git, no venv)."""
    shutil.copytree(REPO, destination, ignore=IGNORED)
    return destination


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    return copy_repo(tmp_path / "repo")


DoitRun = Callable[..., subprocess.CompletedProcess[str]]


@pytest.fixture
def doit(repo: Path) -> DoitRun:
    """Run ``doit ARGS`` in the temp repo; returns the completed process (never raises)."""

    def run(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "doit", *args],
            cwd=repo,
            capture_output=True,
            text=True,
            env=env,
            timeout=1800,
        )

    return run


def executed(process: subprocess.CompletedProcess[str]) -> list[str]:
    """Names of the tasks doit ran (it prints '.  name' for a run, '-- name' for up to date)."""
    return [line[3:].strip() for line in process.stdout.splitlines() if line.startswith(".  ")]
