"""Each platform's dependency edges, resolved from exactly what the lock chooses there (offline
from uv's cache when it can), so a lock holding two versions of a package is never read as a
conflict; and one lock from per-platform locks, when no universal resolution exists."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tasks.errors import LockError
from tasks.lock import wheel_coverage
from tasks.lock.compile import Compiler
from tasks.lock.resolver import parse_graph, pins_of
from tasks.lock.uv import in_parallel, names_in
from tasks.model.platforms import Platform, floor_env

Graph = dict[str, list[str]]


def graphs(compiler: Compiler, lock: dict[str, Any], temp: Path) -> tuple[Graph, dict[str, Graph]]:
    """(the universal graph, or {} when every platform has its own; {platform key: graph})."""
    platforms = compiler.request.platforms

    def graph_of(key: str) -> Graph | None:
        return platform_graph(compiler, platforms[key], lock, temp / "graph" / key)

    found = dict(zip(platforms, in_parallel(graph_of, list(platforms)), strict=True))
    platform_graphs = {key: graph for key, graph in found.items() if graph is not None}
    if len(platform_graphs) == len(platforms):
        return {}, platform_graphs
    return universal_graph(compiler, lock, temp / "universal"), platform_graphs


def platform_graph(compiler: Compiler, platform: Platform, lock: dict[str, Any], work: Path) -> Graph | None:
    """{package: its dependencies} on *platform*, resolved from exactly the lock's choices
    there; None when that cannot be resolved without a build (a package without a wheel)."""
    python_version = compiler.spec.python_version
    work.mkdir(parents=True, exist_ok=True)
    (work / "pyproject.toml").write_text(compiler.request.project(()))
    (work / "pins.txt").write_text(wheel_coverage.platform_pins(lock, platform, python_version))
    names = wheel_coverage.chosen_on(lock, platform, python_version)
    args = [*compiler.platform_args(platform), "-c", "pins.txt", "--annotation-style", "line"]
    args += compiler.request.only_binary(names, compiler.uv.python, platform.key)
    for mode in (["--offline"], []):
        try:
            return parse_graph(compiler.uv.compile([*args, *mode], work, "graph", floor_env(platform)))
        except LockError:
            continue
    return None


def universal_graph(compiler: Compiler, lock: dict[str, Any], work: Path) -> Graph:
    spec = compiler.spec
    (work / "pins.txt").write_text(pins_of(lock))
    args = ["pyproject.toml", "--universal", "--python-version", spec.python_version, "--no-header", "-q"]
    args += ["-c", "pins.txt", "--annotation-style", "line"]
    args += compiler.request.only_binary(names_in(work / "pylock.toml"), compiler.uv.python)
    return parse_graph(compiler.uv.compile(args, work, f"lock {spec.variant} (graph)"))


def combine_platform_locks(parts: list[tuple[str, dict[str, Any]]]) -> dict[str, Any]:
    """One lock from per-platform locks: a package entry per distinct (name, version), its
    marker the disjunction of the platforms that chose it."""
    merged: dict[tuple[str, str], dict[str, Any]] = {}
    markers: dict[tuple[str, str], list[str]] = {}
    for marker, lock in parts:
        for package in lock.get("packages", []):
            key = (package["name"], package.get("version", ""))
            entry = merged.setdefault(key, {k: v for k, v in package.items() if k != "marker"})
            known = {w["url"] for w in entry.get("wheels", [])}
            entry["wheels"] = [
                *entry.get("wheels", []),
                *(w for w in package.get("wheels", []) if w["url"] not in known),
            ]
            if not entry["wheels"]:
                del entry["wheels"]
            markers.setdefault(key, []).append(marker)
    packages = []
    for key, entry in sorted(merged.items()):
        entry["marker"] = " or ".join(f"({m})" for m in markers[key])
        packages.append(entry)
    first = parts[0][1]
    return {
        "lock-version": first.get("lock-version", "1.0"),
        "created-by": "uv",
        "environments": [m for m, _ in parts],
        "packages": packages,
    }
