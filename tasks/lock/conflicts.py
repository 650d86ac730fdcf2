"""Two config entries that cannot hold together, in words a migrating user can act on. Pure.

uv explains a failed resolution as a derivation over markers hundreds of characters long
("runenv-lock depends on cudf-cu12{platform_machine != 'AMD64' and …}==25.6.0"). runenv reads
the dependency edges out of it, finds the two top-level entries that disagree, and names
them by config key, the platforms by runenv's keys, and the versions that would agree.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from packaging.utils import canonicalize_name

NAME = r"[A-Za-z0-9][A-Za-z0-9._-]*?"
# "A==1 depends on B{marker}>=2,<3", "runenv-lock depends on B==4", "you require B==4"
EDGE = re.compile(
    rf"(?P<subject>you require|(?P<a>{NAME})(?:\{{[^}}]*\}})?(?P<aspec>[=<>!~]=?[^\s{{]*)? depends on)"
    rf" (?P<b>{NAME})(?:\{{[^}}]*\}})?(?P<bspec>[=<>!~]=?[^\s]*)"
)
PROJECT = "runenv-lock"  # the project runenv hands uv (resolver.project_toml)


@dataclass(frozen=True)
class Edge:
    parent: str  # canonical name, or PROJECT for a top-level requirement
    parent_spec: str
    child: str
    child_spec: str


@dataclass(frozen=True)
class Conflict:
    """A top-level entry (*needing*) whose dependencies require *needed* within *requires*,
    while the config asks for *needed* otherwise."""

    needing: str
    needed: str
    requires: str  # e.g. ">=14.0.0,<20.0.0a0"
    through: tuple[str, ...] = ()  # packages between the two, for an indirect need


def edges(text: str) -> list[Edge]:
    found = []
    for match in EDGE.finditer(text):
        parent = PROJECT if match["subject"] == "you require" or match["a"] == PROJECT else match["a"]
        found.append(
            Edge(
                canonicalize_name(parent) if parent != PROJECT else PROJECT,
                match["aspec"] or "",
                canonicalize_name(match["b"]),
                match["bspec"].rstrip(".,"),
            )
        )
    return found


def find_conflict(text: str, roots: Iterable[str]) -> Conflict | None:
    """The pair of top-level packages uv's derivation *text* shows in conflict, if any: a
    root whose dependencies (directly, or through other packages) require another root."""
    top = set(roots)
    graph: dict[str, list[Edge]] = {}
    for edge in edges(text):
        if edge.parent != PROJECT and edge.child != edge.parent:
            graph.setdefault(edge.parent, []).append(edge)
    for start in [name for name in graph if name in top]:
        stack: list[tuple[str, tuple[str, ...]]] = [(start, ())]
        seen = {start}
        while stack:
            node, path = stack.pop()
            for edge in graph.get(node, []):
                if edge.child in top and edge.child != start:
                    return Conflict(start, edge.child, edge.child_spec, path)
                if edge.child not in seen:
                    seen.add(edge.child)
                    stack.append((edge.child, (*path, edge.child)))
    return None


def entry(source: str) -> str:
    """``packages.dependencies[13] cudf-cu12==25.6.0`` from ``packages.dependencies[13] (cudf-cu12==25.6.0)``."""
    return re.sub(r" \((.*)\)$", r" \1", source)


@dataclass(frozen=True)
class Agreement:
    """Versions that agree: *name* at *version* with the other side's entry kept."""

    name: str
    version: str
    kept: str


def conflict_message(
    variant: str,
    conflict: Conflict,
    sources: Mapping[str, str],
    platforms: Sequence[str],
    agreements: Sequence[Agreement],
) -> str:
    needing, needed = entry(sources[conflict.needing]), entry(sources[conflict.needed])
    through = f" (through {', '.join(conflict.through)})" if conflict.through else ""
    lines = [
        f"lock {variant}: {needing} needs {conflict.needed}{conflict.requires}{through}, "
        f"but {needed.split(' ', 1)[0]} pins {needed.split(' ', 1)[-1]}, on {', '.join(platforms)}."
    ]
    if agreements:
        lines.append(
            "  Versions that agree: " + "; ".join(f"{a.name} {a.version} with {a.kept}" for a in agreements) + "."
        )
    lines.append(
        f"  Or separate them: skip one of them there (packages.skip.<name>.{platforms[0]}), or move one pin "
        "to packages.platformSpecific.<platform>.dependencies."
    )
    return "\n".join(lines)
