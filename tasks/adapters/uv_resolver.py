"""The uv resolver: one wheel-aware universal resolution per variant, its forks and notes,
and each platform's dependency edges, resolved from exactly what the lock chooses there
(offline from uv's cache when it can).

The committed lock is uv's output file, so unchanged packages keep their versions (uv reads
an existing output as preferences) unless an upgrade is asked for.
"""

from __future__ import annotations

import sys
import tempfile
from dataclasses import replace
from pathlib import Path
from typing import Any

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from tasks.adapters import build_python
from tasks.adapters.resolver import (
    Resolution,
    VcsPackage,
    check_reachable,
    parse_graph,
    pins_of,
    project_toml,
)
from tasks.adapters.uv_forks import WheelForks
from tasks.adapters.uv_runner import (
    PinWithoutWheel,
    cause_of,
    floor_env,
    in_parallel,
    names_in,
)
from tasks.core import toml as tomllib
from tasks.core import wheel_coverage
from tasks.core.platforms import Platform
from tasks.core.requirements import vcs_url
from tasks.core.resolver_errors import kind_of
from tasks.core.resolver_input import ResolverInput, environment_marker
from tasks.errors import LockError


class UvResolver(WheelForks):
    def probe_vcs(self, spec: ResolverInput, work: Path) -> dict[str, VcsPackage]:
        """Name and version of each VCS requirement, from its built metadata (uv caches the
        checkout and the build). The name a bare URL's repository suggests may differ."""
        found: dict[str, VcsPackage] = {}
        for text in spec.requirements:
            url = vcs_url(text)
            if url is None:
                continue
            requirement = Requirement(text)
            if self.python is None:
                raise LockError(build_python.missing_message(spec.variant, spec.python_version, url))
            probe = work / f"vcs-{len(found)}"
            probe.mkdir(parents=True)
            (probe / "requirements.in").write_text(url + "\n")
            args = ["requirements.in", "--no-deps", "--no-header", "-q", "--format", "pylock.toml", "-o", "pylock.toml"]
            self.run_uv([*args, "--python-version", spec.python_version], probe, f"lock {spec.variant}: {url}")
            package = tomllib.loads((probe / "pylock.toml").read_text())["packages"][0]
            found[text] = VcsPackage(text, canonicalize_name(package["name"]), str(package["version"]))
            if found[text].name != canonicalize_name(requirement.name):
                print(f"lock {spec.variant}: {requirement.url} builds package {found[text].name}", file=sys.stderr)
        return found

    def resolve(self, spec: ResolverInput, previous_lock: Path | None, upgrade: bool) -> Resolution:
        check_reachable(spec.index_plan.indexes, self.timeout)
        self.look_for_build_python(spec)
        with tempfile.TemporaryDirectory(prefix="runenv-lock-") as directory:
            temp = Path(directory)
            self.vcs = self.probe_vcs(spec, temp / "probes")
            renamed = {text: package.requirement for text, package in self.vcs.items()}
            try:
                lock = self.universal_tolerating(spec, temp, previous_lock, upgrade)
            except PinWithoutWheel:
                raise
            except LockError as universal_error:
                text = str(universal_error)
                if kind_of(text) != "no-solution":  # a typo, a missing version, a dead index: say so
                    raise self.failed(spec, universal_error) from None
                reason = cause_of(text)
                print(
                    f"lock {spec.variant}: universal resolution impossible ({reason}); "
                    "falling back to one resolution per platform",
                    file=sys.stderr,
                )
                resolution = self.resolve_per_platform(spec, temp, previous_lock, upgrade, reason)
                return replace(resolution, renamed=renamed)
            try:
                lock, notes = self.close_gaps(spec, lock, temp)
            except PinWithoutWheel:
                raise
            except LockError as error:
                raise self.failed(spec, error) from None
            without = [
                f"{name}: no version has a wheel for {', '.join(sorted(keys))}; missing there"
                for name, keys in self.tolerated.items()
            ]
            notes = [*self.fork_notes(spec, lock, temp / "forks"), *notes, *without]
            graph, platform_graphs = self.graphs(spec, lock, temp)
            missing = {name: sorted(keys) for name, keys in self.tolerated.items()}
            return Resolution(lock, graph, tuple(notes), renamed, platform_graphs, missing)

    def resolve_per_platform(
        self, spec: ResolverInput, temp: Path, previous: Path | None, upgrade: bool, reason: str
    ) -> Resolution:
        parts: list[tuple[str, dict[str, Any]]] = []
        for key, platform in self.platforms.items():
            marker = environment_marker(platform, spec.python_version)
            single = replace(spec, environments=(marker,))
            try:
                lock = self.compile_universal(single, temp / key, previous, upgrade, [])
            except LockError as error:
                raise self.failed(spec, error) from None
            parts.append((marker, lock))
        lock = combine_platform_locks(parts)
        graph, platform_graphs = self.graphs(spec, lock, temp)
        note = f"resolved once per platform because universal resolution is impossible: {reason}"
        return Resolution(lock, graph, (note,), platform_graphs=platform_graphs)

    def graphs(
        self, spec: ResolverInput, lock: dict[str, Any], temp: Path
    ) -> tuple[dict[str, list[str]], dict[str, dict[str, list[str]]]]:
        def graph_of(key: str) -> dict[str, list[str]] | None:
            return self.platform_graph(spec, self.platforms[key], lock, temp / "graph" / key)

        found = dict(zip(self.platforms, in_parallel(graph_of, list(self.platforms)), strict=True))
        platform_graphs = {key: graph for key, graph in found.items() if graph is not None}
        if len(platform_graphs) == len(self.platforms):
            return {}, platform_graphs
        return self.universal_graph(spec, lock, temp / "universal"), platform_graphs

    def platform_graph(
        self, spec: ResolverInput, platform: Platform, lock: dict[str, Any], work: Path
    ) -> dict[str, list[str]] | None:
        """{package: its dependencies} on *platform*, resolved from exactly the lock's choices
        there; None when that cannot be resolved without a build (a package without a wheel)."""
        work.mkdir(parents=True, exist_ok=True)
        (work / "pyproject.toml").write_text(project_toml(self.effective(spec), (), self.vcs))
        (work / "pins.txt").write_text(wheel_coverage.platform_pins(lock, platform, spec.python_version))
        names = wheel_coverage.chosen_on(lock, platform, spec.python_version)
        args = [*self.platform_args(spec, platform), "-c", "pins.txt", "--annotation-style", "line"]
        args += self.only_binary(spec, names, platform.key)
        for mode in (["--offline"], []):
            try:
                return parse_graph(self.run_uv([*args, *mode], work, "graph", floor_env(platform)))
            except LockError:
                continue
        return None

    def universal_graph(self, spec: ResolverInput, lock: dict[str, Any], work: Path) -> dict[str, list[str]]:
        (work / "pins.txt").write_text(pins_of(lock))
        args = ["pyproject.toml", "--universal", "--python-version", spec.python_version, "--no-header", "-q"]
        args += [
            "-c",
            "pins.txt",
            "--annotation-style",
            "line",
            *self.only_binary(spec, names_in(work / "pylock.toml")),
        ]
        return parse_graph(self.run_uv(args, work, f"lock {spec.variant} (graph)"))


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
