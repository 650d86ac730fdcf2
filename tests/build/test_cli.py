"""The CLI as the design card types it: the plain `doit` console script of an activated venv,
not `python -m doit` (which finds runenv only because it puts the current directory first)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import add_variant, isolated_env

HOST = "linux-x64"
SCRIPT = Path(sys.executable).with_name("doit")


def console(repo: Path, tmp_path: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    """`doit ARGS` as typed in an activated venv: the venv's bin/ on PATH, run from the checkout."""
    environment = isolated_env(repo, tmp_path / "cache")
    environment.update(
        env, PATH=f"{SCRIPT.parent}{os.pathsep}{environment.get('PATH', '')}", VIRTUAL_ENV=str(SCRIPT.parents[1])
    )
    environment.pop("PYTHONPATH", None)
    return subprocess.run(["doit", *args], cwd=repo, env=environment, capture_output=True, text=True, timeout=900)


def test_list_info_and_clean_from_the_console_script(repo: Path, tmp_path: Path) -> None:
    assert SCRIPT.is_file(), "runenv's venv has doit's console script"
    listed = console(repo, tmp_path, "list")
    assert listed.returncode == 0, listed.stderr
    table = listed.stdout.splitlines()
    assert table[0].split() == ["variant", "linux-x64", "linux-arm64", "macos-x64", "macos-arm64", "win-x64"]
    assert table[1].split() == ["3.10.11", *["unbuilt"] * 5]
    everything = console(repo, tmp_path, "list", "--all")
    assert everything.returncode == 0 and "build:3.12.10-linux-x64" in everything.stdout.split()
    info = console(repo, tmp_path, "info", "build:3.12.10-linux-x64")
    assert (info.returncode, info.stdout.splitlines()[-1]) == (1, "cell 3.12.10-linux-x64: unbuilt")
    cleaned = console(repo, tmp_path, "clean")
    assert (cleaned.returncode, cleaned.stdout, "Traceback" in cleaned.stderr) == (0, "", False)


@pytest.mark.network
def test_a_cell_builds_and_cleans_from_the_console_script(repo: Path, tmp_path: Path, machine_python: Any) -> None:
    variant = f"{machine_python.version}-cli"
    add_variant(repo, variant, {"dependencies": ["six==1.17.0"]}, build={"enableLogging": True})
    pythons = str(machine_python.pythons_file(tmp_path / "pythons.json", HOST))
    built = console(repo, tmp_path, f"build:{variant}-{HOST}", RUNENV_PYTHONS=pythons)
    assert built.returncode == 0, built.stdout[-3000:] + built.stderr[-3000:]
    assert (repo / f"python-{variant}/archives/1.0.0-linux-x64.tgz").is_file()
    log = (repo / f"python-{variant}/build/{HOST}/build.log").read_text()
    stages = [line.split(" ", 2)[2].split()[0] for line in log.splitlines() if " == " in line]
    assert sorted(stages) == ["assemble", "base", "check", "fetch", "pack", "select"], "every stage of the cell"
    assert f"{variant}-{HOST}: check passed" in log and "pack done" in log
    info = console(repo, tmp_path, "info", f"build:{variant}-{HOST}", RUNENV_PYTHONS=pythons)
    assert (info.returncode, info.stdout.splitlines()[-1]) == (0, f"cell {variant}-{HOST}: built"), info.stdout
    cleaned = console(repo, tmp_path, "clean", f"build:{variant}-{HOST}", RUNENV_PYTHONS=pythons)
    assert cleaned.returncode == 0, cleaned.stderr
    assert f"removed python-{variant}/archives/1.0.0-linux-x64.tgz" in cleaned.stdout.splitlines()
    assert not (repo / f"python-{variant}/archives/1.0.0-linux-x64.tgz").exists()
