"""The uv resolver: one wheel-aware universal resolution per variant, its forks and notes, and
each platform's dependency edges. Composed per resolution of small parts, each with its own
state: :class:`~tasks.lock.uv.Uv` runs uv, :class:`~tasks.lock.request.Request` holds what is
asked (and what is left off a platform), :class:`~tasks.lock.compile.Compiler` makes the
resolutions and :class:`~tasks.lock.forks.WheelForks` closes the wheel gaps.

The committed lock is uv's output file, so unchanged packages keep their versions (uv reads
an existing output as preferences) unless an upgrade is asked for.
"""

from __future__ import annotations

import sys
import tempfile
from collections.abc import Mapping
from dataclasses import replace
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from tasks.errors import LockError
from tasks.lock import build_python, lockfile, wheel_coverage
from tasks.lock.compile import Compiler, versions_of
from tasks.lock.conflicts import Agreement, Conflict, conflict_message, find_conflict
from tasks.lock.forks import WheelForks
from tasks.lock.graphs import combine_platform_locks, graphs
from tasks.lock.request import Request
from tasks.lock.resolver import Resolution, VcsPackage, check_reachable
from tasks.lock.resolver_errors import kind_of
from tasks.lock.resolver_input import ResolverInput, environment_marker
from tasks.lock.uv import PinWithoutWheel, Uv, cause_of, in_parallel
from tasks.model import toml as tomllib
from tasks.model.platforms import Platform
from tasks.model.requirements import vcs_url


class UvResolver:
    """The :class:`~tasks.lock.resolver.Resolver` that resolves all five platforms at once."""

    def __init__(self, platforms: Mapping[str, Platform], timeout: float) -> None:
        self.platforms = platforms
        self.timeout = timeout

    def resolve(self, spec: ResolverInput, previous_lock: Path | None, upgrade: bool) -> Resolution:
        check_reachable(spec.index_plan.indexes, self.timeout)
        uv = Uv(self.timeout)
        uv.look_for_build_python(spec)
        compiler = Compiler(uv, Request(spec, self.platforms))
        with tempfile.TemporaryDirectory(prefix="runenv-lock-") as directory:
            temp = Path(directory)
            compiler.request.vcs = probe_vcs(compiler, temp / "probes")
            renamed = {text: package.requirement for text, package in compiler.request.vcs.items()}
            forks = WheelForks(compiler)
            try:
                lock = forks.universal(temp, previous_lock, upgrade)
            except PinWithoutWheel:
                raise
            except LockError as universal_error:
                text = str(universal_error)
                if kind_of(text) != "no-solution":  # a typo, a missing version, a dead index: say so
                    raise compiler.request.failed(universal_error, uv.python) from None
                reason = cause_of(text)
                print(
                    f"lock {spec.variant}: universal resolution impossible ({reason}); "
                    "falling back to one resolution per platform",
                    file=sys.stderr,
                )
                return replace(per_platform(compiler, temp, previous_lock, upgrade, reason), renamed=renamed)
            try:
                lock, notes = forks.close_gaps(lock, temp)
            except PinWithoutWheel:
                raise
            except LockError as error:
                raise compiler.request.failed(error, uv.python) from None
            missing = compiler.request.missing()
            notes = [*forks.fork_notes(lock, temp / "forks"), *notes, *missing_notes(missing)]
            graph, platform_graphs = graphs(compiler, lock, temp)
            return Resolution(lock, graph, tuple(notes), renamed, platform_graphs, missing)


def probe_vcs(compiler: Compiler, work: Path) -> dict[str, VcsPackage]:
    """Name and version of each VCS requirement, from its built metadata (uv caches the
    checkout and the build). The name a bare URL's repository suggests may differ."""
    spec, found = compiler.spec, dict[str, VcsPackage]()
    for text in spec.requirements:
        url = vcs_url(text)
        if url is None:
            continue
        requirement = Requirement(text)
        if compiler.uv.python is None:
            raise LockError(build_python.missing_message(spec.variant, spec.python_version, url))
        probe = work / f"vcs-{len(found)}"
        probe.mkdir(parents=True)
        (probe / "requirements.in").write_text(url + "\n")
        args = ["requirements.in", "--no-deps", "--no-header", "-q", "--format", "pylock.toml", "-o", "pylock.toml"]
        compiler.uv.compile([*args, "--python-version", spec.python_version], probe, f"lock {spec.variant}: {url}")
        package = tomllib.loads((probe / "pylock.toml").read_text())["packages"][0]
        found[text] = VcsPackage(text, canonicalize_name(package["name"]), str(package["version"]))
        if found[text].name != canonicalize_name(requirement.name):
            print(f"lock {spec.variant}: {requirement.url} builds package {found[text].name}", file=sys.stderr)
    return found


def per_platform(compiler: Compiler, temp: Path, previous: Path | None, upgrade: bool, reason: str) -> Resolution:
    """One resolution per platform, when no universal one exists; a platform without any is
    the conflict of two config entries, named by key."""
    spec, parts, unsatisfiable = compiler.spec, [], {}
    for key, platform in compiler.request.platforms.items():
        marker = environment_marker(platform, spec.python_version)
        try:
            lock = compiler.universal(temp / key, previous, upgrade, [], replace(spec, environments=(marker,)))
        except LockError as error:
            if kind_of(str(error)) != "no-solution":
                raise compiler.request.failed(error, compiler.uv.python) from None
            unsatisfiable[key] = str(error)
            continue
        parts.append((marker, lock))
    if unsatisfiable:
        raise conflict_error(compiler, unsatisfiable, temp / "agree")
    lock = combine_platform_locks(parts)
    graph, platform_graphs = graphs(compiler, lock, temp)
    note = f"resolved once per platform because universal resolution is impossible: {reason}"
    return Resolution(lock, graph, (note,), platform_graphs=platform_graphs)


def conflict_error(compiler: Compiler, failures: dict[str, str], work: Path) -> LockError:
    """Two config entries that disagree, by key, with the platforms and the versions that
    would agree; uv's full text goes with the error (into build/lock.log)."""
    spec, text = compiler.spec, "\n".join(failures.values())
    sources = dict(spec.sources)
    conflict = find_conflict(text, spec.roots)
    if conflict is None or conflict.needing not in sources or conflict.needed not in sources:
        return LockError(str(compiler.request.failed(LockError(text), compiler.uv.python)), detail=text)
    where = [key for key, t in failures.items() if find_conflict(t, spec.roots) == conflict] or list(failures)
    agreeing = agreements(compiler, conflict, compiler.request.platforms[where[0]], work)
    return LockError(conflict_message(spec.variant, conflict, sources, where, agreeing), detail=text)


def agreements(compiler: Compiler, conflict: Conflict, platform: Platform, work: Path) -> list[Agreement]:
    """For each side, the version nearest its pin that agrees with the other side's entry, on *platform*."""
    written: dict[str, str] = {}
    for text in compiler.spec.requirements:
        written[canonicalize_name(Requirement(text).name)] = without_marker(text)
    asks = [(conflict.needed, written[conflict.needing]), (conflict.needing, written[conflict.needed])]

    def nearest(ask: tuple[str, str]) -> Agreement | None:
        name, kept = ask
        pinned = wheel_coverage.exact_pin(written[name])
        bounds = [(f">{pinned}", "lowest-direct"), (f"<{pinned}", "highest")] if pinned else [("", "highest")]
        for bound, strategy in bounds:
            probe = work / f"{name}-{strategy}-{platform.key}"
            output = compiler.probe(probe, [name + bound, kept], platform, "--resolution", strategy, deps=True)
            if versions := versions_of(output or "", name):
                return Agreement(name, versions[0], kept)
        return None

    return [found for found in in_parallel(nearest, asks) if found is not None]


def without_marker(text: str) -> str:
    requirement = Requirement(text)
    requirement.marker = None
    return str(requirement)


def missing_notes(missing: tuple[lockfile.Missing, ...]) -> list[str]:
    """The lock's notes on packages left off platforms: one line per unpinned package, one per
    pin and platform (with the nearest versions that have a wheel)."""
    unpinned: dict[str, list[str]] = {}
    notes: list[str] = []
    for record in missing:
        if record.version:
            near = lockfile.nearest_text(record.nearest)
            notes.append(f"{record.name}: {record.reason}; {near}; missing there (strictMissing is false)")
        else:
            unpinned.setdefault(record.name, []).append(record.platform)
    notes += [f"{name}: no version has a wheel for {', '.join(keys)}; missing there" for name, keys in unpinned.items()]
    return notes
