"""Does every platform get a wheel? Pure: a universal lock and the platform table in, gaps,
fork constraints, notes and per-entry dependency edges out.

A universal resolution picks one version per package for all platforms, looking only at
environment markers. A package that ships wheels only (no source rule covers it) needs a
wheel that fits each platform's tags, floors included (manylinux_2_28, macOS 13.0). A gap is
a locked version without one; the lock stage then resolves that platform alone and pins its
choice under the platform's marker, so only the packages that must differ fork.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from packaging.markers import Marker
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

from tasks.lock.lockfile import wheel_fits
from tasks.lock.resolver_input import platform_marker
from tasks.model.platforms import Platform

ALL = "*"  # in a platform's source-allowed names: every package may be built from source


@dataclass(frozen=True)
class Gap:
    name: str
    version: str
    platform: str


@lru_cache(maxsize=4096)
def parsed_marker(text: str) -> Marker:
    return Marker(text)


def applies(package: Mapping[str, Any], environment: Mapping[str, str]) -> bool:
    marker = package.get("marker")
    return not marker or parsed_marker(marker).evaluate(dict(environment))


def chosen_on(lock: Mapping[str, Any], platform: Platform, python_version: str) -> dict[str, str]:
    """{canonical name: version} of the lock's entries that apply on *platform*."""
    environment = platform.environment(python_version)
    return {
        canonicalize_name(p["name"]): str(p.get("version", ""))
        for p in lock.get("packages", [])
        if applies(p, environment)
    }


def gaps(
    lock: Mapping[str, Any],
    platforms: Mapping[str, Platform],
    python_version: str,
    source_allowed: Mapping[str, frozenset[str]],
) -> list[Gap]:
    """Locked versions that apply on a platform, must ship as a wheel there, and have none
    that fits its tags."""
    found = []
    for key, platform in platforms.items():
        allowed = source_allowed.get(key, frozenset())
        if ALL in allowed:
            continue
        tags = set(platform.tags(python_version))
        environment = platform.environment(python_version)
        for package in lock.get("packages", []):
            name = canonicalize_name(package["name"])
            if name in allowed or "vcs" in package or not applies(package, environment):
                continue
            if not any(wheel_fits(wheel, tags) for wheel in package.get("wheels", [])):
                found.append(Gap(name, str(package.get("version", "")), key))
    return found


def exact_pin(text: str) -> str | None:
    """The version of an ``==`` pin without wildcards, else None."""
    specifiers = list(Requirement(text).specifier)
    if len(specifiers) == 1 and specifiers[0].operator in ("==", "===") and "*" not in specifiers[0].version:
        return specifiers[0].version
    return None


def pinned_gaps(
    found: Sequence[Gap], requirements: Sequence[str], platforms: Mapping[str, Platform], python_version: str
) -> list[tuple[Gap, str]]:
    """Gaps of top-level ``==`` pins whose requirement applies on the gap's platform (a skip
    rule removes a platform from the marker), with the requirement as written."""
    pins: dict[tuple[str, str], str] = {}
    for text in requirements:
        requirement = Requirement(text)
        if exact_pin(text) is None:
            continue
        for key, platform in platforms.items():
            environment = platform.environment(python_version)
            if requirement.marker is None or requirement.marker.evaluate({**environment, "extra": ""}):
                pins[(canonicalize_name(requirement.name), key)] = text
    return [(gap, pins[(gap.name, gap.platform)]) for gap in found if (gap.name, gap.platform) in pins]


def fork_pins(platform_lock: Mapping[str, Any], platform: Platform) -> list[str]:
    """Constraints that make a universal resolution choose, on *platform* only, what the
    platform's own resolution chose."""
    marker = platform_marker(platform)
    return sorted(
        f"{p['name']}=={p['version']} ; {marker}"
        for p in platform_lock.get("packages", [])
        if "version" in p and not {"vcs", "directory", "archive"} & p.keys()
    )


def forked_versions(
    lock: Mapping[str, Any], platforms: Mapping[str, Platform], python_version: str
) -> dict[str, list[tuple[str, list[str]]]]:
    """{package: [(version, platform keys)], newest first} for each package the lock holds in
    several versions."""
    on: dict[str, dict[str, list[str]]] = {}
    for key, platform in platforms.items():
        for name, version in chosen_on(lock, platform, python_version).items():
            on.setdefault(name, {}).setdefault(version, []).append(key)
    return {
        name: sorted(versions.items(), key=lambda item: Version(item[0]), reverse=True)
        for name, versions in sorted(on.items())
        if len(versions) > 1 and "" not in versions
    }


def fork_note(name: str, versions: Sequence[tuple[str, Sequence[str]]], newest_lacks: Iterable[str]) -> str:
    """``forked numba: 0.68.1 on linux-x64, …; 0.62.1 on macosx-x64 (0.68.1 has no wheel for
    macosx-x64)``; *newest_lacks* are the platforms the newest version has no wheel for."""
    parts = "; ".join(f"{version} on {', '.join(keys)}" for version, keys in versions)
    lacking = sorted(set(newest_lacks))
    others = [key for _, keys in versions[1:] for key in keys if key not in lacking]
    reasons = [f"{versions[0][0]} has no wheel for {', '.join(lacking)}"] if lacking else []
    if others:
        reasons.append(f"on {', '.join(others)} its dependents require it, or other forks do")
    return f"forked {name}: {parts} ({'; '.join(reasons)})"


def entry_dependencies(
    lock: Mapping[str, Any],
    platforms: Mapping[str, Platform],
    python_version: str,
    graphs: Mapping[str, Mapping[str, Sequence[str]]],
) -> dict[tuple[str, str], list[dict[str, str]]]:
    """PEP 751 ``dependencies`` of each (name, version) entry: for every platform the entry
    applies on, its children in that platform's graph, each as the version chosen there.
    A child's version is written only when the lock holds several versions of it."""
    edges: dict[tuple[str, str], set[tuple[str, str]]] = {}
    versions: dict[str, set[str]] = {}
    for key, platform in platforms.items():
        chosen = chosen_on(lock, platform, python_version)
        graph = graphs.get(key, {})
        for name, version in chosen.items():
            versions.setdefault(name, set()).add(version)
            children = {(c, chosen[c]) for c in graph.get(name, []) if c in chosen}
            edges.setdefault((name, version), set()).update(children)
    return {
        parent: [{"name": c} | ({"version": v} if len(versions.get(c, ())) > 1 else {}) for c, v in sorted(children)]
        for parent, children in edges.items()
    }


def platform_pins(lock: Mapping[str, Any], platform: Platform, python_version: str) -> str:
    """Unconditional pins of what the lock chooses on one platform."""
    return "".join(
        f"{name}=={version}\n" for name, version in sorted(chosen_on(lock, platform, python_version).items())
    )
