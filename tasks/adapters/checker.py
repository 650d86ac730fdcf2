"""The check stage: install the wheelhouse offline into a venv of the built interpreter and
import every top-level and native module of every wheel (host platform only)."""

from __future__ import annotations

import fnmatch
import json
import os
import subprocess
import tempfile
import zipfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from tasks.adapters import files
from tasks.adapters.base_python import is_host
from tasks.adapters.commands import run_command
from tasks.adapters.config_files import read_merged_config, relative
from tasks.core import platforms
from tasks.core.envlayout import EnvLayout
from tasks.core.layout import Layout, Variant
from tasks.errors import BuildError

IMPORTER = """
import importlib, json, sys
failed = {}
for name in sys.argv[1:]:
    try:
        importlib.import_module(name)
    except BaseException as exc:
        failed[name] = f"{type(exc).__name__}: {exc}"
print(json.dumps(failed))
"""
NATIVE = (".so", ".pyd")


def wheel_modules(wheel: Path) -> list[str]:
    """Top-level modules and packages, and every native extension module, of a wheel."""
    modules: set[str] = set()
    with zipfile.ZipFile(wheel) as archive:
        for name in archive.namelist():
            parts = name.split("/")
            if parts[0].endswith((".dist-info", ".data")) or name.endswith("/"):
                continue
            if len(parts) == 1 and parts[0].endswith((".py", *NATIVE)):
                modules.add(parts[0].split(".")[0])
            elif len(parts) == 2 and parts[1] == "__init__.py":
                modules.add(parts[0])
            if name.endswith(NATIVE) and all(p.isidentifier() for p in parts[:-1]):
                modules.add(".".join([*parts[:-1], parts[-1].split(".")[0]]))
    return sorted(m for m in modules if all(p.isidentifier() for p in m.split(".")))


def import_failures(python: Path, modules: list[str], timeout: float) -> dict[str, str]:
    if not modules:
        return {}
    try:
        done = subprocess.run(
            [str(python), "-c", IMPORTER, *modules],
            capture_output=True,
            text=True,
            timeout=timeout,
            env={**os.environ, "PYTHONDONTWRITEBYTECODE": "1"},
        )
    except subprocess.TimeoutExpired:
        return {m: f"TimeoutExpired: import check exceeded build.timeout ({timeout:g} s)" for m in modules}
    if done.returncode != 0:
        return {modules[0]: f"the importer crashed: {done.stderr.strip()[-500:]}"}
    failures: dict[str, str] = json.loads(done.stdout.strip().splitlines()[-1])
    return failures


def venv_interpreter(venv: Path) -> Path:
    """A venv's interpreter: Scripts/python.exe on a Windows runner, bin/python elsewhere."""
    return venv / "Scripts" / "python.exe" if os.name == "nt" else venv / "bin" / "python"


def install_wheelhouse(python: Path, venv: Path, packages: Path, no_deps: bool, timeout: float) -> Path:
    run_command([python, "-m", "venv", venv], f"creating a venv of {python}", timeout)
    venv_python = venv_interpreter(venv)
    command = [
        str(venv_python),
        "-m",
        "pip",
        "--isolated",
        "install",
        "--no-index",
        "--find-links",
        str(packages),
        "-r",
        str(packages / "requirements.txt"),
        *(["--no-deps"] if no_deps else []),
    ]
    done = run_command(command, f"offline install of {packages}", timeout, check=False)
    if done.returncode != 0:
        raise BuildError(
            f"offline install of {packages} failed (the wheelhouse is incomplete?):\n"
            + done.stdout[-1500:]
            + done.stderr[-1500:]
        )
    return venv_python


def whitelisted(whitelist: dict[str, dict[str, str]], wheel: str, module: str, error: str) -> str | None:
    for pattern, modules in whitelist.items():
        expected = modules.get(module)
        if fnmatch.fnmatch(wheel, pattern) and expected is not None and expected in error:
            return f"{pattern}/{module}"
    return None


def judge(results: dict[str, dict[str, str]], whitelist: dict[str, dict[str, str]]) -> dict[str, Any]:
    failures, used = [], set()
    for wheel, failed in sorted(results.items()):
        for module, error in sorted(failed.items()):
            if key := whitelisted(whitelist, wheel, module, error):
                used.add(key)
            else:
                failures.append({"wheel": wheel, "module": module, "error": error})
    unused = sorted(f"{p}/{m}" for p, mods in whitelist.items() for m in mods if f"{p}/{m}" not in used)
    return {"failures": failures, "whitelisted": sorted(used), "unusedWhitelist": unused}


def snippet(failures: list[dict[str, str]]) -> str:
    entries: dict[str, dict[str, str]] = {}
    for failure in failures:
        entries.setdefault(failure["wheel"], {})[failure["module"]] = failure["error"].split(":")[0]
    return json.dumps(entries, indent=2)


def import_everything(
    root: Path, python: str, no_deps: bool, timeout: float
) -> tuple[dict[str, dict[str, str]], list[Path]]:
    """Install root/packages offline into a throwaway venv, then import every wheel's modules."""
    with tempfile.TemporaryDirectory(prefix="runenv-check-") as temp:
        venv_python = install_wheelhouse(root / python, Path(temp) / "venv", root / "packages", no_deps, timeout)
        wheels = sorted((root / "packages").glob("*.whl"))
        with ThreadPoolExecutor(max_workers=os.cpu_count() or 2) as pool:
            failures = pool.map(lambda w: import_failures(venv_python, wheel_modules(w), timeout), wheels)
            return dict(zip([w.name for w in wheels], failures, strict=True)), wheels


def check_cell(layout: Layout, variant: Variant, platform_key: str) -> None:
    merged = read_merged_config(layout, variant)
    platform = platforms.load(layout.platforms)[platform_key]
    report_path = layout.check_report(variant, platform_key)
    report_path.unlink(missing_ok=True)
    if not is_host(platform):
        reason = f"needs a native {platform.os} {platform.arch} runner for the import check"
        files.write_json_atomic(report_path, {"status": "needs-native-runner", "reason": reason})
        print(f"{variant.cell(platform_key)}: import check NOT RUN: {reason}")
        return
    root = layout.pydist(variant, platform_key)
    timeout = float(merged["build"].get("timeout", 900))
    whitelist_path = layout.whitelist(platform_key)
    whitelist = files.read_json(whitelist_path) if whitelist_path.is_file() else {}
    found, wheels = import_everything(
        root, EnvLayout(platform, variant.python_version).python, bool(merged["packages"]["noDeps"]), timeout
    )
    verdict = judge(found, whitelist)
    checked = sum(len(wheel_modules(w)) for w in wheels)
    for unused in verdict["unusedWhitelist"]:
        print(f"{relative(layout, whitelist_path)}: unused whitelist entry {unused}")
    if verdict["failures"]:
        lines = [f"  - {f['wheel']}: import {f['module']}: {f['error']}" for f in verdict["failures"]]
        raise BuildError(
            f"{variant.cell(platform_key)}: {len(lines)} modules fail to import:\n"
            + "\n".join(lines)
            + f"\nIf expected, add to {relative(layout, whitelist_path)}:\n{snippet(verdict['failures'])}"
        )
    files.write_json_atomic(report_path, {"status": "passed", "modules": checked, **verdict})
    print(f"{variant.cell(platform_key)}: import check passed: {checked} modules from {len(wheels)} wheels")
