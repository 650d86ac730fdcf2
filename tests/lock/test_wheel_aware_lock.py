"""Issue 11: every platform gets the best version that has a wheel, pins without one are
errors, and nothing is built on the host's Python while locking. Real doit runs, real uv,
a local PEP 503 index on loopback for the fork case and the default index for the rest."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tasks.model import toml
from tests.conftest import DoitRun, LocalIndex, add_variant, executed, make_sdist, make_wheel

NO_WHEEL = "missing: no version has a wheel for this platform (at its floor)"
FORKY_2_TAGS = (
    "py3-none-manylinux_2_17_x86_64",
    "py3-none-manylinux_2_17_aarch64",
    "py3-none-win_amd64",
    "py3-none-macosx_14_0_arm64",  # above the macOS 13.0 floor
)


def fork_index(tmp_path: Path) -> LocalIndex:
    """forky 2.0 has no wheel for macOS (x86_64: none; arm64: only above the floor) and
    needs helper 2; forky 1.0 is pure and needs helper 1; onlylinux has one Linux wheel."""
    wheels = tmp_path / "wheels"
    made = [make_wheel(wheels, "forky", "2.0", tag, ["helper>=2"]) for tag in FORKY_2_TAGS]
    made += [
        make_wheel(wheels, "forky", "1.0", "py3-none-any", ["helper<2"]),
        make_wheel(wheels, "helper", "1.0", "py3-none-any"),
        make_wheel(wheels, "helper", "2.0", "py3-none-any"),
        make_wheel(wheels, "onlylinux", "1.0", "py3-none-manylinux_2_17_x86_64"),
    ]
    return LocalIndex(tmp_path / "index", made)


def cell(repo: Path, variant: str, platform: str, name: str) -> Any:
    return json.loads((repo / f"python-{variant}/build/{platform}/{name}").read_text())


def chosen(repo: Path, variant: str, platform: str) -> dict[str, str]:
    lock = toml.loads((repo / f"python-{variant}/build/{platform}/pylock.toml").read_text())
    return {p["name"]: p["version"] for p in lock["packages"]}


def test_a_package_without_a_wheel_for_a_platform_forks_there_only(repo: Path, doit: DoitRun, tmp_path: Path) -> None:
    index = fork_index(tmp_path)
    add_variant(repo, "3.12.1-forks", {"dependencies": ["forky", "onlylinux"]}, registries={"additional": [index.url]})
    platforms = ("linux-x64", "macosx-x64", "macosx-aarch64", "windows-x64")
    done = doit(*(f"select:3.12.1-forks-{p}" for p in platforms))
    index.server.stop()
    assert done.returncode == 0, done.stdout + done.stderr
    assert "falling back" not in done.stdout + done.stderr
    lock = toml.loads((repo / "python-3.12.1-forks/pylock.toml").read_text())
    assert lock["tool"]["runenv"]["notes"] == [
        "forked forky: 2.0 on linux-x64, linux-aarch64, windows-x64; 1.0 on macosx-x64, macosx-aarch64 "
        "(2.0 has no wheel for macosx-aarch64, macosx-x64)",
        "forked helper: 2.0 on linux-x64, linux-aarch64, windows-x64; 1.0 on macosx-x64, macosx-aarch64 "
        "(on macosx-x64, macosx-aarch64 its dependents require it, or other forks do)",
        "onlylinux: no version has a wheel for linux-aarch64, macosx-aarch64, macosx-x64, windows-x64; missing there",
    ]
    forky_2 = next(p for p in lock["packages"] if p["name"] == "forky" and p["version"] == "2.0")
    assert forky_2["dependencies"] == [{"name": "helper", "version": "2.0"}]
    assert chosen(repo, "3.12.1-forks", "linux-x64") == {"forky": "2.0", "helper": "2.0", "onlylinux": "1.0"}
    for platform in ("macosx-x64", "macosx-aarch64"):
        assert chosen(repo, "3.12.1-forks", platform) == {"forky": "1.0", "helper": "1.0"}
    assert chosen(repo, "3.12.1-forks", "windows-x64") == {"forky": "2.0", "helper": "2.0"}
    assert cell(repo, "3.12.1-forks", "windows-x64", "report.json")["missingTopLevel"] == [
        {"name": "onlylinux", "version": "", "reason": NO_WHEEL}
    ]
    assert (
        "  MISSING top-level dependency onlylinux on 3.12.1-forks-windows-x64: no version has a wheel for this "
        "platform (at its floor)"
    ) in done.stdout


@pytest.mark.network
def test_a_top_level_pin_without_a_wheel_names_the_nearest_versions(repo: Path, doit: DoitRun) -> None:
    """biopython 1.87 publishes no macOS x86_64 wheel: under strictMissing an error, not a warning."""
    strict = {"strictMissing": True}
    add_variant(repo, "3.12.1-bio", {"dependencies": ["six==1.17.0", "biopython==1.87"], "resolution": strict})
    failed = doit("lock:3.12.1-bio")
    output = failed.stdout + failed.stderr
    assert failed.returncode != 0
    assert "lock 3.12.1-bio: top-level pins without a wheel for a platform:" in output
    assert (
        "  - packages.dependencies[1] (biopython==1.87): biopython==1.87 has no wheel for macosx-x64 (macOS 13.0); "
        "nearest versions with one: 1.86"
    ) in output, output
    assert "Traceback" not in output and "falling back" not in output
    assert not (repo / "python-3.12.1-bio/pylock.toml").exists()
    config = repo / "python-3.12.1-bio/config.json"
    document = json.loads(config.read_text())
    document["packages"]["skip"] = {"biopython": {"macosx-x64": "no Intel macOS wheels since 1.87"}}
    config.write_text(json.dumps(document))
    assert doit("lock:3.12.1-bio").returncode == 0, "a skip rule covers the platform"


@pytest.mark.network
def test_a_package_with_no_wheel_for_a_platform_is_missing_there(repo: Path, doit: DoitRun) -> None:
    """pywin32 ships Windows wheels only: missing elsewhere, as the old builder reported it."""
    add_variant(repo, "3.12.1-win", {"dependencies": ["six==1.17.0", "pywin32"]})
    done = doit("select:3.12.1-win-linux-x64", "select:3.12.1-win-windows-x64")
    assert done.returncode == 0, done.stdout + done.stderr
    assert cell(repo, "3.12.1-win", "linux-x64", "report.json")["missingTopLevel"] == [
        {"name": "pywin32", "version": "", "reason": NO_WHEEL}
    ]
    assert "pywin32" in chosen(repo, "3.12.1-win", "windows-x64")


def version_reporting_sdist(directory: Path) -> Path:
    """pyver 1.0: an sdist whose build fails, saying which Python runs it."""
    setup = "import sys\nraise RuntimeError('built on Python %d.%d' % sys.version_info[:2])\n"
    return make_sdist(directory, "pyver", "1.0", setup)


@pytest.mark.network  # setuptools, for the build
def test_locking_builds_nothing_on_the_hosts_python(repo: Path, doit: DoitRun, tmp_path: Path) -> None:
    """Without a source rule an sdist is never built while locking; with one, it is built
    on the variant's Python version (3.12 here; the test runner's may differ)."""
    index = LocalIndex(tmp_path / "index", [version_reporting_sdist(tmp_path / "s")])
    add_variant(repo, "3.12.1-nobuild", {"dependencies": ["pyver==1.0"]}, registries={"additional": [index.url]})
    refused = doit("lock:3.12.1-nobuild")
    output = refused.stdout + refused.stderr
    assert refused.returncode != 0
    assert (
        "lock 3.12.1-nobuild: packages.dependencies[0] (pyver==1.0): no version of pyver has a wheel for the target "
        "platforms, and no source rule lets it ship as an sdist: add it to packages.resolution.allowSourceList"
    ) in output, output
    assert "built on Python" not in output, "nothing was built"
    add_variant(
        repo,
        "3.12.1-build",
        {"dependencies": ["pyver==1.0"], "resolution": {"allowSourceList": ["pyver"]}},
        registries={"additional": [index.url]},
    )
    built = doit("lock:3.12.1-build")
    index.server.stop()
    assert built.returncode != 0
    assert "lock 3.12.1-build: building the sdist pyver==1.0 failed (its build backend):" in built.stdout
    assert "built on Python 3.12" in built.stdout, built.stdout
    assert executed(built) == ["config:3.12.1-build", "lock:3.12.1-build"]


def test_a_needed_build_without_the_variants_python_says_which_to_install(
    repo: Path, doit: DoitRun, tmp_path: Path
) -> None:
    """No Python 3.14 here: building is disabled, and the message says how to provide one."""
    index = LocalIndex(tmp_path / "index", [version_reporting_sdist(tmp_path / "s")])
    add_variant(
        repo,
        "3.14.0-nopy",
        {"dependencies": ["pyver==1.0"], "resolution": {"allowSourceList": ["pyver"]}},
        registries={"additional": [index.url]},
    )
    failed = doit("lock:3.14.0-nopy", env={"RUNENV_BUILD_PYTHON": "", "PYENV_ROOT": str(tmp_path / "no-pyenv")})
    index.server.stop()
    output = failed.stdout + failed.stderr
    assert failed.returncode != 0
    assert (
        "lock 3.14.0-nopy: resolving pyver needs an sdist build, and builds while locking run on Python 3.14 (the "
        "variant's), which this machine lacks: install it (e.g. `pyenv install 3.14`) or set RUNENV_BUILD_PYTHON "
        "to a python3.14"
    ) in output, output
    assert "built on Python" not in output
