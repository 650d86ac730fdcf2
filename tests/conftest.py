"""Shared fixtures: temp copies of the repository and real doit runs inside them."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

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


def isolated_env(repo: Path, cache: Path) -> dict[str, str]:
    """The environment of a test's doit runs: its own download cache, and the shared config's
    extra registries left out (they are not reachable from this machine)."""
    shared = json.loads((repo / "configs/shared-config.json").read_text())
    left_out = {url: None for url in shared.get("registries", {}).get("additional", [])}
    return {**os.environ, "RUNENV_CACHE_DIR": str(cache), "RUNENV_INDEX_MIRRORS": json.dumps(left_out)}


@pytest.fixture
def doit(repo: Path, tmp_path: Path) -> DoitRun:
    """Run ``doit ARGS`` in the temp repo; returns the completed process (never raises)."""
    base_env = isolated_env(repo, tmp_path / "cache")

    def run(*args: str, env: dict[str, str] | None = None, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "doit", *args],
            cwd=cwd or repo,
            capture_output=True,
            text=True,
            env={**base_env, **(env or {})},
            timeout=1800,
        )

    return run


def add_variant(repo: Path, name: str, packages: dict[str, Any], **extra: Any) -> Path:
    """A test variant directory ``python-<name>/`` with its config.json."""
    directory = repo / f"python-{name}"
    directory.mkdir()
    config = {"$schema": "../configs/schema/config.schema.json", "packages": packages, **extra}
    (directory / "config.json").write_text(json.dumps(config, indent=2))
    return directory


def executed(process: subprocess.CompletedProcess[str]) -> list[str]:
    """Names of the tasks doit ran (it prints '.  name' for a run, '-- name' for up to date)."""
    return [line[3:].strip() for line in process.stdout.splitlines() if line.startswith(".  ")]
