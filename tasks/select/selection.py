"""Select exactly one artifact per package for one platform from the universal lock. Pure.

Built on ``packaging.pylock.Pylock.select`` (explicit foreign environment and tags), run
one package at a time so that every problem is reported, not only the first one.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, cast

from packaging.markers import Environment
from packaging.pylock import PackageSdist, PackageVcs, PackageWheel, Pylock, PylockSelectError
from packaging.utils import canonicalize_name, parse_wheel_filename

from tasks.config.policy import Policy
from tasks.errors import LockError
from tasks.lock.lockfile import nearest_text, no_wheel_records
from tasks.lock.wheel_coverage import applies
from tasks.lock.wheel_floor import no_wheel_reason
from tasks.model.platforms import Platform
from tasks.model.records import LeftOut, Selected
from tasks.model.requirements import parse

VCS_NEEDS_RULE = (
    "a VCS dependency ships as a source archive: add it to resolution.allowSourceList, or give it a "
    "buildWheel rule to ship a wheel"
)


@dataclass(frozen=True)
class Selection:
    platform: str
    selected: tuple[Selected, ...]
    excluded: tuple[LeftOut, ...]
    warnings: tuple[str, ...]
    missing_top_level: tuple[LeftOut, ...] = ()


def artifact_of(name: str, version: str, chosen: PackageWheel | PackageSdist, build_wheel: bool) -> Selected:
    url = chosen.url or chosen.path or ""
    filename = chosen.name or url.rsplit("/", 1)[-1]
    return Selected(
        name=name,
        version=version,
        kind="wheel" if isinstance(chosen, PackageWheel) else "sdist",
        file=filename,
        url=url,
        sha256=chosen.hashes["sha256"],
        size=chosen.size,
        build_wheel=build_wheel,
    )


def vcs_artifact(name: str, version: str, vcs: PackageVcs, build_wheel: bool) -> Selected:
    """A VCS package ships as ``<name>-<version>.tar.gz`` made from the locked commit; its
    sha256 is known once the fetch stage has made it."""
    url = f"{vcs.type}+{vcs.url or vcs.path}@{vcs.commit_id}"
    filename = f"{name.replace('-', '_')}-{version}.tar.gz"
    return Selected(name, version, "vcs", filename, url, "", None, build_wheel)


def choose(
    lock: Pylock, package: Any, platform: Platform, python_version: str, policy: Policy
) -> Selected | str | None:
    """The artifact for *package*, a reason it has none, or None when its marker excludes it.

    Every rule is consulted before a package is refused: a VCS or sdist-only package that
    allowSourceList or buildWheel lets through is never rejected by an earlier check."""
    name, version = str(package.name), str(package.version)
    tags = platform.tags(python_version)
    single = dataclasses.replace(lock, packages=[package])
    environment = cast(Environment, platform.environment(python_version))
    try:
        picked = list(single.select(environment=environment, tags=tags, prefer_sdist_predicate=policy.prefers_sdist))
    except PylockSelectError:
        names = [w.name or (w.url or w.path or "").rsplit("/", 1)[-1] for w in package.wheels or []]
        return no_wheel_reason(names, platform, tags, version)
    if not picked:
        return None
    _, chosen = picked[0]
    if isinstance(chosen, PackageVcs):
        return (
            vcs_artifact(name, version, chosen, name in policy.build_wheel)
            if policy.sdist_allowed(name)
            else (VCS_NEEDS_RULE)
        )
    if not isinstance(chosen, PackageWheel | PackageSdist):
        return "a directory or archive dependency cannot ship in a wheelhouse: publish it to an index as a wheel"
    if isinstance(chosen, PackageWheel):
        if policy.prefers_sdist(name):
            return "forceSource asks for the sdist, but the lock has none"
        if parse_wheel_filename(chosen.filename)[-1].isdisjoint(tags):
            raise LockError(f"{name} {version}: selected wheel {chosen.filename} does not fit the platform's tags")
        return artifact_of(name, version, chosen, False)
    if not policy.sdist_allowed(name):
        fix = "it is in onlyBinaryList" if name in policy.only_binary else "add it to resolution.allowSourceList"
        return f"no wheel matches the platform's tags; an sdist is not allowed ({fix})"
    return artifact_of(name, version, chosen, name in policy.build_wheel)


def closure(starts: Sequence[str], graph: Mapping[str, Sequence[str]], blocked: set[str]) -> set[str]:
    seen: set[str] = set()
    stack = [s for s in starts if s not in blocked]
    while stack:
        node = stack.pop()
        if node not in seen:
            seen.add(node)
            stack.extend(c for c in graph.get(node, []) if c not in blocked)
    return seen


def applicable_roots(requirements: Sequence[str], environment: dict[str, str]) -> list[str]:
    roots: list[str] = []
    for text in requirements:
        requirement = parse(text)
        if requirement.marker is None or requirement.marker.evaluate(environment):
            roots.append(canonicalize_name(requirement.name))
    return roots


def drop_unneeded(
    chosen: dict[str, Selected], excluded: list[LeftOut], roots: list[str], graph: Mapping[str, Sequence[str]]
) -> list[LeftOut]:
    """Packages that only excluded packages needed, each with the names that needed it."""
    blocked = {e.name for e in excluded}
    needed = closure(roots, graph, blocked)
    dropped = []
    for name in sorted(set(chosen) - needed):
        by = sorted(b for b in blocked if name in closure([b], graph, set()))
        artifact = chosen.pop(name)
        dropped.append(LeftOut(name, artifact.version, f"only needed by excluded {', '.join(by) or 'packages'}"))
    return dropped


def skipped_by_markers(lock_data: Mapping[str, Any], policy: Policy, listed: set[str]) -> list[LeftOut]:
    """Skip rules the resolver already applied through markers: listed too, never silent."""
    versions = {p["name"]: p.get("version", "") for p in lock_data.get("packages", [])}
    roots = lock_data.get("tool", {}).get("runenv", {}).get("roots", [])
    return [
        LeftOut(name, versions.get(name, ""), f"skip: {reason} (with whatever only it needed)")
        for name, reason in policy.skip.items()
        if name not in listed and (name in versions or name in roots)
    ]


FOREIGN_FOR_PIP_TOOLS = (
    "build.resolver pip-tools resolves for the host platform only: pip evaluates environment markers "
    "against the interpreter it runs in, even with --platform (pip issue 11664), so its lock would be wrong "
    "here. Use the uv resolver (the default) to build every platform from one host"
)


def check_covered(lock: Pylock, lock_data: Mapping[str, Any], platform: Platform, environment: dict[str, str]) -> None:
    if lock.environments and not any(m.evaluate(environment) for m in lock.environments):
        resolver = lock_data.get("tool", {}).get("runenv", {}).get("resolver")
        why = FOREIGN_FOR_PIP_TOOLS if resolver == "pip-tools" else "re-lock it (doit lock)"
        raise LockError(f"the lock does not cover {platform.key}: {why}")


def skipped_dependency_problems(
    chosen: Mapping[str, Selected], graph: Mapping[str, Sequence[str]], skipped: Mapping[str, str], platform: str
) -> list[str]:
    """Kept packages that require a package a skip rule removes on this platform."""
    return [
        f"{name} {artifact.version} requires {dependency}, which skip removes on {platform} ({skipped[dependency]}); "
        f"skip {name} there too, or drop the skip rule for {dependency}"
        for name, artifact in sorted(chosen.items())
        for dependency in graph.get(name, [])
        if dependency in skipped
    ]


def partition(
    lock: Pylock, platform: Platform, python_version: str, policy: Policy
) -> tuple[dict[str, Selected], list[LeftOut], list[LeftOut], dict[str, str]]:
    """(chosen, skipped, missing, {skipped name: reason}) over every package of the lock."""
    chosen: dict[str, Selected] = {}
    skipped: list[LeftOut] = []
    missing: list[LeftOut] = []
    for package in lock.packages:
        name, version = str(package.name), str(package.version)
        outcome = choose(lock, package, platform, python_version, policy)
        if outcome is None:
            continue
        if name in policy.skip:
            skipped.append(LeftOut(name, version, f"skip: {policy.skip[name]}"))
        elif isinstance(outcome, str):
            missing.append(LeftOut(name, version, f"missing: {outcome}"))
        else:
            chosen[name] = outcome
    return chosen, skipped, missing, {e.name: policy.skip[e.name] for e in skipped}


def without_wheels(lock_data: Mapping[str, Any], platform: str) -> list[LeftOut]:
    """Top-level packages the lock left off *platform*: no version has a wheel there, or
    (strictMissing false) the pin has none; with the nearest versions that have one."""
    return [
        LeftOut(
            record.name,
            record.version,
            f"missing: {record.reason}" + (f"; {nearest_text(record.nearest)}" if record.version else ""),
            record.nearest,
        )
        for record in no_wheel_records(lock_data)
        if record.platform == platform
    ]


def platform_graph(lock_data: Mapping[str, Any], environment: Mapping[str, str]) -> dict[str, list[str]]:
    """{package: its dependencies} on one platform: only the entries whose marker holds there
    (a lock may hold two versions of a package), and of a dependency written with a version,
    only that version."""
    entries = [p for p in lock_data.get("packages", []) if applies(p, environment)]
    chosen = {canonicalize_name(p["name"]): str(p.get("version", "")) for p in entries}
    return {
        canonicalize_name(p["name"]): [
            canonicalize_name(d["name"])
            for d in p.get("dependencies", [])
            if "version" not in d or d["version"] == chosen.get(canonicalize_name(d["name"]))
        ]
        for p in entries
    }


def select(lock_data: Mapping[str, Any], platform: Platform, python_version: str, policy: Policy) -> Selection:
    """One artifact per package for *platform*; raises LockError under strictMissing, and
    when a kept package requires a skipped one (unless strictMissing is false)."""
    lock = Pylock.from_dict(dict(lock_data))
    environment = platform.environment(python_version)
    check_covered(lock, lock_data, platform, environment)
    chosen, skipped, missing, skip_reasons = partition(lock, platform, python_version, policy)
    excluded = [*skipped, *missing, *skipped_by_markers(lock_data, policy, {e.name for e in skipped + missing})]
    if missing and policy.strict_missing:
        lines = [f"{e.name} {e.version} on {platform.key}: {e.reason.removeprefix('missing: ')}" for e in missing]
        raise LockError("strictMissing: nothing usable for\n" + "\n".join(f"  - {m}" for m in lines))
    requirements = lock_data.get("tool", {}).get("runenv", {}).get("requirements", [])
    roots = applicable_roots(requirements, environment)
    graph = platform_graph(lock_data, environment)
    if requirements and any(graph.values()):
        excluded += drop_unneeded(chosen, excluded, roots, graph)
    needs_skipped = skipped_dependency_problems(chosen, graph, skip_reasons, platform.key)
    if needs_skipped and policy.skipped_dependency_is_error:
        raise LockError(
            f"{platform.key}: kept packages require skipped ones:\n"
            + "\n".join(f"  - {p}" for p in needs_skipped)
            + f"\n(packages.platformSpecific.{platform.key}.resolution.strictMissing: false ships without them)"
        )
    warnings = [
        f"WARNING: skipped {e.name} {e.version} on {platform.key}: {e.reason[len('missing: ') :]}" for e in missing
    ]
    warnings += [f"WARNING: {p} (strictMissing is false: shipped without it)" for p in needs_skipped]
    return Selection(
        platform.key,
        tuple(sorted(chosen.values(), key=lambda a: a.name)),
        tuple(sorted(excluded, key=lambda e: e.name)),
        tuple(warnings),
        tuple(
            sorted(
                [*(e for e in missing if e.name in roots), *without_wheels(lock_data, platform.key)],
                key=lambda e: e.name,
            )
        ),
    )
