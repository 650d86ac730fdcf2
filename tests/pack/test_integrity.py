"""Integrity findings 1–3 of the adversarial review, through real doit builds on the machine's CPython.

1. A re-fetch (forced, or after an interrupted run) must not change the archive.
2. A cached wheel corrupted in place must not ship; the build notices and restores it.
3. copyFiles must not read from outside the variant or write outside the environment,
   into packages/ (hard links into the shared cache) or over the interpreter.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest

from tasks.model import platforms
from tasks.plumbing.cache import sha256_of
from tests.conftest import REPO, DoitRun, add_variant, executed

pytestmark = pytest.mark.network
HOST = "linux-x64"
PLATFORMS = platforms.load(REPO / "configs/platforms.json")
WHEEL = "six-1.17.0-py2.py3-none-any.whl"


def build(doit: DoitRun, machine_python: Any, tmp_path: Path, variant: str, *extra: str) -> Any:
    env = {"RUNENV_PYTHONS": str(machine_python.pythons_file(tmp_path / "pythons.json", HOST))}
    return doit(*extra, f"build:{variant}-{HOST}", env=env)


def archive_of(repo: Path, variant: str) -> Path:
    platform = PLATFORMS[HOST]
    return repo / f"python-{variant}/archives/1.0.0-{platform.os}-{platform.arch}.tgz"


@pytest.fixture
def built(doit: DoitRun, repo: Path, machine_python: Any, tmp_path: Path) -> tuple[str, str]:
    variant = f"{machine_python.version}-integrity"
    add_variant(repo, variant, {"dependencies": ["six==1.17.0"]})
    done = build(doit, machine_python, tmp_path, variant)
    assert done.returncode == 0, done.stdout + done.stderr
    return variant, sha256_of(archive_of(repo, variant))


def wheelhouse(repo: Path, variant: str) -> Path:
    return repo / f"python-{variant}/pydist/{HOST}/packages"


def test_a_forced_refetch_leaves_no_temp_link_and_the_same_archive(
    doit: DoitRun, repo: Path, machine_python: Any, tmp_path: Path, built: tuple[str, str]
) -> None:
    variant, first = built
    assert doit("-a", f"fetch:{variant}-{HOST}").returncode == 0
    assert sorted(p.name for p in wheelhouse(repo, variant).iterdir()) == ["requirements.txt", WHEEL]
    assert build(doit, machine_python, tmp_path, variant, "-a").returncode == 0, "a forced full rebuild"
    assert sha256_of(archive_of(repo, variant)) == first


def test_an_interrupted_fetch_then_resumed_build_gives_the_same_archive(
    doit: DoitRun, repo: Path, machine_python: Any, tmp_path: Path, built: tuple[str, str]
) -> None:
    """What a run killed while linking leaves behind: a hidden temp link beside the wheel."""
    variant, first = built
    packages = wheelhouse(repo, variant)
    os.link(packages / WHEEL, packages / f".{WHEEL}.12345-1.tmp")
    (repo / f"python-{variant}/build/{HOST}/fetch.json").unlink()
    resumed = build(doit, machine_python, tmp_path, variant)
    assert resumed.returncode == 0, resumed.stdout + resumed.stderr
    assert sorted(p.name for p in packages.iterdir()) == ["requirements.txt", WHEEL]
    assert sha256_of(archive_of(repo, variant)) == first


def test_a_cache_file_corrupted_in_place_is_restored_not_shipped(
    doit: DoitRun, repo: Path, machine_python: Any, tmp_path: Path, built: tuple[str, str]
) -> None:
    variant, first = built
    manifest = json.loads((repo / f"python-{variant}/pydist/{HOST}/runenv.json").read_text())
    digest = manifest["packages"][0]["sha256"]
    cached = tmp_path / "cache/sha256" / digest[:2] / digest
    assert cached.stat().st_mode & 0o777 == 0o444, "verified cache files are read-only"
    assert os.path.samefile(cached, wheelhouse(repo, variant) / WHEEL)
    with cached.open("r+b") as stream:  # bit rot, as root can write a read-only file
        stream.seek(100)
        stream.write(b"\0" * 16)
    rebuilt = build(doit, machine_python, tmp_path, variant)
    assert rebuilt.returncode == 0, rebuilt.stdout + rebuilt.stderr
    assert f"pack:{variant}-{HOST}" in executed(rebuilt), "the corruption is noticed: not everything is up to date"
    assert f"wheelhouse file {WHEEL}: sha256 " in rebuilt.stdout
    assert sha256_of(wheelhouse(repo, variant) / WHEEL) == digest
    assert sha256_of(archive_of(repo, variant)) == first
    again = build(doit, machine_python, tmp_path, variant)
    assert executed(again) == [], "and then it is a no-op again"


def copy_variant(repo: Path, machine_python: Any, name: str, entries: list[dict[str, str]]) -> str:
    variant = f"{machine_python.version}-{name}"
    add_variant(repo, variant, {"dependencies": ["six==1.17.0"], "copyFiles": entries})
    return variant


def test_copy_files_refuses_a_source_link_that_leaves_the_variant(
    doit: DoitRun, repo: Path, machine_python: Any, tmp_path: Path
) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("outside the project\n")
    variant = copy_variant(repo, machine_python, "leak", [{"from": "extra/", "to": "share/"}])
    (repo / f"python-{variant}/extra").mkdir()
    (repo / f"python-{variant}/extra/leak.txt").symlink_to(secret)
    done = build(doit, machine_python, tmp_path, variant)
    assert done.returncode != 0
    assert (
        f"python-{variant}/config.json: copyFiles from 'extra/': extra/leak.txt links to {secret.resolve()}, "
        f"outside {(repo / f'python-{variant}').resolve()}; copy the file itself instead"
    ) in done.stdout
    assert not archive_of(repo, variant).exists()


def test_copy_files_follows_an_inside_link_as_a_copy(
    doit: DoitRun, repo: Path, machine_python: Any, tmp_path: Path
) -> None:
    variant = copy_variant(repo, machine_python, "inlink", [{"from": "extra/", "to": "share/"}])
    extra = repo / f"python-{variant}/extra"
    extra.mkdir()
    (extra / "real.txt").write_text("data\n")
    (extra / "alias.txt").symlink_to("real.txt")
    assert build(doit, machine_python, tmp_path, variant).returncode == 0
    copied = repo / f"python-{variant}/pydist/{HOST}/share/alias.txt"
    assert not copied.is_symlink() and copied.read_text() == "data\n"


@pytest.mark.parametrize("to", [f"packages/{WHEEL}", "runenv.json", "bin/python3"])
def test_copy_files_never_writes_over_what_runenv_owns(
    doit: DoitRun, repo: Path, machine_python: Any, tmp_path: Path, to: str
) -> None:
    variant = copy_variant(repo, machine_python, "owned", [{"from": "payload.txt", "to": to}])
    (repo / f"python-{variant}/payload.txt").write_text("payload\n")
    done = build(doit, machine_python, tmp_path, variant)
    assert done.returncode != 0
    assert (
        f"python-{variant}/config.json: copyFiles from 'payload.txt': refusing to write {to}: copyFiles may not "
        "replace packages/, runenv.json or the interpreter's own files; choose another 'to'"
    ) in done.stdout
    for cached in (tmp_path / "cache/sha256").rglob("*"):
        if cached.is_file():
            assert sha256_of(cached) == cached.name, "nothing was written through a link into the cache"


def test_a_copied_directory_with_a_link_out_lets_no_later_entry_write_outside(
    doit: DoitRun, repo: Path, machine_python: Any, tmp_path: Path
) -> None:
    entries = [{"from": "tree/", "to": "share/"}, {"from": "payload.txt", "to": "share/escape/x.txt"}]
    variant = copy_variant(repo, machine_python, "dirlink", entries)
    directory = repo / f"python-{variant}"
    outside = tmp_path / "outside"
    outside.mkdir()
    (directory / "tree").mkdir()
    (directory / "tree/escape").symlink_to(outside)
    (directory / "payload.txt").write_text("payload\n")
    done = build(doit, machine_python, tmp_path, variant)
    assert done.returncode != 0
    assert f"links to {outside.resolve()}, outside" in done.stdout
    assert list(outside.iterdir()) == []
