"""The five target platforms as explicit data, loaded from ``configs/platforms.json``.

Build logic never reads the host to decide what a target needs: a platform is a marker
environment plus an ordered list of wheel platform tags, combined here with the variant's
Python version through ``packaging.tags``.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any


def major_minor(python_version: str) -> str:
    """``3.12`` of ``3.12.10``."""
    return ".".join(python_version.split(".")[:2])


PLATFORM_KEYS = ("linux-x64", "linux-aarch64", "macosx-x64", "macosx-aarch64", "windows-x64")


@dataclass(frozen=True)
class Platform:
    key: str
    os: str
    arch: str
    uv_platform: str
    markers: dict[str, str]
    platform_tags: tuple[str, ...]
    glibc_floor: str | None
    macos_floor: str | None

    @property
    def is_windows(self) -> bool:
        return self.os == "windows"

    def environment(self, python_full_version: str) -> dict[str, str]:
        """The PEP 508 marker environment of this platform for one CPython version."""
        return {
            **self.markers,
            "python_version": major_minor(python_full_version),
            "python_full_version": python_full_version,
            "implementation_version": python_full_version,
        }

    def tags(self, python_full_version: str) -> list[Any]:
        """Compatible wheel tags for this platform and CPython version, best first."""
        from packaging import tags

        major, minor = (int(part) for part in major_minor(python_full_version).split("."))
        interpreter = f"cp{major}{minor}"
        return [
            *tags.cpython_tags((major, minor), [interpreter], self.platform_tags),
            *tags.compatible_tags((major, minor), interpreter, self.platform_tags),
        ]


def floor_env(platform: Platform) -> dict[str, str]:
    """uv reads the macOS floor of --python-platform from MACOSX_DEPLOYMENT_TARGET."""
    return {"MACOSX_DEPLOYMENT_TARGET": platform.macos_floor} if platform.macos_floor else {}


def loads(text: str, source: str) -> dict[str, Platform]:
    from tasks.model import jsonio

    raw = jsonio.loads(text, source)["platforms"]
    return {
        key: Platform(
            key=key,
            os=entry["os"],
            arch=entry["arch"],
            uv_platform=entry["uvPlatform"],
            markers=dict(entry["markers"]),
            platform_tags=tuple(entry["platformTags"]),
            glibc_floor=entry.get("glibcFloor"),
            macos_floor=entry.get("macosFloor"),
        )
        for key, entry in raw.items()
    }


def load(path: Path) -> dict[str, Platform]:
    return loads(path.read_text(encoding="utf-8"), str(path))


def host_platform_key(system: str, machine: str) -> str | None:
    """The platform key of a host given ``platform.system()`` and ``platform.machine()``.

    Used only to decide where native steps (the import check) can run, never to choose
    what a target gets.
    """
    arch = {"x86_64": "x64", "amd64": "x64", "aarch64": "aarch64", "arm64": "aarch64"}.get(machine.lower())
    os_name = {"linux": "linux", "darwin": "macosx", "windows": "windows"}.get(system.lower())
    key = f"{os_name}-{arch}"
    return key if key in PLATFORM_KEYS else None


__all__ = ["PLATFORM_KEYS", "Platform", "floor_env", "host_platform_key", "load", "loads"]
