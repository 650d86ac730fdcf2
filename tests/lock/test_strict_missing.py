"""Issue 16: strictMissing decides what a top-level pin without a wheel does; a variant may
raise a platform's floor; a conflict between two config entries names both. Real doit runs
against the default index."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import pytest

from tasks.model import toml
from tests.conftest import DoitRun, StaticServer, add_variant

pytestmark = pytest.mark.network
PLATFORMS = ("linux-x64", "linux-aarch64", "macosx-x64", "macosx-aarch64", "windows-x64")
BIO = ["six==1.17.0", "biopython==1.87"]  # biopython 1.87 has no macosx-x64 wheel


def selects(variant: str) -> list[str]:
    return [f"select:{variant}-{platform}" for platform in PLATFORMS]


def chosen(repo: Path, variant: str, platform: str) -> dict[str, str]:
    lock = toml.loads((repo / f"python-{variant}/build/{platform}/pylock.toml").read_text())
    return {p["name"]: p["version"] for p in lock["packages"]}


def report(repo: Path, variant: str, platform: str) -> Any:
    return json.loads((repo / f"python-{variant}/build/{platform}/report.json").read_text())


def test_a_pin_without_a_wheel_is_left_off_that_platform_only(repo: Path, doit: DoitRun) -> None:
    add_variant(repo, "3.12.1-bio", {"dependencies": BIO})  # strictMissing is false by default
    skip = {"biopython": {"macosx-x64": "no Intel macOS wheel"}}
    add_variant(repo, "3.12.1-bioskip", {"dependencies": BIO, "skip": skip})
    done = doit(*selects("3.12.1-bio"), *selects("3.12.1-bioskip"))
    assert done.returncode == 0, done.stdout + done.stderr
    lock = toml.loads((repo / "python-3.12.1-bio/pylock.toml").read_text())
    assert lock["tool"]["runenv"]["no-wheel"] == {
        "biopython": [
            {
                "platform": "macosx-x64",
                "version": "1.87",
                "reason": "biopython==1.87 has no wheel for macosx-x64 (macOS 13.0)",
                "nearest": ["1.86"],
            }
        ]
    }
    assert report(repo, "3.12.1-bio", "macosx-x64")["missingTopLevel"] == [
        {
            "name": "biopython",
            "version": "1.87",
            "reason": "missing: biopython==1.87 has no wheel for macosx-x64 (macOS 13.0); nearest versions with "
            "one: 1.86",
            "nearest": ["1.86"],
        }
    ]
    assert (
        "  MISSING top-level dependency biopython 1.87 on 3.12.1-bio-macosx-x64: biopython==1.87 has no wheel for "
        "macosx-x64 (macOS 13.0); nearest versions with one: 1.86"
    ) in done.stdout
    for platform in PLATFORMS:
        assert chosen(repo, "3.12.1-bio", platform) == chosen(repo, "3.12.1-bioskip", platform), (
            f"{platform}: the same versions as a lock without that pin there"
        )
    assert chosen(repo, "3.12.1-bio", "linux-x64")["biopython"] == "1.87"
    assert "biopython" not in chosen(repo, "3.12.1-bio", "macosx-x64")


def test_strict_missing_on_one_platform_keeps_the_error(repo: Path, doit: DoitRun) -> None:
    specific = {"macosx-x64": {"resolution": {"strictMissing": True}}}
    add_variant(repo, "3.12.1-biostrict", {"dependencies": BIO, "platformSpecific": specific})
    failed = doit("lock:3.12.1-biostrict")
    assert failed.returncode != 0
    assert (
        "lock 3.12.1-biostrict: top-level pins without a wheel for a platform:\n"
        "  - packages.dependencies[1] (biopython==1.87): biopython==1.87 has no wheel for macosx-x64 (macOS 13.0); "
        "nearest versions with one: 1.86\n"
    ) in failed.stdout, failed.stdout
    assert not (repo / "python-3.12.1-biostrict/pylock.toml").exists()


def layout_only_base(tmp_path: Path, platform: str) -> tuple[StaticServer, Path]:
    from tests.assemble.test_environment import layout_only_archive

    archive = layout_only_archive(tmp_path / "base", False, "3.12")
    server = StaticServer(archive.parent)
    pin = {"url": f"{server.url}/{archive.name}", "sha256": hashlib.sha256(archive.read_bytes()).hexdigest()}
    (tmp_path / "pythons.json").write_text(json.dumps({"versions": {"3.12.1": {platform: pin}}}))
    return server, tmp_path / "pythons.json"


def test_a_raised_floor_ships_a_wheel_the_default_floor_rejects(repo: Path, doit: DoitRun, tmp_path: Path) -> None:
    """kalign-python 3.6.0's only macOS wheel is macosx_14_0_arm64."""
    packages: dict[str, Any] = {"dependencies": ["kalign-python==3.6.0"]}
    add_variant(repo, "3.12.1-kalign", packages)
    default = doit("select:3.12.1-kalign-macosx-aarch64")
    assert default.returncode == 0, default.stdout + default.stderr
    assert report(repo, "3.12.1-kalign", "macosx-aarch64")["missingTopLevel"][0]["reason"] == (
        "missing: kalign-python==3.6.0 has a wheel for macosx-aarch64 only above its floor (macOS 14.0, the floor "
        "is macOS 13.0); raise it with packages.platformSpecific.macosx-aarch64.floor; no version has one at this "
        "floor"
    )
    packages["platformSpecific"] = {"macosx-aarch64": {"floor": "14.0"}}
    add_variant(repo, "3.12.1-kalign14", packages)
    server, pythons = layout_only_base(tmp_path, "macosx-aarch64")
    done = doit("check:3.12.1-kalign14-macosx-aarch64", env={"RUNENV_PYTHONS": str(pythons)})
    server.stop()
    assert done.returncode == 0, done.stdout + done.stderr
    files = [s["file"] for s in report(repo, "3.12.1-kalign14", "macosx-aarch64")["selected"]]
    assert "kalign_python-3.6.0-cp312-cp312-macosx_14_0_arm64.whl" in files
    cell = repo / "python-3.12.1-kalign14/build/macosx-aarch64"
    check = json.loads((cell / "check.json").read_text())
    assert check["status"] == "verified-static" and check["static"]["aboveFloor"] == []
    assert check["static"]["binaries"] > 0, "the wheel's Mach-O files were read at the raised floor"
    runenv = json.loads((repo / "python-3.12.1-kalign14/pydist/macosx-aarch64/runenv.json").read_text())
    assert runenv["floor"] == {"macos": "14.0"}


def test_two_config_entries_in_conflict_are_named(repo: Path, doit: DoitRun) -> None:
    """The replaced builder's base variant: cudf-cu12 25.6.0 needs pyarrow<20 on linux x86_64."""
    cuda_only = {key: "CUDA on linux-x64 only" for key in PLATFORMS if key != "linux-x64"}
    packages = {
        "dependencies": ["six==1.17.0", "cudf-cu12==25.6.0", "pyarrow==21.0.0"],
        "skip": {"cudf-cu12": cuda_only},
    }
    add_variant(repo, "3.12.1-conflict", packages)
    failed = doit("lock:3.12.1-conflict")
    assert failed.returncode != 0
    message = failed.stdout[failed.stdout.index("lock 3.12.1-conflict: packages") :]
    assert message.startswith(
        "lock 3.12.1-conflict: packages.dependencies[1] cudf-cu12==25.6.0 needs pyarrow>=14.0.0,<20.0.0a0, but "
        "packages.dependencies[2] pins pyarrow==21.0.0, on linux-x64.\n"
        "  Versions that agree: pyarrow 19.0.1 with cudf-cu12==25.6.0; cudf-cu12 "
    ), message
    assert message.strip().splitlines()[2:] == [
        "  Or separate them: skip one of them there (packages.skip.<name>.linux-x64), or move one pin to "
        "packages.platformSpecific.<platform>.dependencies.",
        "  the resolver's full explanation: python-3.12.1-conflict/build/lock.log",
    ]
    assert "platform_machine" not in failed.stdout + failed.stderr, "no marker expressions"
    log = (repo / "python-3.12.1-conflict/build/lock.log").read_text()
    assert "platform_machine" in log and "cudf-cu12==25.6.0 depends on pyarrow" in log, "uv's full text"
    assert not (repo / "python-3.12.1-conflict/pylock.toml").exists()
