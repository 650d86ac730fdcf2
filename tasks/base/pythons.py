"""Where a cell's base CPython comes from. Pure: pin documents in, a BaseSource out.

``configs/pythons.json`` pins python-build-standalone ``install_only`` archives by URL and
SHA-256; ``$RUNENV_PYTHONS`` names a file of the same shape merged over it, whose entries may
instead be ``{"path": ...}`` (an installed CPython directory or a local archive);
``$RUNENV_PYTHON_MIRROR`` replaces the URL prefix (the hash is still checked).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from tasks.errors import BuildError

PYTHONS_VARIABLE = "RUNENV_PYTHONS"
MIRROR_VARIABLE = "RUNENV_PYTHON_MIRROR"


@dataclass(frozen=True)
class BaseSource:
    """An archive at ``url`` with ``sha256``, or a local ``path`` (directory or archive)."""

    version: str
    platform: str
    url: str | None = None
    sha256: str | None = None
    path: str | None = None


def merge_pins(pinned: Mapping[str, Any], extra: Mapping[str, Any] | None) -> dict[str, dict[str, Any]]:
    """Entries of *extra* replace the pinned entry of the same version and platform."""
    merged = {version: dict(platforms) for version, platforms in pinned.get("versions", {}).items()}
    for version, platforms in (extra or {}).get("versions", {}).items():
        merged.setdefault(version, {}).update(platforms)
    return merged


def mirrored(url: str, mirror: str | None) -> str:
    """``<mirror>/<release>/<file>``: the mirror replaces everything before the last two
    path segments of the pinned URL (release tag and file name)."""
    if not mirror:
        return url
    release, filename = url.rstrip("/").split("/")[-2:]
    return f"{mirror.rstrip('/')}/{release}/{filename}"


def base_source(pins: Mapping[str, Mapping[str, Any]], version: str, platform: str, mirror: str | None) -> BaseSource:
    entry = pins.get(version, {}).get(platform)
    if entry is None:
        raise BuildError(
            f"configs/pythons.json: no CPython {version} pinned for {platform}; add its python-build-standalone "
            f"install_only archive (url and sha256) there, or supply it through ${PYTHONS_VARIABLE}"
        )
    if "path" in entry:
        return BaseSource(version, platform, path=str(entry["path"]), sha256=entry.get("sha256"))
    return BaseSource(version, platform, url=mirrored(entry["url"], mirror), sha256=entry["sha256"])
