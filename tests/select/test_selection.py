"""Per-platform selection policy on small hand-written PEP 751 locks (pure code, no network)."""

from __future__ import annotations

from typing import Any

import pytest

from tasks.config.policy import policy_for
from tasks.errors import LockError
from tasks.model import platforms
from tasks.select.selection import select
from tests.conftest import REPO

PLATFORMS = platforms.load(REPO / "configs/platforms.json")
H = "0" * 64


def wheel(filename: str) -> dict[str, Any]:
    return {"url": f"https://files.example/{filename}", "size": 1, "hashes": {"sha256": H}}


def sdist(filename: str) -> dict[str, Any]:
    return {"url": f"https://files.example/{filename}", "size": 1, "hashes": {"sha256": H}}


def lock(*packages: dict[str, Any], requirements: list[str] | None = None) -> dict[str, Any]:
    tool = {"runenv": {"requirements": requirements or [p["name"] for p in packages], "roots": []}}
    return {"lock-version": "1.0", "created-by": "test", "packages": list(packages), "tool": tool}


APP = {
    "name": "app",
    "version": "1.0",
    "dependencies": [{"name": "helper"}, {"name": "shared"}],
    "wheels": [wheel("app-1.0-py3-none-any.whl")],
}
HELPER = {"name": "helper", "version": "2.0", "wheels": [wheel("helper-2.0-py3-none-any.whl")]}
SHARED = {"name": "shared", "version": "3.0", "wheels": [wheel("shared-3.0-py3-none-any.whl")]}
NATIVE = {
    "name": "native",
    "version": "1.0",
    "sdist": sdist("native-1.0.tar.gz"),
    "wheels": [
        wheel("native-1.0-cp312-cp312-manylinux_2_28_x86_64.whl"),
        wheel("native-1.0-cp312-cp312-win_amd64.whl"),
    ],
}


def choose(data: dict[str, Any], platform: str, packages: dict[str, Any] | None = None) -> Any:
    return select(data, PLATFORMS[platform], "3.12.1", policy_for(packages or {}, platform))


def test_best_wheel_for_each_platform() -> None:
    data = lock(NATIVE)
    assert choose(data, "linux-x64").selected[0].file == "native-1.0-cp312-cp312-manylinux_2_28_x86_64.whl"
    assert choose(data, "windows-x64").selected[0].file == "native-1.0-cp312-cp312-win_amd64.whl"


def test_no_wheel_and_sdist_not_allowed_is_a_loud_skip() -> None:
    selection = choose(lock(NATIVE), "macosx-aarch64")
    assert selection.selected == ()
    assert [(e.name, e.reason) for e in selection.excluded] == [
        (
            "native",
            "missing: no wheel matches the platform's tags; an sdist is not allowed "
            "(add it to resolution.allowSourceList)",
        ),
    ]
    assert selection.warnings == (
        "WARNING: skipped native 1.0 on macosx-aarch64: no wheel matches the platform's tags; an sdist is not "
        "allowed (add it to resolution.allowSourceList)",
    )
    assert [(e.name, e.version) for e in selection.missing_top_level] == [("native", "1.0")]


def test_allow_source_list_and_all() -> None:
    listed = choose(lock(NATIVE), "macosx-aarch64", {"resolution": {"allowSourceList": ["native"]}})
    assert [(a.name, a.kind) for a in listed.selected] == [("native", "sdist")]
    every = choose(lock(NATIVE), "macosx-aarch64", {"resolution": {"allowSourceAll": True}})
    assert [(a.name, a.kind) for a in every.selected] == [("native", "sdist")]


def test_only_binary_means_a_wheel_or_nothing() -> None:
    selection = choose(
        lock(NATIVE), "macosx-aarch64", {"resolution": {"allowSourceAll": True, "onlyBinaryList": ["native"]}}
    )
    assert selection.selected == ()
    assert selection.excluded[0].reason == (
        "missing: no wheel matches the platform's tags; an sdist is not allowed (it is in onlyBinaryList)"
    )


def test_strict_missing_is_an_error_naming_package_and_platform() -> None:
    with pytest.raises(LockError) as caught:
        choose(lock(NATIVE), "macosx-aarch64", {"resolution": {"strictMissing": True}})
    assert str(caught.value) == (
        "strictMissing: nothing usable for\n  - native 1.0 on macosx-aarch64: no wheel matches the platform's tags; "
        "an sdist is not allowed (add it to resolution.allowSourceList)"
    )


def test_force_source_ships_the_sdist_where_a_wheel_exists() -> None:
    rules = {"forceSource": {"native": {"linux-x64": {"reason": "patched build"}}}}
    assert [(a.kind, a.file) for a in choose(lock(NATIVE), "linux-x64", rules).selected] == [
        ("sdist", "native-1.0.tar.gz")
    ]
    assert choose(lock(NATIVE), "windows-x64", rules).selected[0].kind == "wheel"


def test_force_no_binary_list_ships_the_sdist() -> None:
    selection = choose(lock(NATIVE), "linux-x64", {"resolution": {"forceNoBinaryList": ["native"]}})
    assert selection.selected[0].kind == "sdist"


def test_skip_drops_the_package_and_what_only_it_needed() -> None:
    data = lock(APP, HELPER, SHARED, requirements=["app", "shared"])
    selection = choose(data, "linux-x64", {"skip": {"app": {"linux-x64": {"reason": "not here"}}}})
    assert [a.name for a in selection.selected] == ["shared"]
    assert [(e.name, e.reason) for e in selection.excluded] == [
        ("app", "skip: not here"),
        ("helper", "only needed by excluded app"),
    ]
    assert [a.name for a in choose(data, "windows-x64").selected] == ["app", "helper", "shared"]


def test_marker_excluded_packages_are_not_selected() -> None:
    only_windows = dict(HELPER, marker="sys_platform == 'win32'")
    data = lock(only_windows, SHARED)
    assert [a.name for a in choose(data, "linux-aarch64").selected] == ["shared"]
    assert [a.name for a in choose(data, "windows-x64").selected] == ["helper", "shared"]


JINJA = {
    "name": "jinja",
    "version": "3.1",
    "dependencies": [{"name": "markup"}],
    "wheels": [wheel("jinja-3.1-py3-none-any.whl")],
}
MARKUP = {"name": "markup", "version": "3.0", "wheels": [wheel("markup-3.0-py3-none-any.whl")]}
SKIP_MARKUP = {"skip": {"markup": {"linux-x64": {"reason": "not wanted here"}}}}


def test_a_kept_package_requiring_a_skipped_one_is_an_error_naming_both() -> None:
    with pytest.raises(LockError) as caught:
        choose(lock(JINJA, MARKUP, requirements=["jinja"]), "linux-x64", SKIP_MARKUP)
    assert str(caught.value) == (
        "linux-x64: kept packages require skipped ones:\n"
        "  - jinja 3.1 requires markup, which skip removes on linux-x64 (not wanted here); skip jinja there too, "
        "or drop the skip rule for markup\n"
        "(packages.platformSpecific.linux-x64.resolution.strictMissing: false ships without them)"
    )


def test_strict_missing_false_downgrades_a_skipped_dependency_to_a_warning() -> None:
    relaxed = {**SKIP_MARKUP, "platformSpecific": {"linux-x64": {"resolution": {"strictMissing": False}}}}
    selection = choose(lock(JINJA, MARKUP, requirements=["jinja"]), "linux-x64", relaxed)
    assert [a.name for a in selection.selected] == ["jinja"]
    assert selection.warnings == (
        "WARNING: jinja 3.1 requires markup, which skip removes on linux-x64 (not wanted here); skip jinja there "
        "too, or drop the skip rule for markup (strictMissing is false: shipped without it)",
    )
    assert choose(lock(JINJA, MARKUP, requirements=["jinja"]), "windows-x64", relaxed).warnings == ()


VCS = {
    "name": "tiny-pkg",
    "version": "0.3.0",
    "vcs": {"type": "git", "url": "file:///srv/git/tiny-pkg", "commit-id": "f519b3e2d78d1db460074d4201b3b43f3fce0d0b"},
}


def test_a_vcs_package_needs_allow_source_or_build_wheel() -> None:
    refused = choose(lock(VCS), "linux-x64")
    assert [(e.name, e.reason) for e in refused.excluded] == [
        (
            "tiny-pkg",
            "missing: a VCS dependency ships as a source archive: add it to resolution.allowSourceList, or give it "
            "a buildWheel rule to ship a wheel",
        )
    ]
    allowed = choose(lock(VCS), "linux-x64", {"resolution": {"allowSourceList": ["tiny-pkg"]}}).selected
    assert [(a.kind, a.file, a.url, a.build_wheel) for a in allowed] == [
        ("vcs", "tiny_pkg-0.3.0.tar.gz", "git+file:///srv/git/tiny-pkg@f519b3e2d78d1db460074d4201b3b43f3fce0d0b", False)
    ]
    built = {"buildWheel": {"tiny-pkg": {"linux-x64": {"reason": "a wheel for the target"}}}}
    assert [(a.kind, a.build_wheel) for a in choose(lock(VCS), "linux-x64", built).selected] == [("vcs", True)]


MAC_ONLY_14 = {
    "name": "kalign",
    "version": "3.6.0",
    "wheels": [
        wheel("kalign-3.6.0-cp312-cp312-macosx_14_0_x86_64.whl"),
        wheel("kalign-3.6.0-cp312-cp312-manylinux_2_34_x86_64.whl"),
    ],
}


@pytest.mark.parametrize(
    ("platform", "needs", "floor"),
    [("macosx-x64", "macOS 14.0", "macOS 13.0"), ("linux-x64", "glibc 2.34", "glibc 2.28")],
)
def test_a_wheel_above_the_platforms_floor_is_a_missing_top_level_dependency(
    platform: str, needs: str, floor: str
) -> None:
    selection = choose(lock(MAC_ONLY_14), platform)
    assert [(e.name, e.reason) for e in selection.missing_top_level] == [
        (
            "kalign",
            f"missing: version 3.6.0's wheels for {platform} need {needs}, above the platform's floor ({floor}); "
            "pin a version built for the floor, allow the sdist, or skip it here",
        )
    ]


def test_a_version_without_any_wheel_for_the_platform_says_so() -> None:
    selection = choose(lock(MAC_ONLY_14), "windows-x64")
    assert [e.reason for e in selection.missing_top_level] == [
        "missing: version 3.6.0 has no wheel for windows-x64 and the lock has no sdist; pin a version with one, "
        "allow the sdist (resolution.allowSourceList), or skip it here"
    ]
    assert (
        choose(
            lock(MAC_ONLY_14), "windows-x64", {"skip": {"kalign": {"windows-x64": {"reason": "r"}}}}
        ).missing_top_level
        == ()
    )
