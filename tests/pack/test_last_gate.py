"""Issue 18: nothing ships unverified. The six cases an adversarial trial found, each through
real doit runs on the machine's CPython (a file:// registry for publishing), and the faults
that must read as one line."""

from __future__ import annotations

import json
import shutil
import subprocess
import tarfile
from pathlib import Path
from typing import Any

import pytest

from tasks.plumbing.cache import sha256_of
from tasks.plumbing.files import describe_os_error
from tests.conftest import DoitRun, add_variant, one_clear_line

HOST = "linux-x64"
ARCHIVE = "1.0.0-linux-x64.tgz"


def env_of(machine_python: Any, tmp_path: Path) -> dict[str, str]:
    return {"RUNENV_PYTHONS": str(machine_python.pythons_file(tmp_path / "pythons.json", HOST))}


@pytest.fixture
def built(doit: DoitRun, repo: Path, machine_python: Any, tmp_path: Path) -> str:
    """A cell of six built on this machine's CPython; its variant's name."""
    variant = f"{machine_python.version}-gate"
    add_variant(repo, variant, {"dependencies": ["six==1.17.0"]})
    done = doit(f"build:{variant}-{HOST}", env=env_of(machine_python, tmp_path))
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    return variant


@pytest.mark.network
def test_a_lock_with_a_package_removed_is_refused(doit: DoitRun, repo: Path, built: str) -> None:
    lock = repo / f"python-{built}/pylock.toml"
    text = lock.read_text()
    start = text.index('[[packages]]\nname = "six"')
    lock.write_text(text[:start] + text[text.index("[tool.runenv]") :])
    done = doit(f"select:{built}-{HOST}")
    one_clear_line(
        done,
        f"python-{built}/pylock.toml: packages.dependencies[0] (six==1.17.0) applies on linux-x64, linux-aarch64, "
        "macosx-x64, macosx-aarch64, windows-x64, but the lock has no six there; the lock does not match the config "
        f"(edited by hand?): run doit upgrade:{built} to re-resolve it",
    )
    assert not (repo / f"python-{built}/build/{HOST}/report.json").exists(), "nothing half-written"


@pytest.mark.network
def test_a_lock_edited_by_hand_is_one_clear_line(doit: DoitRun, repo: Path, built: str) -> None:
    lock = repo / f"python-{built}/pylock.toml"
    original = lock.read_text()
    lock.write_text(original.replace('version = "1.17.0"', 'version = "1.16.0"', 1))
    one_clear_line(
        doit(f"select:{built}-{HOST}"),
        f"python-{built}/pylock.toml: packages[0]: six 1.16.0: wheel six-1.17.0-py2.py3-none-any.whl is six 1.17.0, "
        "not this entry",
    )
    lock.write_text(original.replace("{url = ", '{name = "../x/six-1.17.0-py2.py3-none-any.whl", url = ', 1))
    one_clear_line(
        doit(f"select:{built}-{HOST}"),
        f"python-{built}/pylock.toml: packages[0]: six 1.17.0: wheel file name '../x/six-1.17.0-py2.py3-none-any.whl' "
        "is not one plain file name",
    )
    lock.write_text("[[packages]\nname = ")
    one_clear_line(doit(f"select:{built}-{HOST}"), f"python-{built}/pylock.toml: not valid TOML")


@pytest.mark.network
def test_a_file_planted_in_the_environment_never_ships(
    doit: DoitRun, repo: Path, machine_python: Any, tmp_path: Path, built: str
) -> None:
    site = repo / f"python-{built}/pydist/{HOST}/lib/python{machine_python.version.rsplit('.', 1)[0]}/site-packages"
    (site / "zz-planted.pth").write_text("import os; os.system('echo planted')\n")
    archive = repo / f"python-{built}/archives/{ARCHIVE}"
    before = sha256_of(archive)
    assert doit("forget", f"pack:{built}-{HOST}").returncode == 0
    done = doit(f"build:{built}-{HOST}", env=env_of(machine_python, tmp_path))
    assert done.returncode == 0, done.stdout + done.stderr
    assert "zz-planted.pth: not laid there by assemble); assembling it again" in done.stdout
    with tarfile.open(archive) as tar:
        assert not [name for name in tar.getnames() if name.endswith("zz-planted.pth")]
    assert sha256_of(archive) == before, "the archive assemble's tree makes, byte for byte"


@pytest.mark.network
def test_an_archive_changed_after_pack_is_not_published(doit: DoitRun, repo: Path, tmp_path: Path, built: str) -> None:
    archive = repo / f"python-{built}/archives/{ARCHIVE}"
    data = bytearray(archive.read_bytes())
    data[len(data) // 2] ^= 0xFF
    archive.write_bytes(bytes(data))
    registry = tmp_path / "registry"
    done = doit("publish", "--cells", f"{built}-{HOST}", env={"RUNENV_REGISTRY": f"file://{registry}"})
    one_clear_line(done, f"{archive.resolve()}: sha256 ".removeprefix(str(repo.resolve()) + "/"))
    assert f"nothing was uploaded. Pack it again: doit forget pack:{built}-{HOST}" in done.stdout
    assert not registry.exists() or not list(registry.rglob("*.tgz")), "nothing uploaded"


def test_package_json_name_and_version_cannot_escape(doit: DoitRun, repo: Path) -> None:
    directory = add_variant(repo, "3.12.1-escape", {"dependencies": ["six==1.17.0"]})
    package = json.loads((directory / "package.json").read_text())
    package.update(name="@platforma-open/../../../x", version="../../../x")
    (directory / "package.json").write_text(json.dumps(package))
    done = doit("config:3.12.1-escape")
    one_clear_line(
        done, "python-3.12.1-escape/package.json: $.name: '@platforma-open/../../../x' is not a valid npm package"
    )
    assert "python-3.12.1-escape/package.json: $.version: '../../../x' is not a semantic version" in done.stdout
    assert doit("list", "--all").returncode == 0, "describing tasks does not trip over it"
    assert not list(repo.parent.glob("x*")), "nothing written outside the checkout"


@pytest.mark.network
def test_copy_files_from_the_variant_directory_itself_is_refused(
    doit: DoitRun, repo: Path, machine_python: Any, tmp_path: Path
) -> None:
    variant = f"{machine_python.version}-dot"
    add_variant(repo, variant, {"dependencies": ["six==1.17.0"], "copyFiles": [{"from": ".", "to": "extra/"}]})
    done = doit(f"assemble:{variant}-{HOST}", env=env_of(machine_python, tmp_path))
    one_clear_line(
        done,
        f"python-{variant}/config.json: copyFiles from '.': '.' holds build/, pydist/, archives/, dist/, the "
        "environment, the variant's own outputs, and would copy them into themselves; name the folders to copy",
    )
    assert not (repo / f"python-{variant}/pydist/{HOST}/extra").exists()


def test_a_read_only_tree_is_one_clear_line(repo: Path, tmp_path: Path, doit: DoitRun) -> None:
    view = tmp_path / "read-only"
    view.mkdir()
    for options in (["--bind"], ["-o", "remount,ro,bind"]):
        done = subprocess.run(["mount", *options, str(repo), str(view)], capture_output=True, text=True)
        if done.returncode != 0:
            subprocess.run(["umount", str(view)], check=False)
            pytest.skip(f"cannot bind-mount read-only here: {done.stderr.strip()}")
    try:
        done = doit("config", cwd=view)
    finally:
        subprocess.run(["umount", "-l", str(view)], check=False)
    one_clear_line(done, "runenv: cannot take the tree's lock: ")
    assert "Read-only file system; the file system is read-only" in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1, done.stderr


def test_a_copy_error_list_is_one_clear_line() -> None:
    failures = [(f"/src/f{i}", f"/dst/f{i}", "[Errno 28] No space left on device") for i in range(100_000)]
    line = describe_os_error(shutil.Error(failures))
    assert line == "copying /src/f0 -> /dst/f0: [Errno 28] No space left on device (and 99999 more files)"
