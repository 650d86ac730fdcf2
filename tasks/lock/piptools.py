"""pip-tools as an alternative resolver, for host-platform builds only (``build.resolver``).

pip evaluates environment markers against the interpreter it runs in, even with
``--platform`` (pip issue 11664), so pip-compile can only lock the platform it runs on, with
an interpreter of the variant's own minor version. Its hashed requirements are turned into a
PEP 751 lock by looking each file up, by hash, in the index's JSON simple API (PEP 691).
"""

from __future__ import annotations

import os
import platform as host
import re
import shutil
import sys
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from tasks.errors import LockError
from tasks.lock.resolver import Resolution, check_reachable, parse_graph
from tasks.lock.resolver_input import ResolverInput, environment_marker
from tasks.model.platforms import Platform, host_platform_key, major_minor
from tasks.plumbing.cache import default_cache_dir
from tasks.plumbing.commands import run_command

PIN = re.compile(r"^(?P<name>[A-Za-z0-9][A-Za-z0-9._-]*)==(?P<version>\S+)")
HASH = re.compile(r"--hash=sha256:(?P<digest>[0-9a-f]{64})")
JSON_API = "application/vnd.pypi.simple.v1+json"


def pip_default_index() -> str:
    """The index pip itself uses by default, unless PIP_INDEX_URL says otherwise."""
    from pip._internal.models.index import PyPI

    return os.environ.get("PIP_INDEX_URL") or PyPI.simple_url


def interpreter_for(minor: str) -> str:
    """An interpreter of the variant's minor version: this one, $RUNENV_PIP_TOOLS_PYTHON, or
    python<minor> on PATH."""
    if f"{sys.version_info.major}.{sys.version_info.minor}" == minor:
        return sys.executable
    found = os.environ.get("RUNENV_PIP_TOOLS_PYTHON") or shutil.which(f"python{minor}")
    if not found:
        raise LockError(
            f"build.resolver pip-tools needs a Python {minor} interpreter: put python{minor} on PATH "
            "or name it in RUNENV_PIP_TOOLS_PYTHON, or use the uv resolver"
        )
    return found


def pip_compile_command(minor: str, timeout: float) -> list[str]:
    """pip-compile run by a Python of *minor*: ours, or a cached venv with pip-tools."""
    python = interpreter_for(minor)
    if python == sys.executable:
        return [python, "-m", "piptools", "compile"]
    venv = default_cache_dir() / "pip-tools" / minor
    if not (venv / "bin" / "pip-compile").exists():
        step = f"setting up pip-tools for Python {minor}"
        run_command([python, "-m", "venv", venv], step, timeout, error=LockError)
        run_command(
            [venv / "bin" / "python", "-m", "pip", "install", "-q", "pip-tools"], step, timeout, error=LockError
        )
    return [str(venv / "bin" / "python"), "-m", "piptools", "compile"]


def parse_pins(requirements_txt: str) -> dict[str, tuple[str, set[str]]]:
    """{name: (version, sha256 digests)} from pip-compile's hashed output."""
    pins: dict[str, tuple[str, set[str]]] = {}
    current = None
    for line in requirements_txt.splitlines():
        if match := PIN.match(line):
            current = match["name"].lower()
            pins[current] = (match["version"], set())
        if current and (digest := HASH.search(line)):
            pins[current][1].add(digest["digest"])
    return pins


def index_files(session: Any, index: str, name: str, timeout: float) -> list[dict[str, Any]]:
    response = session.get(f"{index.rstrip('/')}/{name}/", headers={"Accept": JSON_API}, timeout=timeout)
    if response.status_code != 200:
        raise LockError(f"{name}: {index} answered HTTP {response.status_code} for its file list")
    files: list[dict[str, Any]] = response.json().get("files", [])
    return files


def package_entry(
    name: str, version: str, digests: set[str], files: list[dict[str, Any]], marker: str, index: str
) -> dict[str, Any]:
    entry: dict[str, Any] = {"name": name, "version": version, "marker": marker, "index": index}
    for file in files:
        digest = file.get("hashes", {}).get("sha256")
        if digest not in digests:
            continue
        table = {"name": file["filename"], "url": file["url"], "size": file.get("size"), "hashes": {"sha256": digest}}
        table = {k: v for k, v in table.items() if v is not None}
        if file["filename"].endswith(".whl"):
            entry.setdefault("wheels", []).append(table)
        else:
            entry["sdist"] = table
    if "wheels" not in entry and "sdist" not in entry:
        raise LockError(f"{name} {version}: none of its locked hashes is listed by {index}")
    return entry


class PipToolsResolver:
    def __init__(self, platforms: Mapping[str, Platform], timeout: float) -> None:
        self.platforms = platforms
        self.timeout = timeout

    def host(self) -> Platform:
        key = host_platform_key(host.system(), host.machine())
        if key is None:
            raise LockError(f"pip-tools: this host ({host.system()} {host.machine()}) is none of the five platforms")
        return self.platforms[key]

    def compile(self, spec: ResolverInput, previous: Path | None, upgrade: bool) -> str:
        minor = major_minor(spec.python_version)
        with tempfile.TemporaryDirectory(prefix="runenv-pip-tools-") as temp:
            source, output = Path(temp) / "requirements.in", Path(temp) / "requirements.txt"
            source.write_text("\n".join(spec.requirements) + "\n")
            extra = [arg for url in spec.index_plan.indexes for arg in ("--extra-index-url", url)]
            command = [
                *pip_compile_command(minor, self.timeout),
                "--generate-hashes",
                "--quiet",
                "--no-header",
                "--annotation-style",
                "line",
                "--index-url",
                pip_default_index(),
                *extra,
                *(["--upgrade"] if upgrade else []),
                "-o",
                str(output),
                str(source),
            ]
            done = run_command(
                command, f"lock {spec.variant}", self.timeout, check=False, error=LockError, described="pip-compile"
            )
            if done.returncode != 0:
                raise LockError(f"lock {spec.variant}: pip-compile failed:\n{done.stderr.strip()}")
            return output.read_text()

    def resolve(self, spec: ResolverInput, previous_lock: Path | None, upgrade: bool) -> Resolution:
        import requests

        check_reachable(spec.index_plan.indexes, self.timeout)
        platform = self.host()
        compiled = self.compile(spec, previous_lock, upgrade)
        marker = environment_marker(platform, spec.python_version)
        packages = []
        with requests.Session() as session:
            for name, (version, digests) in sorted(parse_pins(compiled).items()):
                for index in (*spec.index_plan.indexes, pip_default_index()):
                    files = index_files(session, index, name, min(self.timeout, 60))
                    if any(f.get("hashes", {}).get("sha256") in digests for f in files):
                        packages.append(package_entry(name, version, digests, files, marker, index))
                        break
                else:
                    raise LockError(f"{name} {version}: no index lists a file with its locked hashes")
        lock = {"lock-version": "1.0", "created-by": "pip-tools", "environments": [marker], "packages": packages}
        note = f"pip-tools resolves for the host platform only ({platform.key})"
        return Resolution(lock, parse_graph(compiled), (note,))
