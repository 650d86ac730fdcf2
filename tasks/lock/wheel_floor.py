"""Why a package has no wheel for a platform, in words a user can act on. Pure.

A wheel can miss a platform for two reasons: it is built for another OS, architecture or
Python, or it is built for the right one but needs a newer OS than the platform's floor
(``macosx_14_0_x86_64`` against a macOS 13.0 floor, ``manylinux_2_34_x86_64`` against glibc 2.28).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence

from packaging.tags import Tag
from packaging.utils import InvalidWheelFilename, parse_wheel_filename

from tasks.model.platforms import Platform

VERSIONED = re.compile(r"^(?P<family>macosx|manylinux)_(?P<major>\d+)_(?P<minor>\d+)_(?P<arch>.+)$")


def version_tuple(text: str) -> tuple[int, ...]:
    return tuple(int(part) for part in text.split("."))


def floor_of(platform: Platform, family: str) -> str | None:
    return platform.macos_floor if family == "macosx" else platform.glibc_floor


def architectures(platform: Platform) -> dict[str, set[str]]:
    """{family: architectures} among the platform's own versioned tags."""
    found: dict[str, set[str]] = {}
    for tag in platform.platform_tags:
        if match := VERSIONED.match(tag):
            found.setdefault(match["family"], set()).add(match["arch"])
    return found


def above_floor(tag: Tag, platform: Platform, supported: set[Tag]) -> str | None:
    """'macOS 14.0' / 'glibc 2.34' when *tag* targets this platform but above its floor."""
    match = VERSIONED.match(tag.platform)
    if match is None or match["arch"] not in architectures(platform).get(match["family"], set()):
        return None
    if Tag(tag.interpreter, tag.abi, platform.platform_tags[0]) not in supported:
        return None  # built for another Python: not a floor problem
    needed = f"{match['major']}.{match['minor']}"
    floor = floor_of(platform, match["family"])
    if floor is None or version_tuple(needed) <= version_tuple(floor):
        return None
    return f"{'macOS' if match['family'] == 'macosx' else 'glibc'} {needed}"


def no_wheel_reason(filenames: Iterable[str], platform: Platform, tags: Sequence[Tag], version: str) -> str:
    """The reason *version*'s wheels (by file name) fit none of *platform*'s tags."""
    supported = set(tags)
    needs: set[str] = set()
    for filename in filenames:
        try:
            wheel_tags = parse_wheel_filename(filename)[-1]
        except InvalidWheelFilename:
            continue
        needs.update(need for tag in wheel_tags if (need := above_floor(tag, platform, supported)))
    if needs:
        floor_name = "macOS" if platform.macos_floor else "glibc"
        floor = platform.macos_floor or platform.glibc_floor
        lowest = sorted(needs, key=lambda n: version_tuple(n.split()[1]))[0]
        return (
            f"version {version}'s wheels for {platform.key} need {lowest}, above the platform's floor "
            f"({floor_name} {floor}); pin a version built for the floor, allow the sdist, or skip it here"
        )
    return (
        f"version {version} has no wheel for {platform.key} and the lock has no sdist; pin a version with "
        "one, allow the sdist (resolution.allowSourceList), or skip it here"
    )
