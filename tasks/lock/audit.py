"""Before select trusts a committed lock: its entries parse, and it covers the config. Pure.

A lock is up to date whenever its input hash matches the config, so a lock edited by hand
(a package block deleted, a version changed without its files) would otherwise be trusted.
Every top-level requirement of the merged config must be in the lock on every platform it
applies on, or recorded there as deliberately off that platform (a skip rule is part of the
requirement's marker; a pin without a wheel is under ``[tool.runenv.no-wheel]``).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from contextlib import suppress
from typing import Any

from packaging.markers import Marker
from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import (
    InvalidSdistFilename,
    InvalidWheelFilename,
    canonicalize_name,
    canonicalize_version,
    parse_sdist_filename,
    parse_wheel_filename,
)
from packaging.version import InvalidVersion, Version

from tasks.lock.lockfile import no_wheel_records, wheel_filename
from tasks.lock.wheel_coverage import chosen_on
from tasks.model.platforms import Platform


def file_name(entry: Mapping[str, Any]) -> str:
    return str(entry.get("name") or wheel_filename(str(entry.get("url") or entry.get("path") or "")))


def entry_problem(package: Any) -> str | None:
    """Why one ``[[packages]]`` entry cannot be trusted, or None."""
    if not isinstance(package, Mapping) or not isinstance(package.get("name"), str):
        return "an entry without a name"
    name, version = canonicalize_name(package["name"]), package.get("version")
    try:
        wanted = canonicalize_version(Version(str(version))) if version is not None else None
    except InvalidVersion:
        return f"{name}: version {version!r} is not a version"
    for kind, entries in (("wheel", package.get("wheels", [])), ("sdist", [package.get("sdist")])):
        for entry in (e for e in entries if e is not None):
            filename = file_name(entry) if isinstance(entry, Mapping) else ""
            if not filename or "/" in str(entry.get("name", "")) or "\\" in filename or ".." in filename:
                return f"{name} {version}: {kind} file name {filename!r} is not one plain file name"
            try:
                parsed = parse_wheel_filename(filename)[:2] if kind == "wheel" else parse_sdist_filename(filename)
            except (InvalidWheelFilename, InvalidSdistFilename) as exc:
                return f"{name} {version}: {kind} {filename!r} does not parse ({exc})"
            if parsed[0] != name or (wanted is not None and canonicalize_version(parsed[1]) != wanted):
                return f"{name} {version}: {kind} {filename} is {parsed[0]} {parsed[1]}, not this entry"
    return None


def entry_problems(lock: Mapping[str, Any], source: str) -> Iterator[str]:
    packages = lock.get("packages", [])
    for index, package in enumerate(packages if isinstance(packages, list) else [None]):
        if problem := entry_problem(package):
            yield f"{source}: packages[{index}]: {problem}"


def covered(lock: Mapping[str, Any], platforms: Mapping[str, Platform], python_version: str) -> dict[str, Platform]:
    """The platforms the lock resolves for (a pip-tools lock: the host's; select refuses the others)."""
    markers = [Marker(text) for text in lock.get("environments") or []]
    return {
        key: platform
        for key, platform in platforms.items()
        if not markers or any(m.evaluate(platform.environment(python_version)) for m in markers)
    }


def lock_name(requirement: Requirement, index: int, resolved: Sequence[str]) -> str:
    """The name the lock holds a top-level requirement under: a VCS requirement is named by its
    built metadata, recorded in place among the lock's requirements."""
    if requirement.url and index < len(resolved):
        with suppress(InvalidRequirement):
            return canonicalize_name(Requirement(resolved[index]).name)
    return canonicalize_name(requirement.name)


def coverage_problems(
    lock: Mapping[str, Any],
    source: str,
    requirements: Sequence[tuple[str, str]],
    platforms: Mapping[str, Platform],
    python_version: str,
) -> Iterator[str]:
    """Top-level requirements (config key, requirement with markers) the lock lacks somewhere."""
    off = {(record.name, record.platform) for record in no_wheel_records(lock)}
    platforms = covered(lock, platforms, python_version)
    resolved = list(lock.get("tool", {}).get("runenv", {}).get("requirements", []))
    chosen = {key: chosen_on(lock, platform, python_version) for key, platform in platforms.items()}
    for index, (key, text) in enumerate(requirements):
        requirement = Requirement(text)
        name = lock_name(requirement, index, resolved)
        lacking = [
            platform_key
            for platform_key, platform in platforms.items()
            if requirement.marker is None
            or requirement.marker.evaluate({**platform.environment(python_version), "extra": ""})
            if name not in chosen[platform_key] and (name, platform_key) not in off
        ]
        if lacking:
            yield f"{source}: {key} applies on {', '.join(lacking)}, but the lock has no {name} there"


def audit(
    lock: Mapping[str, Any],
    source: str,
    requirements: Sequence[tuple[str, str]],
    platforms: Mapping[str, Platform],
    python_version: str,
) -> list[str]:
    """Every reason not to trust the lock; each line names the file and the entry or requirement."""
    broken = list(entry_problems(lock, source))
    return broken or list(coverage_problems(lock, source, requirements, platforms, python_version))
