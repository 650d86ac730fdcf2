"""Base CPython sources and the environment layout (pure)."""

from __future__ import annotations

import pytest

from tasks.base.pythons import base_source, merge_pins, mirrored
from tasks.errors import BuildError
from tasks.model import platforms
from tasks.model.envlayout import EnvLayout, archive_name, descriptor, package_path
from tests.conftest import REPO

PLATFORMS = platforms.load(REPO / "configs/platforms.json")
URL = "https://releases.example/download/20250529/cpython-3.12.10%2B20250529-x86_64-unknown-linux-gnu.tar.gz"


def test_overlay_replaces_entries_and_adds_versions() -> None:
    pins = merge_pins(
        {
            "versions": {
                "3.12.10": {"linux-x64": {"url": URL, "sha256": "a"}, "windows-x64": {"url": URL, "sha256": "b"}}
            }
        },
        {"versions": {"3.12.10": {"linux-x64": {"path": "/opt/python"}}, "3.13.0": {}}},
    )
    assert pins["3.12.10"]["linux-x64"] == {"path": "/opt/python"}
    assert pins["3.12.10"]["windows-x64"]["sha256"] == "b"
    assert base_source(pins, "3.12.10", "linux-x64", None).path == "/opt/python"


def test_mirror_replaces_the_prefix_and_keeps_release_and_file() -> None:
    assert mirrored(URL, "file:///srv/pbs/") == (
        "file:///srv/pbs/20250529/cpython-3.12.10%2B20250529-x86_64-unknown-linux-gnu.tar.gz"
    )
    source = base_source(
        {"3.12.10": {"linux-x64": {"url": URL, "sha256": "a"}}}, "3.12.10", "linux-x64", "https://mirror.example/pbs"
    )
    assert (
        source.url == "https://mirror.example/pbs/20250529/cpython-3.12.10%2B20250529-x86_64-unknown-linux-gnu.tar.gz"
    )
    assert source.sha256 == "a"


def test_missing_pin_is_a_clear_error() -> None:
    with pytest.raises(BuildError) as caught:
        base_source({}, "3.13.0", "linux-x64", None)
    assert str(caught.value) == (
        "configs/pythons.json: no CPython 3.13.0 pinned for linux-x64; add its python-build-standalone "
        "install_only archive (url and sha256) there, or supply it through $RUNENV_PYTHONS"
    )


def test_committed_pins_cover_every_platform_of_the_variants() -> None:
    import json

    pins = json.loads((REPO / "configs/pythons.json").read_text())["versions"]
    for version in ("3.12.10", "3.10.11"):
        assert set(pins[version]) == set(platforms.PLATFORM_KEYS)


def test_site_packages_derives_from_the_layout() -> None:
    windows = EnvLayout(PLATFORMS["windows-x64"], "3.12.10")
    linux = EnvLayout(PLATFORMS["linux-x64"], "3.12.10")
    assert (windows.interpreter_root, windows.site_packages) == ("bin", "bin/Lib/site-packages")
    assert (linux.interpreter_root, linux.site_packages) == ("", "lib/python3.12/site-packages")
    assert windows.copy_target("{site-packages}/custom_module") == "bin/Lib/site-packages/custom_module"
    assert linux.copy_target("{site-packages}/") == "lib/python3.12/site-packages"
    assert linux.copy_target("bin/") == "bin"


def test_archive_name_and_descriptor() -> None:
    assert archive_name("1.2.0", PLATFORMS["macosx-aarch64"]) == "1.2.0-macosx-aarch64.tgz"
    assert package_path("@platforma-open/milaboratories.runenv-python-3.12.10") == (
        "platforma-open/milaboratories.runenv-python-3.12.10"
    )
    package = {
        "name": "@scope/env",
        "version": "2.0.0",
        "block-software": {
            "entrypoints": {"main": {"environment": {"artifact": {"registry": "platforma-open", "binDir": "bin"}}}}
        },
    }
    assert descriptor(package, "3.12.10", ["A=1"]) == {
        "name": "@scope/env:main",
        "runEnv": {
            "type": "python",
            "python-version": "3.12.10",
            "envVars": ["A=1"],
            "registry": "platforma-open",
            "package": "software/scope/env/main/2.0.0-{os}-{arch}.tgz",
            "binDir": "bin",
        },
    }
