"""Translate a merged config into resolver input. Pure: data in, data out.

One resolution covers all five platforms: requirements carry PEP 508 markers for
platform-specific dependencies and skip rules, and the resolver is restricted to exactly
the five target environments of the variant's CPython version.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from tasks.config.policy import policy_for
from tasks.errors import ConfigError
from tasks.model.floors import floors_of
from tasks.model.platforms import Platform
from tasks.model.requirements import apply_overrides, parse
from tasks.model.settings import Settings

MIRRORS_VARIABLE = "RUNENV_INDEX_MIRRORS"
# Bump when the meaning of a lock's input hash changes (2: the config only, never the
# transport; 3: wheel-aware, with per-platform forks and per-platform dependency edges; 4:
# strictMissing and floors per platform, and top-level pins without a wheel recorded off
# their platform with the reason and the nearest versions that have one).
LOCK_FORMAT = 4
URL = re.compile(r"^(https?|file)://\S+$")


@dataclass(frozen=True)
class IndexPlan:
    """The extra indexes to use after applying the mirror map, and what the map changed."""

    indexes: tuple[str, ...]
    mirrored: dict[str, str] = field(default_factory=dict)
    left_out: tuple[str, ...] = ()


@dataclass(frozen=True)
class ResolverInput:
    variant: str
    python_version: str
    requirements: tuple[str, ...]
    roots: tuple[str, ...]
    environments: tuple[str, ...]
    index_plan: IndexPlan
    no_deps: tuple[str, ...]
    resolver: str
    configured_indexes: tuple[str, ...] = ()
    # {canonical name: the config key that asks for it}, for error messages (not hashed)
    sources: tuple[tuple[str, str], ...] = ()
    # {platform key: names a source rule lets ship as an sdist ("*": all)}
    source_allowed: tuple[tuple[str, tuple[str, ...]], ...] = ()
    # {platform key: strictMissing there}: a top-level pin without a wheel is an error there,
    # or is left off that platform and reported missing
    strict_missing: tuple[tuple[str, bool], ...] = ()
    # {platform key: the floor the variant raises it to}
    floors: tuple[tuple[str, str], ...] = ()

    def strict_on(self, platform: str) -> bool:
        return dict(self.strict_missing).get(platform, True)

    @property
    def source_allowed_by_platform(self) -> dict[str, frozenset[str]]:
        return {key: frozenset(names) for key, names in self.source_allowed}

    @property
    def source_allowed_anywhere(self) -> frozenset[str]:
        """Names some platform may build from source ("*" when any platform allows all)."""
        return frozenset(name for _, names in self.source_allowed for name in names)

    @property
    def input_hash(self) -> str:
        """SHA-256 of the config's resolver-relevant content, canonicalised (requirements sorted,
        markers in platform order, canonical names), the platform table and the lock format.
        Never the transport: mirrors, left-out registries and the default index URL are
        recorded in the lock as provenance, so a fresh clone without them is up to date."""
        payload = {
            "lockFormat": LOCK_FORMAT,
            "python": self.python_version,
            "requirements": sorted(self.requirements),
            "environments": self.environments,
            "indexes": [url.rstrip("/") for url in self.configured_indexes],
            "noDeps": sorted(self.no_deps),
            "resolver": self.resolver,
            "sourceAllowed": [[key, sorted(names)] for key, names in self.source_allowed],
            "strictMissing": [[key, strict] for key, strict in self.strict_missing],
            "floors": [[key, floor] for key, floor in self.floors],
        }
        return hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()


def platform_marker(platform: Platform) -> str:
    """The marker that is true exactly on *platform* (any Python version)."""
    markers = platform.markers
    return f"sys_platform == '{markers['sys_platform']}' and platform_machine == '{markers['platform_machine']}'"


def not_platform_marker(platform: Platform) -> str:
    """PEP 508 has no ``not``: the negation of :func:`platform_marker` by De Morgan."""
    markers = platform.markers
    return f"sys_platform != '{markers['sys_platform']}' or platform_machine != '{markers['platform_machine']}'"


def environment_marker(platform: Platform, python_version: str) -> str:
    return (
        f"python_full_version == '{python_version}' and platform_python_implementation == 'CPython'"
        f" and {platform_marker(platform)}"
    )


def with_marker(text: str, extra: str) -> str:
    """Add the clause *extra* (already parenthesised as needed) to a requirement's marker."""
    requirement = Requirement(text)
    clauses = [f"({requirement.marker})"] if requirement.marker else []
    clauses.append(extra)
    requirement.marker = None
    return f"{requirement} ; {' and '.join(clauses)}"


def skip_clause(name: str, skip: Mapping[str, Any], platforms: Mapping[str, Platform]) -> str | None:
    skipped = [platform for key, platform in platforms.items() if key in skip.get(name, {})]
    if not skipped:
        return None
    return " and ".join(f"({not_platform_marker(p)})" for p in skipped)


def requirement_lines(packages: Mapping[str, Any], platforms: Mapping[str, Platform]) -> list[str]:
    """Top-level requirements with overrides applied and platform/skip markers added."""
    overrides, skip = packages["overrides"], packages["skip"]
    lines = []
    generic = apply_overrides(list(packages["dependencies"]), overrides)
    specific = [
        (text, f"({platform_marker(platform)})")
        for key, platform in platforms.items()
        for text in apply_overrides(list(packages["platformSpecific"].get(key, {}).get("dependencies", [])), overrides)
    ]
    for text, clause in [(t, None) for t in generic] + specific:
        name = canonicalize_name(Requirement(text).name)
        for extra in (clause, skip_clause(name, skip, platforms)):
            if extra:
                text = with_marker(text, extra)
        lines.append(text)
    return lines


def parse_mirrors(text: str | None, known: Sequence[str] = ()) -> tuple[dict[str, str | None], list[str]]:
    """``RUNENV_INDEX_MIRRORS``: a JSON object from a configured registry URL to a mirror URL,
    or to null to leave that registry out; and the warnings about it. A malformed value is an
    error; an entry for a registry no config lists (of *known*, when given) is only a warning,
    since teams keep one mirror map for several trees (as pip and uv ignore unused settings)."""
    if not text:
        return {}, []
    try:
        mirrors = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ConfigError([f"${MIRRORS_VARIABLE}: invalid JSON at column {exc.colno}: {exc.msg}"]) from None
    if not isinstance(mirrors, dict):
        raise ConfigError(
            [f"${MIRRORS_VARIABLE}: expected a JSON object mapping a registry URL to a mirror URL or null"]
        )
    problems = [
        f"${MIRRORS_VARIABLE}: [{key!r}]: {problem}"
        for key, value in mirrors.items()
        if (problem := mirror_problem(key, value))
    ]
    if problems:
        raise ConfigError(problems)
    configured = {url.rstrip("/") for url in known}
    unused = [key for key in mirrors if configured and key.rstrip("/") not in configured]
    warnings = [
        f"warning: ${MIRRORS_VARIABLE}: [{key!r}]: no config of this tree lists this registry; the entry is "
        f"unused (registries.additional has {', '.join(sorted(configured))})"
        for key in unused
    ]
    return {key: value for key, value in mirrors.items() if key not in unused}, warnings


def mirror_problem(key: str, value: Any) -> str | None:
    if not URL.match(key):
        return "a key must be a registry URL (http://, https:// or file://)"
    if not (value is None or (isinstance(value, str) and URL.match(value))):
        return f"expected a mirror URL or null, got {value!r}"
    return None


def plan_indexes(configured: Sequence[str], mirrors: Mapping[str, str | None]) -> IndexPlan:
    normalised = {key.rstrip("/"): value for key, value in mirrors.items()}
    indexes, mirrored, left_out = [], {}, []
    for url in configured:
        key = url.rstrip("/")
        if key not in normalised:
            indexes.append(url)
        elif normalised[key] is None:
            left_out.append(url)
        else:
            target = str(normalised[key])
            indexes.append(target)
            mirrored[url] = target
    return IndexPlan(tuple(indexes), mirrored, tuple(left_out))


def requirement_sources(packages: Mapping[str, Any]) -> tuple[tuple[str, str], ...]:
    """Where each top-level requirement comes from in the merged config."""
    found: dict[str, str] = {}
    for index, text in enumerate(packages["dependencies"]):
        found.setdefault(canonicalize_name(parse(text).name), f"packages.dependencies[{index}] ({text})")
    for key, entry in packages["platformSpecific"].items():
        for index, text in enumerate(entry.get("dependencies", [])):
            name = canonicalize_name(parse(text).name)
            found.setdefault(name, f"packages.platformSpecific.{key}.dependencies[{index}] ({text})")
    for name, version in packages["overrides"].items():
        found[name] = f"packages.overrides.{name} ({version})"
    return tuple(found.items())


def resolver_input(
    merged: Mapping[str, Any], platforms: Mapping[str, Platform], mirrors: Mapping[str, str | None]
) -> ResolverInput:
    variant, packages = merged["variant"], merged["packages"]
    python_version = variant["pythonVersion"]
    requirements = requirement_lines(packages, platforms)
    return ResolverInput(
        variant=variant["name"],
        python_version=python_version,
        requirements=tuple(requirements),
        roots=tuple(dict.fromkeys(canonicalize_name(Requirement(t).name) for t in requirements)),
        environments=tuple(environment_marker(p, python_version) for p in platforms.values()),
        index_plan=plan_indexes(merged["registries"]["additional"], mirrors),
        no_deps=tuple(packages["noDeps"]),
        resolver=Settings.from_merged(merged).resolver,
        configured_indexes=tuple(merged["registries"]["additional"]),
        sources=requirement_sources(packages),
        source_allowed=source_allowed(packages, platforms),
        strict_missing=tuple((key, policy_for(packages, key).strict_missing) for key in platforms),
        floors=tuple(sorted(floors_of(packages).items())),
    )


def source_allowed(
    packages: Mapping[str, Any], platforms: Mapping[str, Platform]
) -> tuple[tuple[str, tuple[str, ...]], ...]:
    """Per platform, the packages a source rule (allowSourceList, allowSourceAll, forceSource,
    buildWheel) lets ship as an sdist; every other package must ship a wheel."""
    allowed = []
    for key in platforms:
        policy = policy_for(packages, key)
        names = {"*"} if policy.allow_source_all else {*policy.allow_source, *policy.force_source, *policy.build_wheel}
        allowed.append(
            (key, tuple(sorted(canonicalize_name(n) if n != "*" else n for n in names - policy.only_binary)))
        )
    return tuple(allowed)
