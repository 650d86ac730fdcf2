"""A variant may raise a platform's floor (``packages.platformSpecific.<platform>.floor``). Pure.

New wheels increasingly ship for macOS 14+ or a newer glibc only. A variant that needs one
raises the floor of that platform: the macOS version for ``macosx-*``, the glibc version for
``linux-*``. It changes what lock, select and the static check accept for that variant on
that platform, and it may only raise the floor of ``configs/platforms.json``, never lower it.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import replace
from typing import Any

from packaging.tags import mac_platforms

from tasks.model.platforms import Platform

FLOOR = re.compile(r"^(?P<major>\d+)\.(?P<minor>\d+)$")
VERSIONED = re.compile(r"^macosx_(?P<major>\d+)_(?P<minor>\d+)_(?P<arch>.+)$")
GLIBC_MINOR_LIMIT = 40  # the newest manylinux uv resolves for (x86_64-manylinux_2_40)


def version_of(text: str) -> tuple[int, int]:
    match = FLOOR.match(text)
    if match is None:
        raise ValueError(text)
    return int(match["major"]), int(match["minor"])


def default_floor(platform: Platform) -> str | None:
    return platform.macos_floor or platform.glibc_floor


def floor_kind(platform: Platform) -> str:
    return "macOS" if platform.macos_floor else "glibc"


def floor_label(platform: Platform) -> str:
    """``macOS 13.0``, ``glibc 2.28``, or the platform's first tag where it has no floor."""
    floor = default_floor(platform)
    return f"{floor_kind(platform)} {floor}" if floor else platform.platform_tags[0]


def floor_record(platform: Platform) -> dict[str, str]:
    """What runenv.json and the catalogue index say a cell needs: ``{"macos": "14.0"}``,
    ``{"glibc": "2.28"}``, or ``{}`` where the platform has no floor."""
    if platform.macos_floor:
        return {"macos": platform.macos_floor}
    return {"glibc": platform.glibc_floor} if platform.glibc_floor else {}


def floor_problem(platform: Platform, value: Any) -> str | None:
    """Why *value* cannot be *platform*'s floor, or None."""
    if platform.is_windows or default_floor(platform) is None:
        return f"{platform.key} has no floor to raise; remove this key"
    example = "14.0" if platform.macos_floor else "2.34"
    if not isinstance(value, str) or not FLOOR.match(value):
        return f"expected a {floor_kind(platform)} version such as {example!r}, got {value!r}"
    current = str(default_floor(platform))
    if version_of(value) < version_of(current):
        return (
            f"{value!r} would lower the floor of {platform.key} ({floor_label(platform)} in configs/platforms.json); "
            "a variant may only raise it"
        )
    if platform.glibc_floor and (version_of(value)[0] != 2 or version_of(value)[1] > GLIBC_MINOR_LIMIT):
        return f"{value!r} is not a glibc version runenv can resolve for; use 2.{version_of(current)[1]} to 2.40"
    return None


def floor_problems(document: Any, source: str, platforms: Mapping[str, Platform]) -> list[str]:
    """Problems of every ``floor`` in one config document, each naming the file and JSON path."""
    packages = document.get("packages") if isinstance(document, dict) else None
    specific = packages.get("platformSpecific") if isinstance(packages, dict) else None
    entries = specific.items() if isinstance(specific, dict) else []
    return [
        f"{source}: $.packages.platformSpecific.{key}.floor: {problem}"
        for key, entry in entries
        if isinstance(entry, dict) and "floor" in entry and key in platforms
        if (problem := floor_problem(platforms[key], entry["floor"]))
    ]


def macos_tags_above(platform: Platform, floor: str) -> Iterator[str]:
    """The macOS tags of versions above the platform's floor, up to *floor*, best first."""
    arch = VERSIONED.match(platform.platform_tags[0])
    if arch is None:
        return
    current = version_of(str(platform.macos_floor))
    for tag in mac_platforms(version_of(floor), "arm64" if arch["arch"] == "arm64" else "x86_64"):
        match = VERSIONED.match(tag)
        if match and (int(match["major"]), int(match["minor"])) > current:
            yield tag


def raised(platform: Platform, floor: str | None) -> Platform:
    """*platform* with its floor raised to *floor* (None or the same floor: unchanged)."""
    if floor is None or floor == default_floor(platform):
        return platform
    if platform.macos_floor:
        tags = (*macos_tags_above(platform, floor), *platform.platform_tags)
        return replace(platform, macos_floor=floor, platform_tags=tags)
    arch = platform.platform_tags[0].split("_", 3)[-1]
    old, new = version_of(str(platform.glibc_floor))[1], version_of(floor)[1]
    tags = (*(f"manylinux_2_{minor}_{arch}" for minor in range(new, old, -1)), *platform.platform_tags)
    uv_platform = f"{platform.uv_platform.split('-', 1)[0]}-manylinux_2_{new}"
    return replace(platform, glibc_floor=floor, platform_tags=tags, uv_platform=uv_platform)


def floors_of(packages: Mapping[str, Any]) -> dict[str, str]:
    """{platform key: floor} a merged config raises."""
    return {key: entry["floor"] for key, entry in packages.get("platformSpecific", {}).items() if "floor" in entry}


def variant_platforms(platforms: Mapping[str, Platform], packages: Mapping[str, Any]) -> dict[str, Platform]:
    """The platform table of one variant: configs/platforms.json with the variant's floors."""
    floors = floors_of(packages)
    return {key: raised(platform, floors.get(key)) for key, platform in platforms.items()}
