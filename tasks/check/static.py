"""Static verification of a cell for any platform, from the Linux host: linkage, minimum OS
and completeness of the wheelhouse, without running anything built for the target.

The environment is laid out as installed: the interpreter tree and copyFiles of
``pydist/<platform>/``, plus every wheel's files at their installed paths. Each native binary
of the wheels and of copyFiles is read (core.linkage decides), and an offline resolution of
the cell's packages against its own ``packages/`` must succeed for the platform's markers
and tags.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
import zipfile
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from dataclasses import asdict
from multiprocessing import get_context
from pathlib import Path
from typing import Any

from tasks.check.signatures import signature_problems
from tasks.config.merged import variant_config
from tasks.model.envlayout import EnvLayout
from tasks.model.layout import Layout, Variant
from tasks.model.linkage import NATIVE_FORMAT, Binary, SystemLibraries, Tree, floor_problem, resolve, system_libraries
from tasks.model.platforms import Platform
from tasks.model.records import SelectReport
from tasks.plumbing import files
from tasks.plumbing.binaries import manylinux_libraries, read_binary
from tasks.plumbing.cache import Cache, sha256_of
from tasks.plumbing.commands import run_command, tail
from tasks.plumbing.files import environment_files

NATIVE_SUFFIXES = (".so", ".pyd", ".dll", ".dylib", ".exe")


def looks_native(name: str) -> bool:
    base = name.rsplit("/", 1)[-1].lower()
    return base.endswith(NATIVE_SUFFIXES) or ".so." in base or "/scripts/" in name


def installed_path(member: str, env: EnvLayout) -> str | None:
    """Where a wheel member is installed, relative to the environment root."""
    first, _, rest = member.partition("/")
    if not first.endswith(".data"):
        return f"{env.site_packages}/{member}"
    kind, _, path = rest.partition("/")
    scripts = "bin/Scripts" if env.platform.is_windows else "bin"
    roots = {"purelib": env.site_packages, "platlib": env.site_packages, "scripts": scripts, "data": ""}
    if kind not in roots or not path:
        return None
    return f"{roots[kind]}/{path}".lstrip("/")


def facts_record(wheel: Path) -> Path:
    return Cache().root / "binaries" / f"{sha256_of(wheel)}.json"


def read_facts_ahead(wheels: list[Path], jobs: int) -> None:
    """Read the binaries of the wheels not yet in the cache on ``jobs`` processes at once (the
    readers are pure Python, so threads would share one core); wheel_facts then finds them."""
    cold = [wheel for wheel in wheels if not facts_record(wheel).is_file()]
    if jobs < 2 or len(cold) < 4:  # starting processes costs more than a few small wheels
        return
    cold.sort(key=lambda wheel: wheel.stat().st_size, reverse=True)  # the biggest first
    with ProcessPoolExecutor(max_workers=min(jobs, len(cold)), mp_context=get_context("spawn")) as pool:
        for _ in pool.map(wheel_facts, cold):
            pass


def wheel_facts(wheel: Path) -> dict[str, Binary]:
    """{wheel member: facts} of a wheel's native binaries, each extracted to a temp file and
    read; kept in the shared cache by the wheel's sha256, so each wheel is read once."""
    record = facts_record(wheel)
    if (known := files.read_json_if_exists(record)) is not None:
        return {member: Binary.from_json(facts) for member, facts in known.items()}
    found: dict[str, Binary] = {}
    with zipfile.ZipFile(wheel) as archive, tempfile.TemporaryDirectory(prefix="runenv-static-") as temp:
        scratch = Path(temp) / "binary"
        for info in archive.infolist():
            if info.is_dir() or not looks_native(info.filename):
                continue
            with archive.open(info) as source, scratch.open("wb") as target:
                shutil.copyfileobj(source, target, 1 << 20)
            if (facts := read_binary(scratch)) is not None:
                found[info.filename] = facts
    files.write_json_atomic(record, {member: asdict(facts) for member, facts in found.items()})
    return found


def wheel_binaries(wheel: Path, env: EnvLayout) -> tuple[set[str], list[tuple[str, Binary]]]:
    """(installed paths of the wheel's files, its native binaries at their installed paths)."""
    with zipfile.ZipFile(wheel) as archive:
        members = [info.filename for info in archive.infolist() if not info.is_dir()]
    paths = {where: member for member in members if (where := installed_path(member, env)) is not None}
    facts = wheel_facts(wheel)
    return set(paths), [(where, facts[member]) for where, member in sorted(paths.items()) if member in facts]


def linkage(layout: Layout, variant: Variant, platform: Platform, system: SystemLibraries, jobs: int) -> dict[str, Any]:
    env = EnvLayout(platform, variant.python_version)
    root = layout.pydist(variant, platform.key)
    base = layout.base_tree(variant, platform.key)
    prefix = f"{env.interpreter_root}/" if env.interpreter_root else ""
    base_files = {prefix + p for p in environment_files(base)} if base.is_dir() else set()
    tree_files = environment_files(root)
    binaries: list[tuple[str, Binary]] = []
    wheels = sorted((root / "packages").glob("*.whl"))
    read_facts_ahead(wheels, jobs)
    with ThreadPoolExecutor(max_workers=max(jobs, 1)) as pool:  # zlib releases the GIL
        for paths, found in pool.map(lambda w: wheel_binaries(w, env), wheels):
            tree_files |= paths
            binaries += found
    for where in sorted(tree_files - base_files):  # copyFiles
        if (root / where).is_file() and (facts := read_binary(root / where)) is not None:
            binaries.append((where, facts))
    # A wheel may carry binaries of other platforms (setuptools' Windows launchers): not loaded here.
    binaries = [(where, facts) for where, facts in binaries if facts.format == NATIVE_FORMAT[platform.os]]
    tree = Tree(frozenset(tree_files), platform.is_windows)
    application = str(Path(env.python).parent)  # Windows searches the interpreter's directory
    findings = [f for where, facts in binaries for f in resolve(where, facts, tree, system, application)]
    floors = [
        p for where, facts in binaries if (p := floor_problem(where, facts, platform.glibc_floor, platform.macos_floor))
    ]
    return {
        "binaries": len(binaries),
        "unresolved": [f.describe() for f in findings if f.kind == "unresolved"],
        "driver": [f.describe() for f in findings if f.kind == "driver"],
        "offSearchPath": [f.describe() for f in findings if f.kind == "off-search-path"],
        "aboveFloor": floors,
    }


def completeness(layout: Layout, variant: Variant, platform: Platform, timeout: float) -> str | None:
    """Why the cell's packages do not resolve offline against its own wheelhouse, or None."""
    from tasks.model.platforms import floor_env
    from tasks.plumbing.commands import uv_binary

    report = SelectReport.from_json(files.read_json(layout.cell_report(variant, platform.key)))
    merged = variant_config(layout, variant).merged
    no_deps = set(merged["packages"]["noDeps"])
    pins = [f"{s.name}=={s.version}" for s in report.selected if s.name not in no_deps]
    trusted = [s for s in report.selected if s.name in no_deps or not s.file.endswith(".whl")]
    lines = ["[project]", 'name = "runenv-completeness"', 'version = "0"', f"dependencies = {json.dumps(pins)}"]
    for s in trusted:  # sdists: metadata given (dependencies taken as given), so nothing is built
        lines += ["[[tool.uv.dependency-metadata]]", f"name = {json.dumps(s.name)}",
                  f"version = {json.dumps(s.version)}", "requires-dist = []"]  # fmt: skip
    packages = layout.wheelhouse(variant, platform.key)
    with tempfile.TemporaryDirectory(prefix="runenv-complete-") as temp:
        (Path(temp) / "pyproject.toml").write_text("\n".join(lines) + "\n")
        command = [uv_binary(), "pip", "compile", "pyproject.toml", "--no-index", "--find-links", packages.resolve(),
                   "--python-platform", platform.uv_platform, "--python-version", variant.python_version,
                   "--no-header", "-q", "--no-python-downloads"]  # fmt: skip
        env = {**os.environ, **floor_env(platform)}  # uv reads the macOS floor from the environment
        done = run_command(command, "completeness check", timeout, cwd=Path(temp), env=env, check=False)
    if done.returncode == 0:
        return None
    return "the wheelhouse does not resolve offline for this platform:\n" + "\n".join(tail(done.stderr))


def static_check(layout: Layout, variant: Variant, platform: Platform, timeout: float, jobs: int) -> dict[str, Any]:
    """Linkage, floors and completeness; ``jobs`` wheels' binaries are read at once."""
    data = files.read_json(layout.configs / "system-libraries.json")
    system = system_libraries(data, platform.os, manylinux_libraries(platform))
    result = linkage(layout, variant, platform, system, jobs)
    result["incomplete"] = completeness(layout, variant, platform, timeout)
    result["signatures"] = signature_problems(layout, variant, platform.key)  # None: not meant to be signed
    return result


def static_failures(result: dict[str, Any]) -> list[str]:
    """What fails a check: a binary above the platform's floor, or an incomplete wheelhouse.
    An unresolved library is listed, as a warning: wheels may rely on an optional system library
    (numba's threading layers on libgomp or libtbb), which only the target system can provide."""
    signatures = [f"not validly signed: {problem}" for problem in result.get("signatures") or []]
    return [*result["aboveFloor"], *([result["incomplete"]] if result["incomplete"] else []), *signatures]
