"""Fixtures of the catalogue, publish and consumer tests: one repository with two test
variants built for all five platforms, shared by the session (each test copies it).

The host cell runs on the machine's own CPython; the four foreign cells on layout-only
stand-ins with the real folder shape of python-build-standalone archives (those interpreters
can neither run nor be downloaded here).
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tasks.model.platforms import PLATFORM_KEYS
from tasks.plumbing.archive import pack
from tasks.plumbing.cache import sha256_of
from tests.conftest import StaticServer, add_variant, copy_repo, isolated_env

HOST = "linux-x64"


def stand_in(work: Path, windows: bool, minor: str) -> Path:
    tree = work / ("win" if windows else "unix") / "python"
    names = (
        ["python.exe", "Lib/venv/__init__.py", "Lib/site-packages/README"]
        if windows
        else ["bin/python3", f"lib/python{minor}/os.py", f"lib/python{minor}/site-packages/README"]
    )
    for name in names:
        (tree / name).parent.mkdir(parents=True, exist_ok=True)
        (tree / name).write_text("layout-only stand-in\n")
    archive = work / "served" / f"{'win' if windows else 'unix'}.tar.gz"
    pack(tree.parent, archive, 0, 1)
    return archive


@pytest.fixture(scope="session")
def built(tmp_path_factory: pytest.TempPathFactory, machine_python: Any) -> tuple[Path, dict[str, str]]:
    """A repository copy holding only two test variants, every cell built."""
    work = tmp_path_factory.mktemp("catalogue")
    repo = work / "repo"
    copy_repo(repo)
    for variant in repo.glob("python-*"):
        shutil.rmtree(variant)
    minor = ".".join(machine_python.version.split(".")[:2])
    archives = {True: stand_in(work, True, minor), False: stand_in(work, False, minor)}
    server = StaticServer(work / "served")
    host_entry = {"url": f"{machine_python.server.url}/{machine_python.archive.name}", "sha256": machine_python.sha256}
    entries = {
        p: (
            {
                "url": f"{server.url}/{archives[p.startswith('windows')].name}",
                "sha256": sha256_of(archives[p.startswith("windows")]),
            }
            if p != HOST
            else host_entry
        )
        for p in PLATFORM_KEYS
    }
    (work / "pythons.json").write_text(json.dumps({"versions": {machine_python.version: entries}}))
    add_variant(
        repo, f"{machine_python.version}-a", {"dependencies": ["six==1.17.0"]}, envVars=["RUNENV_CONSUMER_MARK=a-1"]
    )
    add_variant(repo, f"{machine_python.version}-b", {"dependencies": ["six==1.17.0"]})
    env = {**isolated_env(repo, work / "cache"), "RUNENV_PYTHONS": str(work / "pythons.json")}
    done = subprocess.run(
        [sys.executable, "-m", "doit", "-n", "2", "build"], cwd=repo, env=env, capture_output=True, text=True
    )
    server.stop()
    assert done.returncode == 0, done.stdout + done.stderr
    return repo, env


@pytest.fixture
def repo_env(built: tuple[Path, dict[str, str]], tmp_path: Path) -> tuple[Path, dict[str, str]]:
    repo = tmp_path / "repo"
    shutil.copytree(built[0], repo, symlinks=True)
    return repo, dict(built[1])


def run(repo: Path, env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "doit", *args], cwd=repo, env=env, capture_output=True, text=True)
