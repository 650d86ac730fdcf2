"""A variant may raise a platform's floor (pure: the platform table and a config in)."""

from __future__ import annotations

from tasks.model import platforms
from tasks.model.floors import floor_problems, floor_record, variant_platforms
from tests.conftest import REPO

PLATFORMS = platforms.load(REPO / "configs/platforms.json")


def document(floors: dict[str, object]) -> dict[str, object]:
    return {"packages": {"platformSpecific": {key: {"floor": value} for key, value in floors.items()}}}


def test_a_raised_macos_floor_accepts_wheels_up_to_it_first() -> None:
    raised = variant_platforms(PLATFORMS, {"platformSpecific": {"macosx-aarch64": {"floor": "14.0"}}})
    arm = raised["macosx-aarch64"]
    assert arm.macos_floor == "14.0"
    assert arm.platform_tags[:4] == ("macosx_14_0_arm64", "macosx_14_0_universal2", "macosx_13_0_arm64",
                                     "macosx_13_0_universal2")  # fmt: skip
    assert arm.platform_tags[2:] == PLATFORMS["macosx-aarch64"].platform_tags, "older tags still fit"
    assert raised["macosx-x64"] == PLATFORMS["macosx-x64"], "other platforms keep their floor"
    assert floor_record(arm) == {"macos": "14.0"}
    assert floor_record(raised["windows-x64"]) == {}


def test_a_raised_glibc_floor_changes_tags_and_uv_platform() -> None:
    raised = variant_platforms(PLATFORMS, {"platformSpecific": {"linux-aarch64": {"floor": "2.31"}}})
    linux = raised["linux-aarch64"]
    assert linux.platform_tags[:4] == ("manylinux_2_31_aarch64", "manylinux_2_30_aarch64", "manylinux_2_29_aarch64",
                                       "manylinux_2_28_aarch64")  # fmt: skip
    assert (linux.uv_platform, linux.glibc_floor) == ("aarch64-manylinux_2_31", "2.31")
    assert floor_record(linux) == {"glibc": "2.31"}


def test_the_default_floor_changes_nothing() -> None:
    same = variant_platforms(PLATFORMS, {"platformSpecific": {"macosx-x64": {"floor": "13.0"}}})
    assert same == PLATFORMS


def test_floor_problems_name_the_file_and_key() -> None:
    floors = {"macosx-aarch64": "12.0", "windows-x64": "10.0", "linux-x64": "2.2x", "macosx-x64": 14}
    assert floor_problems(document(floors), "python-x/config.json", PLATFORMS) == [
        "python-x/config.json: $.packages.platformSpecific.macosx-aarch64.floor: '12.0' would lower the floor of "
        "macosx-aarch64 (macOS 13.0 in configs/platforms.json); a variant may only raise it",
        "python-x/config.json: $.packages.platformSpecific.windows-x64.floor: windows-x64 has no floor to raise; "
        "remove this key",
        "python-x/config.json: $.packages.platformSpecific.linux-x64.floor: expected a glibc version such as "
        "'2.34', got '2.2x'",
        "python-x/config.json: $.packages.platformSpecific.macosx-x64.floor: expected a macOS version such as "
        "'14.0', got 14",
    ]
    assert floor_problems(document({"linux-x64": "3.1"}), "c.json", PLATFORMS) == [
        "c.json: $.packages.platformSpecific.linux-x64.floor: '3.1' is not a glibc version runenv can resolve "
        "for; use 2.28 to 2.40"
    ]
    assert floor_problems(document({"linux-x64": "2.34", "macosx-x64": "15.0"}), "c.json", PLATFORMS) == []
