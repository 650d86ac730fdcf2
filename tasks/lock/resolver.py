"""Resolvers: turn a ResolverInput into a raw PEP 751 lock (dict) plus a dependency graph.

``UvResolver`` (uv_resolver.py) resolves all five platforms at once with ``uv pip compile --universal``,
restricted to the variant's five target environments through ``tool.uv.environments``.
The committed lock is handed to uv as its output file, so unchanged packages keep their
versions (uv reads an existing output as preferences) unless an upgrade is asked for.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from tasks.errors import LockError
from tasks.lock import lockfile
from tasks.lock.resolver_input import MIRRORS_VARIABLE, ResolverInput

VIA = re.compile(r"^(?P<name>[A-Za-z0-9][A-Za-z0-9._-]*)==\S+.*#\s*via\s+(?P<via>.+)$")


@dataclass(frozen=True)
class Resolution:
    lock: dict[str, Any]
    graph: dict[str, list[str]]
    notes: tuple[str, ...] = ()
    # {requirement as configured: as resolved}, where built metadata renamed a VCS requirement
    renamed: dict[str, str] = field(default_factory=dict)
    # {platform key: {package: [its dependencies on that platform]}}; ``graph`` stands in
    # for a platform missing here
    platform_graphs: dict[str, dict[str, list[str]]] = field(default_factory=dict)
    # top-level packages left off a platform: no version has a wheel there, or the pin has none
    missing: tuple[lockfile.Missing, ...] = ()


class Resolver(Protocol):
    def resolve(self, spec: ResolverInput, previous_lock: Path | None, upgrade: bool) -> Resolution: ...


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
        *([f"environments = {json.dumps(list(environments))}"] if environments else []),
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
