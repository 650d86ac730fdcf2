"""Configs written in the seed's format (tests/corpus/seed/), through real doit runs.

The corpus holds a shared config with plain reason strings, a variant with a bare git URL,
noDeps and envVars in its package.json, one with list configSettings using {packageRoot},
and one without a config.json. The git dependency is a local repository served over file://.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tasks.model import toml
from tests.conftest import REPO, DoitRun, add_variant

CORPUS = REPO / "tests/corpus/seed"
VARIANTS = ("3.12.10-kalign", "3.12.10-parapred", "3.12.10-plain")
FIXED_DATES = {"GIT_AUTHOR_DATE": "2025-01-01T00:00:00Z", "GIT_COMMITTER_DATE": "2025-01-01T00:00:00Z"}


def git_package(where: Path) -> tuple[Path, str]:
    """A one-commit git repository of package tiny-pkg 0.3.0 (which depends on six)."""
    (where / "tiny_pkg").mkdir(parents=True)
    (where / "pyproject.toml").write_text(
        '[build-system]\nrequires = ["setuptools>=68"]\nbuild-backend = "setuptools.build_meta"\n'
        '[project]\nname = "tiny-pkg"\nversion = "0.3.0"\ndependencies = ["six==1.17.0"]\n'
    )
    (where / "tiny_pkg/__init__.py").write_text("VALUE = 42\n")
    env = {**os.environ, **FIXED_DATES, "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.invalid"}
    env.update(GIT_COMMITTER_NAME="t", GIT_COMMITTER_EMAIL="t@example.invalid")
    for args in (["init", "-q"], ["add", "."], ["commit", "-qm", "tiny-pkg 0.3.0"]):
        subprocess.run(["git", *args], cwd=where, env=env, check=True)
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=where, capture_output=True, text=True)
    return where, commit.stdout.strip()


@pytest.fixture
def seed_repo(repo: Path, tmp_path: Path) -> Path:
    """The repository with the seed-format shared config and the corpus variants beside its own."""
    shutil.copy(CORPUS / "shared-config.json", repo / "configs/shared-config.json")
    for variant in VARIANTS:
        shutil.copytree(CORPUS / f"python-{variant}", repo / f"python-{variant}")
    source, commit = git_package(tmp_path / "git/tinypkg")
    config = repo / "python-3.12.10-parapred/config.json"
    config.write_text(config.read_text().replace("@GIT_REPO@", str(source)).replace("@GIT_COMMIT@", commit))
    return repo


def merged(repo: Path, variant: str) -> dict:
    return json.loads((repo / f"python-{variant}/build/config.json").read_text())


def test_seed_format_configs_validate_and_normalise(seed_repo: Path, doit: DoitRun) -> None:
    done = doit("config")
    assert done.returncode == 0, done.stdout + done.stderr
    own = sorted(p.name.removeprefix("python-") for p in REPO.glob("python-*") if (p / "package.json").is_file())
    assert [line for line in done.stdout.splitlines() if line.startswith(".  ")] == [
        f".  config:{v}" for v in sorted([*own, *VARIANTS])
    ], "runenv's own variants validate against the seed-format shared config too"
    kalign = merged(seed_repo, "3.12.10-kalign")
    assert kalign["packages"]["skip"]["cudf-cu12"]["macosx-x64"] == {"reason": "CUDA packages not supported on macOS"}
    settings = kalign["packages"]["buildWheel"]["kalign-python"]["windows-x64"]["configSettings"]
    assert settings[0] == "cmake.args=-GNinja" and settings[4] == "cmake.args=-DUSE_OPENMP=OFF", "order and repeats"
    assert kalign["envVars"] == ["OMP_NUM_THREADS=1", "KALIGN_THREADS=2"], "config first, then package.json"
    parapred = merged(seed_repo, "3.12.10-parapred")
    assert parapred["packages"]["dependencies"][1].startswith("tinypkg @ git+file://")
    assert parapred["envVars"] == ["RPY2_CFFI_MODE=ABI", "OMP_NUM_THREADS=1"]
    plain = merged(seed_repo, "3.12.10-plain")
    assert plain["packages"]["resolution"]["onlyBinaryList"] == ["numpy", "scipy"], "the shared config alone"
    assert "merged from configs/shared-config.json alone (python-3.12.10-plain/config.json does not exist)" in (
        done.stdout
    )


def test_descriptor_gets_the_env_vars_of_both_files(seed_repo: Path, doit: DoitRun) -> None:
    assert doit("descriptor:3.12.10-kalign").returncode == 0
    descriptor = json.loads((seed_repo / "python-3.12.10-kalign/dist/tengo/software/main.sw.json").read_text())
    assert descriptor["runEnv"]["envVars"] == ["OMP_NUM_THREADS=1", "KALIGN_THREADS=2"]


def test_an_env_var_with_two_values_names_both_files(seed_repo: Path, doit: DoitRun) -> None:
    package = seed_repo / "python-3.12.10-kalign/package.json"
    package.write_text(package.read_text().replace('"OMP_NUM_THREADS=1"', '"OMP_NUM_THREADS=4"'))
    done = doit("config:3.12.10-kalign")
    assert done.returncode != 0
    assert (
        "python-3.12.10-kalign/package.json: envVars: OMP_NUM_THREADS is 'OMP_NUM_THREADS=4' here but "
        "'OMP_NUM_THREADS=1' in python-3.12.10-kalign/config.json; keep one value (or remove it from one file)"
    ) in done.stdout
    assert not (seed_repo / "python-3.12.10-kalign/build/config.json").exists(), "nothing half-written"


@pytest.mark.network
def test_git_dependency_locks_selects_and_ships(seed_repo: Path, doit: DoitRun, tmp_path: Path) -> None:
    done = doit("fetch:3.12.10-parapred-linux-x64")
    assert done.returncode == 0, done.stdout + done.stderr
    universal = toml.loads((seed_repo / "python-3.12.10-parapred/pylock.toml").read_text())
    by_name = {p["name"]: p for p in universal["packages"]}
    assert sorted(by_name) == ["markupsafe", "tiny-pkg"], "noDeps: six, tiny-pkg's dependency, is not locked"
    assert by_name["tiny-pkg"]["vcs"]["type"] == "git" and len(by_name["tiny-pkg"]["vcs"]["commit-id"]) == 40
    assert universal["tool"]["runenv"]["roots"] == ["markupsafe", "tiny-pkg"], "the name from the built metadata"
    packages = seed_repo / "python-3.12.10-parapred/pydist/linux-x64/packages"
    archive = packages / "tiny_pkg-0.3.0.tar.gz"
    requirements = (packages / "requirements.txt").read_text()
    from tasks.plumbing.cache import sha256_of

    assert f"tiny-pkg==0.3.0 \\\n    --hash=sha256:{sha256_of(archive)}" in requirements
    installed = subprocess.run(
        [sys.executable, "-m", "pip", "install", "-q", "--no-index", "--find-links", str(packages), "--no-deps",
         "--no-build-isolation", "--target", str(tmp_path / "site"), "tiny-pkg==0.3.0"],
        capture_output=True, text=True,
    )  # fmt: skip
    assert installed.returncode == 0, installed.stderr
    assert (tmp_path / "site/tiny_pkg/__init__.py").read_text() == "VALUE = 42\n"


@pytest.mark.network
def test_a_build_wheel_rule_lets_a_git_dependency_through(seed_repo: Path, doit: DoitRun) -> None:
    config = seed_repo / "python-3.12.10-parapred/config.json"
    data = json.loads(config.read_text())
    data["packages"]["resolution"] = {}
    data["packages"]["buildWheel"] = {"tiny-pkg": {"linux-x64": "ship a wheel built on the host"}}
    config.write_text(json.dumps(data))
    assert doit("select:3.12.10-parapred-linux-x64").returncode == 0
    report = json.loads((seed_repo / "python-3.12.10-parapred/build/linux-x64/report.json").read_text())
    assert [(s["name"], s["kind"], s["buildWheel"]) for s in report["selected"]][1] == ("tiny-pkg", "vcs", True)
    refused = doit("select:3.12.10-parapred-windows-x64")
    assert refused.returncode == 0
    windows = json.loads((seed_repo / "python-3.12.10-parapred/build/windows-x64/report.json").read_text())
    assert [s["name"] for s in windows["skipped"]] == ["tiny-pkg"], "no rule for windows-x64: not shipped"


@pytest.mark.network
def test_skipping_a_required_package_is_an_error_naming_both(repo: Path, doit: DoitRun) -> None:
    skip = {"markupsafe": {"linux-x64": "not wanted here"}}
    add_variant(repo, "3.12.1-skipdep", {"dependencies": ["jinja2==3.1.4"], "skip": skip})
    done = doit("select:3.12.1-skipdep-linux-x64")
    assert done.returncode != 0
    assert (
        "linux-x64: kept packages require skipped ones:\n  - jinja2 3.1.4 requires markupsafe, which skip removes "
        "on linux-x64 (not wanted here); skip jinja2 there too, or drop the skip rule for markupsafe"
    ) in done.stdout
    config = repo / "python-3.12.1-skipdep/config.json"
    data = json.loads(config.read_text())
    data["packages"]["platformSpecific"] = {"linux-x64": {"resolution": {"strictMissing": False}}}
    config.write_text(json.dumps(data))
    assert doit("select:3.12.1-skipdep-linux-x64").returncode == 0
    report = json.loads((repo / "python-3.12.1-skipdep/build/linux-x64/report.json").read_text())
    assert [s["name"] for s in report["selected"]] == ["jinja2"]
    assert report["warnings"][0].startswith("WARNING: jinja2 3.1.4 requires markupsafe, which skip removes")


@pytest.mark.network
def test_the_seed_variants_lock_and_select_for_all_five_platforms(seed_repo: Path, doit: DoitRun) -> None:
    """strictMissing false (the seed's shared config): kalign-python 3.6.0's macOS wheels need
    macOS 14, and biopython 1.87 has none for Intel macOS; both ship without them there."""
    add_variant(seed_repo, "3.12.10-bio", {"dependencies": ["six==1.17.0", "biopython==1.87"]})
    platforms = ("linux-x64", "linux-aarch64", "macosx-x64", "macosx-aarch64", "windows-x64")
    done = doit(*(f"select:{v}-{p}" for v in (*VARIANTS, "3.12.10-bio") for p in platforms))
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]

    def missing(variant: str, platform: str) -> list[tuple[str, str]]:
        report = json.loads((seed_repo / f"python-{variant}/build/{platform}/report.json").read_text())
        return [(m["name"], m["reason"]) for m in report["missingTopLevel"]]

    assert missing("3.12.10-kalign", "macosx-aarch64") == [
        ("kalign-python", "missing: kalign-python==3.6.0 has a wheel for macosx-aarch64 only above its floor (macOS "
         "14.0, the floor is macOS 13.0); raise it with packages.platformSpecific.macosx-aarch64.floor; no version "
         "has one at this floor")
    ]  # fmt: skip
    assert missing("3.12.10-kalign", "macosx-x64") == [], "skipped there by the variant's own rule"
    assert missing("3.12.10-bio", "macosx-x64") == [
        ("biopython", "missing: biopython==1.87 has no wheel for macosx-x64 (macOS 13.0); nearest versions with "
         "one: 1.86")
    ]  # fmt: skip
    assert all(missing("3.12.10-bio", p) == [] for p in platforms if p != "macosx-x64")
    strict = seed_repo / "python-3.12.10-bio/config.json"
    document = json.loads(strict.read_text())
    document["packages"]["resolution"] = {"strictMissing": True}
    strict.write_text(json.dumps(document))
    failed = doit("lock:3.12.10-bio")
    assert failed.returncode != 0
    assert "lock 3.12.10-bio: top-level pins without a wheel for a platform:" in failed.stdout
