"""What a failed resolution means, in one message naming the config key. Pure.

Only a genuine "no solution" lets the lock stage fall back to one resolution per platform;
a misspelt package, a version that does not exist, an unreachable index, a timeout or a
failing sdist build is reported as itself.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence

from packaging.utils import canonicalize_name

NOT_FOUND = re.compile(r"Because (?P<name>[A-Za-z0-9][A-Za-z0-9._-]*) was not found in the package registry")
NO_VERSION = re.compile(r"Because there is no version of (?P<spec>(?P<name>[A-Za-z0-9][A-Za-z0-9._-]*)\S*)")
UNREACHABLE = re.compile(r"Failed to fetch: `?(?P<url>https?://[^\s`]+)")
BUILD = re.compile(r"Failed to (?:build|download and build|resolve dependencies for) `(?P<what>[^`]+)`")
NO_WHEEL = re.compile(
    r"Wheels are required for `(?P<name>[^`]+)`"
    r"|Because (?:all versions of )?(?P<other>[A-Za-z0-9][A-Za-z0-9._-]*?)(?:\{[^}]*\})?(?:[=<>!~]=?\S*)?"
    r" ha(?:s|ve) no usable wheels"
)
TIMEOUT = re.compile(r"timed out|operation timed out|exceeded build\.timeout", re.IGNORECASE)


def kind_of(text: str) -> str:
    """'no-wheel', 'not-found', 'no-version', 'unreachable', 'timeout', 'build' or 'no-solution'."""
    for kind, pattern in (
        ("no-wheel", NO_WHEEL),
        ("not-found", NOT_FOUND),
        ("no-version", NO_VERSION),
        ("build", BUILD),
    ):
        if pattern.search(text):
            return kind
    if TIMEOUT.search(text):
        return "timeout"
    if UNREACHABLE.search(text) or "error sending request" in text:
        return "unreachable"
    return "no-solution"


def key_of(name: str, sources: Mapping[str, str]) -> str:
    return sources.get(canonicalize_name(name), f"a dependency of the config's packages ({name})")


def head_and_tail(text: str, lines: int = 15) -> str:
    all_lines = text.strip().splitlines()
    if len(all_lines) <= 2 * lines:
        return "\n".join(all_lines)
    return "\n".join([*all_lines[:lines], f"  … {len(all_lines) - 2 * lines} lines …", *all_lines[-lines:]])


def no_wheel_name(text: str) -> str | None:
    """The package uv needed a wheel of and found none (building is disabled for it)."""
    match = NO_WHEEL.search(text)
    return canonicalize_name(match["name"] or match["other"]) if match else None


# uv's hints about the host's Python version and about limiting environments mislead here:
# runenv resolves for the variant's version and already limits the environments itself.
MISLEADING_HINTS = ("Python version", "tool.uv.environments", "tool.uv.required-environments")


def misleading(hint: str) -> bool:
    return any(phrase in hint for phrase in MISLEADING_HINTS)


def message(variant: str, text: str, sources: Mapping[str, str], mirrored: Sequence[str]) -> str:
    """One message for a resolution that failed for another reason than 'no solution'."""
    kind = kind_of(text)
    hints = [h.strip() for h in text.splitlines() if h.strip().startswith("hint:") and not misleading(h)][:2]
    if kind == "no-wheel" and (name := no_wheel_name(text)):
        return (
            f"lock {variant}: {key_of(name, sources)}: no version of {name} has a wheel for the target platforms, "
            "and no source rule lets it ship as an sdist: add it to packages.resolution.allowSourceList "
            "(built at lock and build time), or remove it"
        )
    if (match := NOT_FOUND.search(text)) and kind == "not-found":
        where = key_of(match["name"], sources)
        return f"lock {variant}: {where}: package {match['name']!r} was not found on any index; check its name" + (
            "".join(f"\n  {hint}" for hint in hints)
        )
    if (match := NO_VERSION.search(text)) and kind == "no-version":
        where = key_of(match["name"], sources)
        return f"lock {variant}: {where}: no version matches {match['spec']}; pick one the index has"
    if (match := BUILD.search(text)) and kind == "build":
        output = "\n".join(line for line in text.splitlines() if not line.startswith(f"lock {variant}"))
        return (
            f"lock {variant}: building the sdist {match['what']} failed (its build backend):\n{head_and_tail(output)}"
        )
    if kind == "timeout":
        return (
            f"lock {variant}: the resolution timed out: {text.strip().splitlines()[-1]}; raise build.timeout or retry"
        )
    if kind == "no-solution":
        causes = [line.strip() for line in text.splitlines() if line.strip().startswith(("cause:", "error:"))]
        return f"lock {variant}: no set of versions satisfies the config:\n  " + "\n  ".join(causes or [text.strip()])
    url = (match["url"] if (match := UNREACHABLE.search(text)) else "an index").rstrip("/")
    origin = (
        "a mirror ($RUNENV_INDEX_MIRRORS)"
        if any(url.startswith(m.rstrip("/")) for m in mirrored)
        else ("registries.additional or the default index")
    )
    return f"lock {variant}: index {url} cannot be reached (from {origin}): {text.strip().splitlines()[-1].strip()}"


PLATFORM_GAP = re.compile(
    r"Because (?P<all>all versions of )?(?P<name>[A-Za-z0-9][A-Za-z0-9._-]*?)(?:\{[^}]*\})?"
    r"(?P<spec>(?:[=<>!~]=?[^\s,`]+)?) "
    r"ha(?:s|ve) no (?:`(?P<marker>[^`]+)`-compatible wheels|wheels with a matching (?:platform|Python))"
)
SPLIT = re.compile(r"resolving dependencies for split \(markers: (?P<marker>.+)\)\s*$", re.MULTILINE)


def platform_gap(text: str, environments: Mapping[str, Mapping[str, str]]) -> tuple[str, str] | None:
    """(package, platform key) when a universal resolution
    failed because a package has no wheel for one platform; None for any other failure.
    *environments* maps each platform key to its marker environment."""
    from packaging.markers import InvalidMarker, Marker

    match = PLATFORM_GAP.search(text)
    if not match:
        return None
    split = SPLIT.search(text)
    marker_text = match["marker"] or (split["marker"] if split else None)
    if marker_text is None:
        return None
    try:
        marker = Marker(marker_text)
    except InvalidMarker:
        return None
    for key, environment in environments.items():
        if marker.evaluate(dict(environment)):
            return canonicalize_name(match["name"]), key
    return None
