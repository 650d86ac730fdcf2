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

from tasks.errors import LockError
from tasks.lock import build_python, wheel_coverage
from tasks.lock.conflicts import Agreement, Conflict, conflict_message, find_conflict
from tasks.lock.resolver import (
    Resolution,
    VcsPackage,
    check_reachable,
    parse_graph,
    pins_of,
    project_toml,
)
from tasks.lock.resolver_errors import kind_of
from tasks.lock.resolver_input import ResolverInput, environment_marker
from tasks.lock.uv_forks import WheelForks
from tasks.lock.uv_runner import PinWithoutWheel, cause_of, in_parallel, names_in, probe_args
from tasks.model import toml as tomllib
from tasks.model.platforms import Platform, floor_env
from tasks.model.requirements import vcs_url


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
            missing = self.missing_records()
            notes = [*self.fork_notes(spec, lock, temp / "forks"), *notes, *missing_notes(missing)]
            graph, platform_graphs = self.graphs(spec, lock, temp)
            return Resolution(lock, graph, tuple(notes), renamed, platform_graphs, missing)

    def missing_records(self) -> tuple[wheel_coverage.Missing, ...]:
        """What the lock leaves off a platform: pins without a wheel there, and top-level
        packages no version of which has one."""
        return tuple(
            self.pins_off.get((name, key), wheel_coverage.Missing(name, key))
            for name, keys in sorted(self.tolerated.items())
            for key in sorted(keys)
        )

    def resolve_per_platform(
        self, spec: ResolverInput, temp: Path, previous: Path | None, upgrade: bool, reason: str
    ) -> Resolution:
        parts: list[tuple[str, dict[str, Any]]] = []
        unsatisfiable: dict[str, str] = {}
        for key, platform in self.platforms.items():
            marker = environment_marker(platform, spec.python_version)
            single = replace(spec, environments=(marker,))
            try:
                lock = self.compile_universal(single, temp / key, previous, upgrade, [])
            except LockError as error:
                if kind_of(str(error)) != "no-solution":
                    raise self.failed(spec, error) from None
                unsatisfiable[key] = str(error)
                continue
            parts.append((marker, lock))
        if unsatisfiable:
            raise self.conflict_error(spec, unsatisfiable, temp / "agree")
        lock = combine_platform_locks(parts)
        graph, platform_graphs = self.graphs(spec, lock, temp)
        note = f"resolved once per platform because universal resolution is impossible: {reason}"
        return Resolution(lock, graph, (note,), platform_graphs=platform_graphs)

    def conflict_error(self, spec: ResolverInput, failures: dict[str, str], work: Path) -> LockError:
        """Two config entries that disagree, by key, with the platforms and the versions that
        would agree; uv's full text goes with the error (into build/lock.log)."""
        text = "\n".join(failures.values())
        sources = dict(spec.sources)
        conflict = find_conflict(text, spec.roots)
        if conflict is None or conflict.needing not in sources or conflict.needed not in sources:
            return LockError(str(self.failed(spec, LockError(text))), detail=text)
        where = [key for key, t in failures.items() if find_conflict(t, spec.roots) == conflict] or list(failures)
        agreements = self.agreements(spec, conflict, self.platforms[where[0]], work)
        return LockError(conflict_message(spec.variant, conflict, sources, where, agreements), detail=text)

    def agreements(self, spec: ResolverInput, conflict: Conflict, platform: Platform, work: Path) -> list[Agreement]:
        """For each side, the version nearest its pin that agrees with the other side's entry, on *platform*."""
        written: dict[str, str] = {canonicalize_name(Requirement(t).name): without_marker(t) for t in spec.requirements}
        asks = [(conflict.needed, written[conflict.needing]), (conflict.needing, written[conflict.needed])]

        def nearest(ask: tuple[str, str]) -> Agreement | None:
            name, kept = ask
            pinned = wheel_coverage.exact_pin(written[name])
            bounds = [(f">{pinned}", "lowest-direct"), (f"<{pinned}", "highest")] if pinned else [("", "highest")]
            for bound, strategy in bounds:
                if version := self.agreeing_version(spec, platform, name + bound, kept, strategy, work):
                    return Agreement(name, version, kept)
            return None

        return [found for found in in_parallel(nearest, asks) if found is not None]

    def agreeing_version(
        self, spec: ResolverInput, platform: Platform, wanted: str, kept: str, strategy: str, work: Path
    ) -> str | None:
        """The version of *wanted* uv picks beside *kept* (the newest, or the lowest), if any."""
        name = canonicalize_name(Requirement(wanted).name)
        probe = work / f"{name}-{strategy}-{platform.key}"
        probe.mkdir(parents=True, exist_ok=True)
        (probe / "requirements.in").write_text(f"{wanted}\n{kept}\n")
        args = [arg for arg in probe_args(spec, platform) if arg != "--no-deps"] + ["--resolution", strategy]
        try:
            output = self.run_uv(args, probe, f"lock {spec.variant}", floor_env(platform))
        except LockError:
            return None
        found = [line.split("==", 1)[1].split()[0] for line in output.splitlines() if line.startswith(f"{name}==")]
        return found[0] if found else None

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


def without_marker(text: str) -> str:
    requirement = Requirement(text)
    requirement.marker = None
    return str(requirement)


def missing_notes(missing: tuple[wheel_coverage.Missing, ...]) -> list[str]:
    """The lock's notes on packages left off platforms: one line per unpinned package, one per
    pin and platform (with the nearest versions that have a wheel)."""
    unpinned: dict[str, list[str]] = {}
    notes = []
    for record in missing:
        if record.version:
            near = wheel_coverage.nearest_text(record.nearest)
            notes.append(f"{record.name}: {record.reason}; {near}; missing there (strictMissing is false)")
        else:
            unpinned.setdefault(record.name, []).append(record.platform)
    notes += [f"{name}: no version has a wheel for {', '.join(keys)}; missing there" for name, keys in unpinned.items()]
    return notes


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
