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
from packaging.pylock import PackageSdist, PackageWheel, Pylock, PylockSelectError
from packaging.requirements import Requirement
from packaging.tags import Tag
from packaging.utils import canonicalize_name, parse_wheel_filename

from tasks.core.platforms import Platform
from tasks.core.policy import Policy
from tasks.errors import LockError


@dataclass(frozen=True)
class Artifact:
    name: str
    version: str
    kind: str  # "wheel" or "sdist"
    filename: str
    url: str
    sha256: str
    size: int | None
    build_wheel: bool = False


@dataclass(frozen=True)
class Excluded:
    name: str
    version: str
    reason: str


@dataclass(frozen=True)
class Selection:
    platform: str
    selected: tuple[Artifact, ...]
    excluded: tuple[Excluded, ...]
    warnings: tuple[str, ...]


def artifact_of(name: str, version: str, chosen: PackageWheel | PackageSdist, build_wheel: bool) -> Artifact:
    url = chosen.url or chosen.path or ""
    filename = chosen.name or url.rsplit("/", 1)[-1]
    return Artifact(
        name=name,
        version=version,
        kind="wheel" if isinstance(chosen, PackageWheel) else "sdist",
        filename=filename,
        url=url,
        sha256=chosen.hashes["sha256"],
        size=chosen.size,
        build_wheel=build_wheel,
    )


def choose(
    lock: Pylock, package: Any, environment: dict[str, str], tags: Sequence[Tag], policy: Policy
) -> Artifact | str | None:
    """The artifact for *package*, a reason it has none, or None when its marker excludes it."""
    name = str(package.name)
    single = dataclasses.replace(lock, packages=[package])
    try:
        picked = list(
            single.select(
                environment=cast(Environment, environment), tags=tags, prefer_sdist_predicate=policy.prefers_sdist
            )
        )
    except PylockSelectError:
        return "no wheel matches the platform's tags and the lock has no sdist"
    if not picked:
        return None
    _, chosen = picked[0]
    version = str(package.version)
    if not isinstance(chosen, PackageWheel | PackageSdist):
        return "a VCS, directory or URL dependency must be built into a wheel: add a buildWheel rule for it"
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
        requirement = Requirement(text)
        if requirement.marker is None or requirement.marker.evaluate(environment):
            roots.append(canonicalize_name(requirement.name))
    return roots


def drop_unneeded(
    chosen: dict[str, Artifact], excluded: list[Excluded], roots: list[str], graph: Mapping[str, Sequence[str]]
) -> list[Excluded]:
    """Packages that only excluded packages needed, each with the names that needed it."""
    blocked = {e.name for e in excluded}
    needed = closure(roots, graph, blocked)
    dropped = []
    for name in sorted(set(chosen) - needed):
        by = sorted(b for b in blocked if name in closure([b], graph, set()))
        artifact = chosen.pop(name)
        dropped.append(Excluded(name, artifact.version, f"only needed by excluded {', '.join(by) or 'packages'}"))
    return dropped


def skipped_by_markers(lock_data: Mapping[str, Any], policy: Policy, listed: set[str]) -> list[Excluded]:
    """Skip rules the resolver already applied through markers: listed too, never silent."""
    versions = {p["name"]: p.get("version", "") for p in lock_data.get("packages", [])}
    roots = lock_data.get("tool", {}).get("runenv", {}).get("roots", [])
    return [
        Excluded(name, versions.get(name, ""), f"skip: {reason} (with whatever only it needed)")
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


def select(lock_data: Mapping[str, Any], platform: Platform, python_version: str, policy: Policy) -> Selection:
    """One artifact per package for *platform*; raises LockError under strictMissing."""
    lock = Pylock.from_dict(dict(lock_data))
    environment = platform.environment(python_version)
    tags = platform.tags(python_version)
    check_covered(lock, lock_data, platform, environment)
    chosen: dict[str, Artifact] = {}
    excluded: list[Excluded] = []
    missing: list[str] = []
    for package in lock.packages:
        name, version = str(package.name), str(package.version)
        outcome = choose(lock, package, environment, tags, policy)
        if outcome is None:
            continue
        if name in policy.skip:
            excluded.append(Excluded(name, version, f"skip: {policy.skip[name]}"))
        elif isinstance(outcome, str):
            excluded.append(Excluded(name, version, f"missing: {outcome}"))
            missing.append(f"{name} {version} on {platform.key}: {outcome}")
        else:
            chosen[name] = outcome
    excluded += skipped_by_markers(lock_data, policy, {e.name for e in excluded})
    if missing and policy.strict_missing:
        raise LockError("strictMissing: nothing usable for\n" + "\n".join(f"  - {m}" for m in missing))
    runenv = lock_data.get("tool", {}).get("runenv", {})
    graph = {p["name"]: [d["name"] for d in p.get("dependencies", [])] for p in lock_data.get("packages", [])}
    if runenv.get("requirements") and any(graph.values()):
        excluded += drop_unneeded(chosen, excluded, applicable_roots(runenv["requirements"], environment), graph)
    warnings = tuple(f"WARNING: skipped {m}" for m in missing)
    return Selection(
        platform.key,
        tuple(sorted(chosen.values(), key=lambda a: a.name)),
        tuple(sorted(excluded, key=lambda e: e.name)),
        warnings,
    )
