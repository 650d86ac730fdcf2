"""Resolvers: turn a ResolverInput into a raw PEP 751 lock (dict) plus a dependency graph.

``UvResolver`` resolves all five platforms at once with ``uv pip compile --universal``,
restricted to the variant's five target environments through ``tool.uv.environments``.
The committed lock is handed to uv as its output file, so unchanged packages keep their
versions (uv reads an existing output as preferences) unless an upgrade is asked for.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Protocol

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from tasks.core import toml as tomllib
from tasks.core.platforms import Platform
from tasks.core.requirements import VCS_SCHEMES
from tasks.core.resolver_errors import kind_of, message
from tasks.core.resolver_input import MIRRORS_VARIABLE, ResolverInput, environment_marker
from tasks.errors import LockError

VIA = re.compile(r"^(?P<name>[A-Za-z0-9][A-Za-z0-9._-]*)==\S+.*#\s*via\s+(?P<via>.+)$")


@dataclass(frozen=True)
class Resolution:
    lock: dict[str, Any]
    graph: dict[str, list[str]]
    notes: tuple[str, ...] = ()
    # {requirement as configured: as resolved}, where built metadata renamed a VCS requirement
    renamed: dict[str, str] = field(default_factory=dict)


class Resolver(Protocol):
    def resolve(self, spec: ResolverInput, previous_lock: Path | None, upgrade: bool) -> Resolution: ...


def uv_binary() -> str:
    from uv import find_uv_bin

    return str(find_uv_bin())


def default_index_args() -> list[str]:
    """uv reads UV_DEFAULT_INDEX / UV_INDEX_URL itself; PIP_INDEX_URL is passed on."""
    if os.environ.get("UV_DEFAULT_INDEX") or os.environ.get("UV_INDEX_URL"):
        return []
    pip_index = os.environ.get("PIP_INDEX_URL")
    return ["--default-index", pip_index] if pip_index else []


def check_reachable(indexes: tuple[str, ...], timeout: float) -> None:
    """Fail early, naming the registry and the way out, when an extra index cannot be reached."""
    import requests

    for url in indexes:
        if url.startswith("file://"):
            continue
        try:
            requests.get(url, timeout=min(timeout, 20), stream=True).close()
        except requests.RequestException as exc:
            raise LockError(
                f"registry {url} (registries.additional) cannot be reached: {type(exc).__name__}. "
                f"Set {MIRRORS_VARIABLE} to map it to a mirror, or to null to leave it out, e.g. "
                f"{MIRRORS_VARIABLE}='{json.dumps({url: None})}'"
            ) from None


@dataclass(frozen=True)
class VcsPackage:
    """What a VCS requirement's built metadata says: its real name and version."""

    written: str  # the requirement as the config has it
    name: str
    version: str

    @property
    def requirement(self) -> str:
        """The requirement under its real name (markers kept)."""
        requirement = Requirement(self.written)
        requirement.name = self.name
        return str(requirement)


def project_toml(spec: ResolverInput, environments: tuple[str, ...], vcs: Mapping[str, VcsPackage]) -> str:
    requirements = [vcs[text].requirement if text in vcs else text for text in spec.requirements]
    versions = {package.name: package.version for package in vcs.values()}
    lines = [
        "[project]",
        'name = "runenv-lock"',
        'version = "0"',
        'requires-python = ">=3.10"',
        f"dependencies = {json.dumps(requirements)}",
        "",
        "[tool.uv]",
        f"environments = {json.dumps(list(environments))}",
    ]
    for url in spec.index_plan.indexes:
        lines += ["", "[[tool.uv.index]]", f"url = {json.dumps(url)}"]
    for name in spec.no_deps:
        # uv applies metadata to a VCS package only when the version is given too.
        version = [f"version = {json.dumps(versions[name])}"] if name in versions else []
        lines += ["", "[[tool.uv.dependency-metadata]]", f"name = {json.dumps(name)}", *version, "requires-dist = []"]
    return "\n".join(lines) + "\n"


def pins_of(lock: Mapping[str, Any]) -> str:
    """Constraints that reproduce *lock*, each under its package's marker: a lock may hold two
    versions of a package for different platforms, and unconditional pins would conflict."""
    lines = []
    for package in lock.get("packages", []):
        if "version" in package:
            marker = f" ; {package['marker']}" if package.get("marker") else ""
            lines.append(f"{package['name']}=={package['version']}{marker}")
    return "\n".join(lines) + "\n"


def parse_graph(requirements_txt: str) -> dict[str, list[str]]:
    """{package: [packages it depends on]} from uv's ``# via`` annotations (line style)."""
    graph: dict[str, list[str]] = {}
    for line in requirements_txt.splitlines():
        match = VIA.match(line.strip())
        if not match:
            continue
        child = canonicalize_name(match["name"])
        for parent in (p.strip() for p in match["via"].split(",")):
            if parent and " " not in parent:
                graph.setdefault(canonicalize_name(parent), []).append(child)
    return {parent: sorted(set(children)) for parent, children in graph.items()}


class UvResolver:
    def __init__(self, platforms: Mapping[str, Platform], timeout: float) -> None:
        self.platforms = platforms
        self.timeout = timeout
        self.vcs: dict[str, VcsPackage] = {}

    def probe_vcs(self, spec: ResolverInput, work: Path) -> dict[str, VcsPackage]:
        """Name and version of each VCS requirement, from its built metadata (uv caches the
        checkout and the build). The name a bare URL's repository suggests may differ."""
        found: dict[str, VcsPackage] = {}
        for text in spec.requirements:
            requirement = Requirement(text)
            url = requirement.url or ""
            if not url.startswith(VCS_SCHEMES):
                continue
            probe = work / f"vcs-{len(found)}"
            probe.mkdir(parents=True)
            (probe / "requirements.in").write_text(url + "\n")
            step = f"lock {spec.variant}: {url}"
            args = ["requirements.in", "--no-deps", "--no-header", "-q", "--format", "pylock.toml", "-o", "pylock.toml"]
            self.run_uv(
                [*args, "--python-version", spec.python_version],
                probe,
                step,
            )
            package = tomllib.loads((probe / "pylock.toml").read_text())["packages"][0]
            found[text] = VcsPackage(text, canonicalize_name(package["name"]), str(package["version"]))
            if found[text].name != canonicalize_name(requirement.name):
                print(f"lock {spec.variant}: {requirement.url} builds package {found[text].name}", file=sys.stderr)
        return found

    def run_uv(self, args: list[str], cwd: Path, step: str) -> str:
        # The interpreter only runs sdist builds; never let uv download one of its own.
        command = [
            uv_binary(),
            "pip",
            "compile",
            *args,
            "--python",
            sys.executable,
            "--no-python-downloads",
            *default_index_args(),
        ]
        try:
            done = subprocess.run(command, cwd=cwd, capture_output=True, text=True, timeout=self.timeout)
        except subprocess.TimeoutExpired:
            raise LockError(f"{step}: uv pip compile exceeded build.timeout ({self.timeout:g} s)") from None
        if done.returncode != 0:
            raise LockError(f"{step}: uv pip compile failed:\n{done.stderr.strip()}")
        return done.stdout

    def compile(
        self,
        spec: ResolverInput,
        environments: tuple[str, ...],
        work: Path,
        previous: Path | None,
        upgrade: bool,
        step: str,
    ) -> tuple[dict[str, Any], dict[str, list[str]]]:
        work.mkdir(parents=True, exist_ok=True)
        (work / "pyproject.toml").write_text(project_toml(spec, environments, self.vcs))
        output = work / "pylock.toml"
        if previous is not None and previous.is_file() and not upgrade:
            shutil.copyfile(previous, output)
        common = ["pyproject.toml", "--universal", "--python-version", spec.python_version, "--no-header", "-q"]
        self.run_uv(
            [*common, "--format", "pylock.toml", "-o", "pylock.toml", *(["--upgrade"] if upgrade else [])], work, step
        )
        lock = tomllib.loads(output.read_text())
        (work / "pins.txt").write_text(pins_of(lock))
        annotated = self.run_uv([*common, "-c", "pins.txt", "--annotation-style", "line"], work, f"{step} (graph)")
        return lock, parse_graph(annotated)

    def resolve(self, spec: ResolverInput, previous_lock: Path | None, upgrade: bool) -> Resolution:
        check_reachable(spec.index_plan.indexes, self.timeout)
        with tempfile.TemporaryDirectory(prefix="runenv-lock-") as temp:
            self.vcs = self.probe_vcs(spec, Path(temp) / "probes")
            renamed = {text: package.requirement for text, package in self.vcs.items()}
            try:
                lock, graph = self.compile(
                    spec, spec.environments, Path(temp) / "universal", previous_lock, upgrade, f"lock {spec.variant}"
                )
                return Resolution(lock, graph, renamed=renamed)
            except LockError as universal_error:
                text = str(universal_error)
                if kind_of(text) != "no-solution":  # a typo, a missing version, a dead index: say so
                    raise LockError(
                        message(spec.variant, text, dict(spec.sources), list(spec.index_plan.mirrored.values()))
                    ) from None
                why = text.splitlines()
                reason = next((line.strip() for line in why if "cause" in line), why[0])
            print(
                f"lock {spec.variant}: universal resolution impossible ({reason}); "
                "falling back to one resolution per platform",
                file=sys.stderr,
            )
            resolution = self.resolve_per_platform(spec, Path(temp), previous_lock, upgrade, reason)
            return replace(resolution, renamed=renamed)

    def resolve_per_platform(
        self, spec: ResolverInput, temp: Path, previous: Path | None, upgrade: bool, reason: str
    ) -> Resolution:
        parts: list[tuple[str, dict[str, Any]]] = []
        graph: dict[str, list[str]] = {}
        for key, platform in self.platforms.items():
            marker = environment_marker(platform, spec.python_version)
            lock, part_graph = self.compile(
                spec, (marker,), temp / key, previous, upgrade, f"lock {spec.variant} for {key}"
            )
            parts.append((marker, lock))
            for parent, children in part_graph.items():
                graph[parent] = sorted({*graph.get(parent, []), *children})
        note = f"resolved once per platform because universal resolution is impossible: {reason}"
        return Resolution(combine_platform_locks(parts), graph, (note,))


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
