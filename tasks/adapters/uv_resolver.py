"""The uv resolver: one wheel-aware universal resolution per variant.

1. ``uv pip compile --universal`` for the variant's five environments, with every package
   no source rule covers marked ``--only-binary``: nothing is built on the host to learn its
   metadata, and only versions that have wheels are chosen.
2. A gap is a locked version without a wheel that fits a platform (tags and floors). A
   top-level ``==`` pin with a gap is an error naming the nearest versions that have one.
   Otherwise that platform is resolved alone (``--python-platform``, its floor) and its
   choices are pinned under the platform's marker in a second universal resolution, so only
   the packages that must differ fork, and the lock says which and why.
3. Each platform's dependency edges come from a resolution of exactly what the lock chooses
   there (offline from uv's cache when it can).

The committed lock is uv's output file, so unchanged packages keep their versions (uv reads
an existing output as preferences) unless an upgrade is asked for.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable, Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from pathlib import Path
from typing import Any, TypeVar

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from tasks.adapters import build_python
from tasks.adapters.resolver import (
    Resolution,
    VcsPackage,
    check_reachable,
    default_index_args,
    parse_graph,
    pins_of,
    project_toml,
    uv_binary,
)
from tasks.core import toml as tomllib
from tasks.core import wheel_coverage
from tasks.core.platforms import Platform
from tasks.core.requirements import VCS_SCHEMES
from tasks.core.resolver_errors import kind_of, message, no_wheel_name, platform_gap
from tasks.core.resolver_input import ResolverInput, environment_marker, not_platform_marker, with_marker
from tasks.errors import LockError

EVERY_PACKAGE = ":all:"
T = TypeVar("T")
R = TypeVar("R")


class PinWithoutWheel(LockError):
    """A top-level ``==`` pin has no wheel for a platform its requirement applies on."""


class UvResolver:
    def __init__(self, platforms: Mapping[str, Platform], timeout: float) -> None:
        self.platforms = platforms
        self.timeout = timeout
        self.vcs: dict[str, VcsPackage] = {}
        self.python: str | None = None  # builds run on the variant's minor version, or not at all
        # {top-level package: platforms} where no version has a wheel: its requirement is
        # marked off those platforms, and it is reported missing there
        self.tolerated: dict[str, set[str]] = {}

    # -- running uv -------------------------------------------------------------------

    def run_uv(self, args: list[str], cwd: Path, step: str, env: Mapping[str, str] | None = None) -> str:
        command = [
            uv_binary(),
            "pip",
            "compile",
            *args,
            "--python",
            self.python or sys.executable,
            "--no-python-downloads",
            *default_index_args(),
        ]
        try:
            done = subprocess.run(
                command,
                cwd=cwd,
                capture_output=True,
                text=True,
                timeout=self.timeout,
                env={**os.environ, **(env or {})},
            )
        except subprocess.TimeoutExpired:
            raise LockError(f"{step}: uv pip compile exceeded build.timeout ({self.timeout:g} s)") from None
        if done.returncode != 0:
            raise LockError(f"{step}: uv pip compile failed:\n{done.stderr.strip()}")
        return done.stdout

    def effective(self, spec: ResolverInput) -> ResolverInput:
        """*spec* with each tolerated top-level requirement marked off its platforms."""
        if not self.tolerated:
            return spec
        requirements = []
        for text in spec.requirements:
            name = canonicalize_name(Requirement(text).name)
            for key in sorted(self.tolerated.get(name, ())):
                text = with_marker(text, f"({not_platform_marker(self.platforms[key])})")
            requirements.append(text)
        return replace(spec, requirements=tuple(requirements))

    def exempt(self, spec: ResolverInput, platform: str | None = None) -> frozenset[str]:
        """Packages that may be built from source: VCS requirements and those a source rule
        covers (on *platform*, or on any platform)."""
        allowed = (
            spec.source_allowed_by_platform.get(platform, frozenset()) if platform else spec.source_allowed_anywhere
        )
        return allowed | {package.name for package in self.vcs.values()}

    def only_binary(self, spec: ResolverInput, names: Iterable[str], platform: str | None = None) -> list[str]:
        exempt = self.exempt(spec, platform)
        if wheel_coverage.ALL in exempt:
            return []
        if self.python is None or not exempt & set(names):
            return ["--only-binary", EVERY_PACKAGE]
        return [arg for name in sorted(set(names) - exempt) for arg in ("--only-binary", name)]

    def package_without_wheel(self, spec: ResolverInput, text: str) -> str | None:
        """The package a failed --only-binary resolution found no wheel of, if that was why."""
        environments = {key: p.environment(spec.python_version) for key, p in self.platforms.items()}
        return no_wheel_name(text) or (platform_gap(text, environments) or (None,))[0]

    def failed(self, spec: ResolverInput, error: LockError) -> LockError:
        """A resolution error as one message naming the config key."""
        text = str(error)
        name = no_wheel_name(text)
        if name and self.python is None and name in self.exempt(spec):
            return LockError(build_python.missing_message(spec.variant, spec.python_version, name))
        return LockError(message(spec.variant, text, dict(spec.sources), list(spec.index_plan.mirrored.values())))

    # -- VCS requirements -------------------------------------------------------------

    def probe_vcs(self, spec: ResolverInput, work: Path) -> dict[str, VcsPackage]:
        """Name and version of each VCS requirement, from its built metadata (uv caches the
        checkout and the build). The name a bare URL's repository suggests may differ."""
        found: dict[str, VcsPackage] = {}
        for text in spec.requirements:
            requirement = Requirement(text)
            url = requirement.url or ""
            if not url.startswith(VCS_SCHEMES):
                continue
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

    # -- resolutions ------------------------------------------------------------------

    def compile_universal(
        self, spec: ResolverInput, work: Path, previous: Path | None, upgrade: bool, forks: list[str]
    ) -> dict[str, Any]:
        """The universal lock. Which packages a source rule exempts from --only-binary matters
        only when one of them takes part; when the names known beforehand (roots, a previous
        lock) hold none, one run with --only-binary :all: settles it, else one more run does."""
        work.mkdir(parents=True, exist_ok=True)
        (work / "pyproject.toml").write_text(project_toml(self.effective(spec), spec.environments, self.vcs))
        (work / "forks.txt").write_text("".join(f"{line}\n" for line in forks))
        output = work / "pylock.toml"
        if previous is not None and previous.is_file() and not upgrade and previous != output:
            shutil.copyfile(previous, output)
        known = set(spec.roots) | names_in(output)
        args = ["pyproject.toml", "--universal", "--python-version", spec.python_version, "--no-header", "-q"]
        args += ["-c", "forks.txt", "--format", "pylock.toml", "-o", "pylock.toml"]
        upgrading = ["--upgrade"] if upgrade else []
        for _ in range(4):
            only_binary = self.only_binary(spec, known)
            try:
                self.run_uv([*args, *upgrading, *only_binary], work, f"lock {spec.variant}")
            except LockError as error:
                needed = self.package_without_wheel(spec, str(error))
                if EVERY_PACKAGE not in only_binary or needed not in self.exempt(spec) - known:
                    raise
                known.add(str(needed))
                continue
            lock = tomllib.loads(output.read_text())
            found: set[str] = {canonicalize_name(p["name"]) for p in lock.get("packages", [])}
            if EVERY_PACKAGE in only_binary and not found & self.exempt(spec):
                return lock
            if not self.wheel_gaps(spec, lock, found - known):
                return lock  # an --only-binary run over the new names would choose the same
            known |= found
        return tomllib.loads(output.read_text())

    def wheel_gaps(self, spec: ResolverInput, lock: dict[str, Any], names: set[str]) -> list[wheel_coverage.Gap]:
        """Gaps among *names*: locked versions without a wheel for a platform they must ship on."""
        if not names:
            return []
        allowed = {key: self.exempt(spec, key) for key in self.platforms}
        return [g for g in wheel_coverage.gaps(lock, self.platforms, spec.python_version, allowed) if g.name in names]

    def compile_platform(self, spec: ResolverInput, platform: Platform, work: Path, universal: Path) -> dict[str, Any]:
        """One platform alone, at its floor, preferring the universal lock's versions."""
        work.mkdir(parents=True, exist_ok=True)
        (work / "pyproject.toml").write_text(project_toml(self.effective(spec), (), self.vcs))
        shutil.copyfile(universal, work / "pylock.toml")
        args = [*self.platform_args(spec, platform), "--format", "pylock.toml", "-o", "pylock.toml"]
        names = names_in(universal) | set(spec.roots)
        step = f"lock {spec.variant} for {platform.key}"
        self.run_uv([*args, *self.only_binary(spec, names, platform.key)], work, step, floor_env(platform))
        return tomllib.loads((work / "pylock.toml").read_text())

    def platform_args(self, spec: ResolverInput, platform: Platform) -> list[str]:
        return [
            "pyproject.toml",
            "--python-platform",
            platform.uv_platform,
            "--python-version",
            spec.python_version,
            "--no-header",
            "-q",
        ]

    def nearest_with_wheel(
        self, spec: ResolverInput, platform: Platform, name: str, version: str, work: Path
    ) -> list[str]:
        """The closest versions below and above *version* with a wheel for *platform*."""
        found = []
        for bound in ("<", ">"):
            probe = work / f"nearest-{name}-{platform.key}-{'below' if bound == '<' else 'above'}"
            probe.mkdir(parents=True, exist_ok=True)
            (probe / "requirements.in").write_text(f"{name}{bound}{version}\n")
            args = [*probe_args(spec, platform)]
            try:
                output = self.run_uv(args, probe, f"lock {spec.variant}", floor_env(platform))
            except LockError:
                continue
            found += [line.split("==", 1)[1].split()[0] for line in output.splitlines() if "==" in line]
        return found

    # -- wheel coverage ---------------------------------------------------------------

    def close_gaps(self, spec: ResolverInput, lock: dict[str, Any], work: Path) -> tuple[dict[str, Any], list[str]]:
        """Fork the packages whose locked version has no wheel for some platform."""
        found = self.wheel_gaps(spec, lock, {canonicalize_name(p["name"]) for p in lock.get("packages", [])})
        if not found:
            return lock, []
        pinned = wheel_coverage.pinned_gaps(found, spec.requirements, self.platforms, spec.python_version)
        if pinned:
            raise PinWithoutWheel(self.pin_message(spec, pinned, work))
        forks: list[str] = []
        notes: list[str] = []
        for key in dict.fromkeys(gap.platform for gap in found):
            try:
                platform_lock = self.platform_tolerating(spec, self.platforms[key], work)
            except LockError as error:
                names = sorted({gap.name for gap in found if gap.platform == key})
                notes.append(f"{key}: no wheel for {', '.join(names)} ({cause_of(str(error))[:300]})")
                continue
            forks += wheel_coverage.fork_pins(platform_lock, self.platforms[key])
        if forks or self.tolerated:
            lock = self.compile_universal(spec, work / "universal", None, False, forks)
        return lock, notes

    def platform_tolerating(self, spec: ResolverInput, platform: Platform, work: Path) -> dict[str, Any]:
        """One platform alone; a top-level package without any wheel there (at its floor)
        is marked off it, as in :meth:`universal_tolerating`."""
        universal = work / "universal" / "pylock.toml"
        while True:
            try:
                return self.compile_platform(spec, platform, work / platform.key, universal)
            except LockError as error:
                name = no_wheel_name(str(error)) or (platform_gap(str(error), {platform.key: {}}) or ("",))[0]
                if name not in spec.roots or platform.key in self.tolerated.get(name, set()):
                    raise
                self.tolerated.setdefault(name, set()).add(platform.key)

    def pin_message(self, spec: ResolverInput, pinned: list[tuple[wheel_coverage.Gap, str]], work: Path) -> str:
        lines = []
        for gap, text in pinned:
            platform = self.platforms[gap.platform]
            nearest = self.nearest_with_wheel(spec, platform, gap.name, gap.version, work)
            where = dict(spec.sources).get(gap.name, text)
            near = f"nearest versions with one: {', '.join(nearest)}" if nearest else "no version has one"
            lines.append(f"  - {where}: {text} has no wheel for {gap.platform} ({floor_of(platform)}); {near}")
        return (
            f"lock {spec.variant}: top-level pins without a wheel for a platform:\n"
            + "\n".join(lines)
            + "\nPin a version that has one, or add a skip, forceSource, buildWheel or allowSourceList rule for that"
            " platform (packages.skip.<name>.<platform>, packages.platformSpecific.<platform>.resolution)"
        )

    def fork_notes(self, spec: ResolverInput, lock: dict[str, Any], work: Path) -> list[str]:
        """Why each forked package differs: its newest version has no wheel for a platform
        (asked of the index, at that platform's floor), or it follows another fork."""
        forked = wheel_coverage.forked_versions(lock, self.platforms, spec.python_version)
        asks = [
            (name, key, versions[0][0]) for name, versions in forked.items() for _, keys in versions[1:] for key in keys
        ]
        answers = in_parallel(lambda ask: self.has_wheel(spec, self.platforms[ask[1]], ask[0], ask[2], work), asks)
        lacking = {(name, key) for (name, key, _), has in zip(asks, answers, strict=True) if not has}
        return [
            wheel_coverage.fork_note(name, versions, [key for n, key in sorted(lacking) if n == name])
            for name, versions in forked.items()
        ]

    def has_wheel(self, spec: ResolverInput, platform: Platform, name: str, version: str, work: Path) -> bool:
        probe = work / f"has-{name}-{version}-{platform.key}"
        probe.mkdir(parents=True, exist_ok=True)
        (probe / "requirements.in").write_text(f"{name}=={version}\n")
        args = probe_args(spec, platform)
        try:
            self.run_uv(args, probe, f"lock {spec.variant}", floor_env(platform))
        except LockError:
            return False
        return True

    # -- dependency edges -------------------------------------------------------------

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

    # -- the whole resolution ---------------------------------------------------------

    def resolve(self, spec: ResolverInput, previous_lock: Path | None, upgrade: bool) -> Resolution:
        check_reachable(spec.index_plan.indexes, self.timeout)
        self.python = build_python.build_python(spec.python_version)
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

    def universal_tolerating(
        self, spec: ResolverInput, temp: Path, previous: Path | None, upgrade: bool
    ) -> dict[str, Any]:
        """The universal lock. A package with no version that has a wheel for a platform is
        an error when it is a top-level pin; any other such package is let through without
        --only-binary, and will be missing on that platform (as the old builder's was)."""
        environments = {key: p.environment(spec.python_version) for key, p in self.platforms.items()}
        for _ in range(10):
            try:
                return self.compile_universal(spec, temp / "universal", previous, upgrade, [])
            except LockError as error:
                found = platform_gap(str(error), environments)
                if found is None or found[1] in self.tolerated.get(found[0], set()):
                    raise
                name, key = found
                if pins := top_level_pins(spec.requirements, name):
                    raise PinWithoutWheel(self.pin_message(spec, self.pin_gaps(spec, pins[0], temp), temp)) from None
                if name not in spec.roots:
                    raise LockError(
                        f"lock {spec.variant}: {name}, a dependency of the config's packages, has no version with "
                        f"a wheel for {key}: add a skip rule on {key} for the top-level package that needs it, or "
                        f"add {name} to packages.resolution.allowSourceList to ship its sdist"
                    ) from None
                self.tolerated.setdefault(name, set()).add(key)
        return self.compile_universal(spec, temp / "universal", previous, upgrade, [])

    def pin_gaps(self, spec: ResolverInput, text: str, work: Path) -> list[tuple[wheel_coverage.Gap, str]]:
        """The platforms a top-level pin applies on and has no wheel for."""
        name, version = canonicalize_name(Requirement(text).name), str(wheel_coverage.exact_pin(text))
        gaps = [
            wheel_coverage.Gap(name, version, key)
            for key, platform in self.platforms.items()
            if not self.has_wheel(spec, platform, name, version, work)
        ]
        return wheel_coverage.pinned_gaps(gaps, [text], self.platforms, spec.python_version)

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


def in_parallel(function: Callable[[T], R], items: list[T]) -> list[R]:
    """*function* over *items* on threads (each runs a uv process), results in order."""
    if len(items) < 2:
        return [function(item) for item in items]
    with ThreadPoolExecutor(max_workers=min(len(items), 8)) as pool:
        return list(pool.map(function, items))


def probe_args(spec: ResolverInput, platform: Platform) -> list[str]:
    """uv arguments that ask which wheel one requirement has for *platform* (its floor)."""
    return [
        "requirements.in",
        "--no-deps",
        "--only-binary",
        EVERY_PACKAGE,
        "--no-header",
        "-q",
        "--python-platform",
        platform.uv_platform,
        "--python-version",
        spec.python_version,
        *(arg for url in spec.index_plan.indexes for arg in ("--index", url)),
    ]


def top_level_pins(requirements: Iterable[str], name: str) -> list[str]:
    return [t for t in requirements if canonicalize_name(Requirement(t).name) == name and wheel_coverage.exact_pin(t)]


def names_in(lock_path: Path) -> set[str]:
    if not lock_path.is_file():
        return set()
    try:
        return {canonicalize_name(p["name"]) for p in tomllib.loads(lock_path.read_text()).get("packages", [])}
    except (tomllib.TOMLDecodeError, KeyError):
        return set()


def floor_env(platform: Platform) -> dict[str, str]:
    """uv reads the macOS floor of --python-platform from MACOSX_DEPLOYMENT_TARGET."""
    return {"MACOSX_DEPLOYMENT_TARGET": platform.macos_floor} if platform.macos_floor else {}


def floor_of(platform: Platform) -> str:
    if platform.glibc_floor:
        return f"glibc {platform.glibc_floor}"
    if platform.macos_floor:
        return f"macOS {platform.macos_floor}"
    return ", ".join(platform.platform_tags[:1])


def cause_of(text: str) -> str:
    lines = text.splitlines()
    return next((line.strip() for line in lines if "cause" in line), lines[0] if lines else text)


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
