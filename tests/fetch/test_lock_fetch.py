"""Locks and wheelhouses through real doit runs, real resolutions and real downloads."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

from packaging.utils import parse_wheel_filename

from tasks.model import platforms, toml
from tasks.model.platforms import PLATFORM_KEYS
from tests.conftest import REPO, DoitRun, add_variant, executed

PLATFORMS = platforms.load(REPO / "configs/platforms.json")
MINI = {
    "dependencies": ["markupsafe==3.0.2", "pyyaml==6.0.2", "six==1.17.0"],
    "forceSource": {"six": {"linux-aarch64": {"reason": "test: ship the sdist"}}},
    "skip": {"pyyaml": {"windows-x64": {"reason": "test: not on windows"}}},
}


def cell_lock(repo: Path, variant: str, platform: str) -> dict:
    return toml.loads((repo / f"python-{variant}/build/{platform}/pylock.toml").read_text())


def fetched(repo: Path, variant: str, platform: str) -> dict:
    return json.loads((repo / f"python-{variant}/build/{platform}/fetch.json").read_text())


def test_all_platforms_from_one_resolution(doit: DoitRun, repo: Path) -> None:
    add_variant(repo, "3.12.1-mini", MINI)
    built = doit("-n", "2", *(f"fetch:3.12.1-mini-{key}" for key in PLATFORM_KEYS))
    assert built.returncode == 0, built.stdout + built.stderr
    universal = toml.loads((repo / "python-3.12.1-mini/pylock.toml").read_text())
    assert len(universal["environments"]) == 5
    assert universal["tool"]["runenv"]["notes"] == []
    for key in PLATFORM_KEYS:
        packages = cell_lock(repo, "3.12.1-mini", key)["packages"]
        names = [p["name"] for p in packages]
        assert len(names) == len(set(names)), f"{key}: one version per package"
        tags = set(PLATFORMS[key].tags("3.12.1"))
        for package in packages:
            for wheel in package.get("wheels", []):
                assert not parse_wheel_filename(wheel["name"])[-1].isdisjoint(tags), (key, wheel["name"])
        wheelhouse = sorted(p.name for p in (repo / f"python-3.12.1-mini/pydist/{key}/packages").iterdir())
        assert wheelhouse == sorted(
            [*(p.get("wheels", [{}])[0].get("name") or p["sdist"]["name"] for p in packages), "requirements.txt"]
        )
    assert [p["name"] for p in cell_lock(repo, "3.12.1-mini", "windows-x64")["packages"]] == ["markupsafe", "six"]
    aarch64 = {p["name"]: p for p in cell_lock(repo, "3.12.1-mini", "linux-aarch64")["packages"]}
    assert aarch64["six"]["sdist"]["name"] == "six-1.17.0.tar.gz"
    report = json.loads((repo / "python-3.12.1-mini/build/windows-x64/report.json").read_text())
    assert report["skipped"][0]["name"] == "pyyaml"
    assert "test: not on windows" in report["skipped"][0]["reason"]
    assert "skipped pyyaml 6.0.2: skip: test: not on windows" in built.stdout


def test_second_fetch_downloads_nothing(doit: DoitRun, repo: Path) -> None:
    add_variant(repo, "3.12.1-mini", MINI)
    assert doit("fetch:3.12.1-mini-linux-x64").returncode == 0
    assert fetched(repo, "3.12.1-mini", "linux-x64")["downloadedFiles"] == 3
    assert doit("forget", "fetch:3.12.1-mini-linux-x64").returncode == 0
    again = doit("fetch:3.12.1-mini-linux-x64")
    assert executed(again) == ["fetch:3.12.1-mini-linux-x64"]
    assert fetched(repo, "3.12.1-mini", "linux-x64")["downloadedBytes"] == 0
    assert executed(doit("fetch:3.12.1-mini-linux-x64")) == []


def test_pin_change_relocks_one_variant_and_downloads_only_new_files(doit: DoitRun, repo: Path) -> None:
    add_variant(repo, "3.12.1-a", {"dependencies": ["six==1.17.0", "markupsafe==3.0.2"]})
    add_variant(repo, "3.12.1-b", {"dependencies": ["six==1.17.0"]})
    assert doit("fetch:3.12.1-a-linux-x64", "fetch:3.12.1-b-linux-x64").returncode == 0
    config = repo / "python-3.12.1-a/config.json"
    config.write_text(config.read_text().replace("six==1.17.0", "six==1.16.0"))
    rebuilt = doit("fetch:3.12.1-a-linux-x64", "fetch:3.12.1-b-linux-x64")
    assert rebuilt.returncode == 0, rebuilt.stderr
    ran = executed(rebuilt)
    assert "lock:3.12.1-a" in ran and "lock:3.12.1-b" not in ran
    assert not any(name.endswith("3.12.1-b-linux-x64") for name in ran)
    result = fetched(repo, "3.12.1-a", "linux-x64")
    assert (result["downloadedFiles"], result["cachedFiles"]) == (1, 1)
    log = (repo / "python-3.12.1-a/build/linux-x64/build.log").read_text()
    assert "fetch six-1.16.0-py2.py3-none-any.whl: " in log
    assert f"downloaded 1 (0.0 MB, {result['downloadedBytes']} bytes)" in log


def test_committed_lock_is_not_resolved_again_in_a_fresh_clone(doit: DoitRun, repo: Path, tmp_path: Path) -> None:
    add_variant(repo, "3.12.1-mini", {"dependencies": ["six==1.17.0"]})
    assert doit("lock:3.12.1-mini").returncode == 0
    clone = tmp_path / "clone"
    shutil.copytree(repo, clone, ignore=shutil.ignore_patterns(".doit.db*", "build"))
    fresh = doit("lock:3.12.1-mini", cwd=clone)
    assert fresh.returncode == 0, fresh.stderr
    assert executed(fresh) == ["config:3.12.1-mini"]


def test_markers_keep_cuda_off_macos_and_windows(doit: DoitRun, repo: Path) -> None:
    skip = {"torch": {"macosx-x64": {"reason": "no Intel macOS wheels since torch 2.3"}}}
    add_variant(repo, "3.12.1-torch", {"dependencies": ["torch==2.7.0"], "skip": skip})
    cells = [f"select:3.12.1-torch-{key}" for key in ("linux-x64", "macosx-aarch64", "windows-x64")]
    done = doit(*cells)
    assert done.returncode == 0, done.stdout + done.stderr
    for key in ("macosx-aarch64", "windows-x64"):
        names = [p["name"] for p in cell_lock(repo, "3.12.1-torch", key)["packages"]]
        assert "torch" in names
        assert [n for n in names if n.startswith("nvidia-") or n == "triton"] == [], key
    linux = [p["name"] for p in cell_lock(repo, "3.12.1-torch", "linux-x64")["packages"]]
    assert "triton" in linux and any(n.startswith("nvidia-") for n in linux)


def test_unreachable_registry_names_it_and_the_variable(doit: DoitRun, repo: Path) -> None:
    add_variant(
        repo,
        "3.12.1-extra",
        {"dependencies": ["six==1.17.0"]},
        registries={"additional": ["http://127.0.0.1:9/simple"]},
    )
    failed = doit("lock:3.12.1-extra")
    assert failed.returncode != 0
    assert (
        "registry http://127.0.0.1:9/simple (registries.additional) cannot be reached: ConnectionError. "
        "Set RUNENV_INDEX_MIRRORS to map it to a mirror, or to null to leave it out"
    ) in failed.stdout + failed.stderr
    assert not (repo / "python-3.12.1-extra/pylock.toml").exists()


def test_resolver_over_build_timeout_is_an_error_naming_the_step(doit: DoitRun, repo: Path) -> None:
    add_variant(repo, "3.12.1-slow", {"dependencies": ["six==1.17.0"]}, build={"timeout": 0.001})
    failed = doit("lock:3.12.1-slow")
    assert failed.returncode != 0
    assert "lock 3.12.1-slow: uv pip compile exceeded build.timeout (0.001 s)" in failed.stdout + failed.stderr


def test_no_deps_locks_the_package_without_its_dependencies(doit: DoitRun, repo: Path) -> None:
    add_variant(repo, "3.12.1-nodeps", {"dependencies": ["jinja2==3.1.4"], "noDeps": ["Jinja2"]})
    done = doit("select:3.12.1-nodeps-linux-x64")
    assert done.returncode == 0, done.stdout + done.stderr
    assert [p["name"] for p in cell_lock(repo, "3.12.1-nodeps", "linux-x64")["packages"]] == ["jinja2"]
    requirements = (repo / "python-3.12.1-nodeps/build/linux-x64/requirements.txt").read_text()
    assert "# and add --no-deps: noDeps packages (jinja2) come without their dependencies" in requirements


def test_upgrade_re_resolves_and_lock_keeps_preferences(doit: DoitRun, repo: Path) -> None:
    add_variant(repo, "3.12.1-up", {"dependencies": ["jinja2==3.1.4", "markupsafe<3"]})
    assert doit("lock:3.12.1-up").returncode == 0
    lock_path = repo / "python-3.12.1-up/pylock.toml"
    first = {p["name"]: p["version"] for p in toml.loads(lock_path.read_text())["packages"]}
    config = repo / "python-3.12.1-up/config.json"
    config.write_text(config.read_text().replace('"markupsafe<3"', '"markupsafe<4"'))
    relocked = doit("lock:3.12.1-up")
    assert "lock:3.12.1-up" in executed(relocked)
    kept = {p["name"]: p["version"] for p in toml.loads(lock_path.read_text())["packages"]}
    assert kept == first, "an existing lock is a preference: nothing moves that need not"
    upgraded = doit("upgrade:3.12.1-up")
    assert upgraded.returncode == 0, upgraded.stderr
    newest = {p["name"]: p["version"] for p in toml.loads(lock_path.read_text())["packages"]}
    assert newest["markupsafe"].startswith("3.")


def test_a_fresh_clone_without_runenv_variables_never_re_resolves(repo: Path, tmp_path: Path) -> None:
    """The committed locks' input hashes cover the config only, not mirrors or left-out registries."""
    import os
    import subprocess
    import sys

    env = {k: v for k, v in os.environ.items() if not k.startswith("RUNENV_")}
    env["RUNENV_CACHE_DIR"] = str(tmp_path / "cache")
    done = subprocess.run([sys.executable, "-m", "doit", "lock"], cwd=repo, env=env, capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr
    variants = sorted(p.name.removeprefix("python-") for p in repo.glob("python-*"))
    assert [t for t in executed(done) if t.startswith("lock:")] == []
    assert [line for line in done.stdout.splitlines() if line.startswith("-- lock:")] == [
        f"-- lock:{v}" for v in variants
    ]
    shared = json.loads((repo / "configs/shared-config.json").read_text())["registries"]["additional"]
    for variant in variants:
        for url in shared:
            assert (
                f"lock of {variant} was made without {url}; run doit upgrade:{variant} where it is reachable"
            ) in done.stderr


def test_a_package_locked_in_two_versions_is_no_conflict(repo: Path, doit: DoitRun, tmp_path: Path) -> None:
    """app needs forky 2 on Windows and forky 1 elsewhere, so the universal lock holds both:
    legitimate, and never read as a conflict (no per-platform fallback)."""
    from tests.conftest import LocalIndex, make_wheel

    wheels = [
        make_wheel(
            tmp_path / "w",
            "app",
            "1.0",
            "py3-none-any",
            ["forky>=2 ; sys_platform == 'win32'", "forky<2 ; sys_platform != 'win32'"],
        ),
        make_wheel(tmp_path / "w", "forky", "1.0", "py3-none-any"),
        make_wheel(tmp_path / "w", "forky", "2.0", "py3-none-any"),
    ]
    index = LocalIndex(tmp_path / "index", wheels)
    add_variant(repo, "3.12.1-fork", {"dependencies": ["app==1.0"]}, registries={"additional": [index.url]})
    done = doit("select:3.12.1-fork-linux-x64", "select:3.12.1-fork-windows-x64")
    index.server.stop()
    assert done.returncode == 0, done.stdout + done.stderr
    assert "falling back" not in done.stdout + done.stderr
    universal = toml.loads((repo / "python-3.12.1-fork/pylock.toml").read_text())
    assert sorted((p["name"], p["version"]) for p in universal["packages"]) == [
        ("app", "1.0"), ("forky", "1.0"), ("forky", "2.0")
    ]  # fmt: skip
    assert universal["tool"]["runenv"]["notes"] == [
        "forked forky: 2.0 on windows-x64; 1.0 on linux-x64, linux-aarch64, macosx-x64, macosx-aarch64 "
        "(on linux-x64, linux-aarch64, macosx-x64, macosx-aarch64 its dependents require it, or other forks do)"
    ]
    app = next(p for p in universal["packages"] if p["name"] == "app")
    assert app["dependencies"] == [{"name": "forky", "version": "1.0"}, {"name": "forky", "version": "2.0"}]
    for platform, version in (("linux-x64", "1.0"), ("windows-x64", "2.0")):
        chosen = {p["name"]: p["version"] for p in cell_lock(repo, "3.12.1-fork", platform)["packages"]}
        assert chosen == {"app": "1.0", "forky": version}


def failing_sdist(directory: Path) -> Path:
    """brokensetup 1.0: an sdist whose setup.py raises, as a broken build backend run would."""
    from tests.conftest import make_sdist

    return make_sdist(directory, "brokensetup", "1.0", "raise RuntimeError('this sdist cannot be built')\n")


def test_resolver_errors_are_classified_not_fallen_back_on(repo: Path, doit: DoitRun, tmp_path: Path) -> None:
    from tests.conftest import LocalIndex

    cases: dict[str, tuple[dict[str, Any], Any]] = {
        "typo": ({"dependencies": ["six==1.17.0", "runenv-no-such-package-xyz==1.0"]}, None),
        "noversion": ({"dependencies": ["six==9.9.9"]}, None),
        "build": (
            {"dependencies": ["brokensetup==1.0"], "resolution": {"allowSourceList": ["brokensetup"]}},
            LocalIndex(tmp_path / "index", [failing_sdist(tmp_path / "s")]),
        ),
    }
    expected = {
        "typo": "lock 3.12.1-typo: packages.dependencies[1] (runenv-no-such-package-xyz==1.0): package "
        "'runenv-no-such-package-xyz' was not found on any index; check its name",
        "noversion": "lock 3.12.1-noversion: packages.dependencies[0] (six==9.9.9): no version matches six==9.9.9; "
        "pick one the index has",
        "build": "lock 3.12.1-build: building the sdist brokensetup==1.0 failed (its build backend):",
    }
    for name, (packages, index) in cases.items():
        extra = {"registries": {"additional": [index.url]}} if index else {}
        add_variant(repo, f"3.12.1-{name}", packages, **extra)
        done = doit(f"lock:3.12.1-{name}")
        if index:
            index.server.stop()
        output = done.stdout + done.stderr
        assert done.returncode != 0
        assert expected[name] in output, output
        assert "falling back" not in output
        assert name == "build" or "Traceback" not in output, "only the sdist's own build output has one"
    assert "this sdist cannot be built" in output, "the build's own output is shown"
