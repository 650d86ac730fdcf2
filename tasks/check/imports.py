"""The host import check: install the wheelhouse offline once per cell, then import every
top-level module and every real extension module the way Python would.

A fresh interpreter per top-level package imports the package first, then each module with
its parents first. A module that fails or crashes there is tried again alone; an extension
module that still fails is loaded on its own from its file, which tells a broken binary from
one that only conflicts with its package. Failures are classified (see core.import_check).
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
import zipfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from tasks.check.failures import Failure, extension_name
from tasks.errors import BuildError
from tasks.plumbing.binaries import read_binary
from tasks.plumbing.cache import sha256_of
from tasks.plumbing.commands import exit_status, run_command, tail
from tasks.plumbing.host import venv_interpreter

IMPORTER = """
import importlib, importlib.util, json, os, signal, sys
mode, results = sys.argv[1], open(sys.argv[2], "a")

def report(module, error=None):
    results.write(json.dumps({"module": module, **({"error": error} if error else {})}) + "\\n")
    results.flush()

def attempt(module):
    try:
        for i in range(module.count(".") + 1):
            importlib.import_module(".".join(module.split(".")[: i + 1]))
        report(module)
        return True
    except BaseException as exc:
        report(module, f"{type(exc).__name__}: {exc}")
        return False

if mode == "alone":
    name, path = sys.argv[3], sys.argv[4]
    importlib.util.module_from_spec(importlib.util.spec_from_file_location(name, path))
    report(name)
elif mode == "import":
    for module in json.loads(sys.argv[3]):
        attempt(module)
else:  # "fork": import the packages once, then each module in a forked copy, crashes isolated
    modules = json.loads(sys.argv[3])
    packages = sorted({m.rsplit(".", 1)[0] for m in modules if "." in m} - set(modules), key=lambda p: p.count("."))
    broken = [p for p in packages if not attempt(p)]
    for module in modules:
        if any(module == p or module.startswith(p + ".") for p in broken):
            continue
        child = os.fork()
        if child == 0:
            attempt(module)
            os._exit(0)
        _, status = os.waitpid(child, 0)
        if os.WIFSIGNALED(status):
            name = signal.Signals(os.WTERMSIG(status)).name
            report(module, f"the interpreter was killed by {name} while importing it")
"""
FACTS = """
import importlib.machinery, importlib.metadata as md, json, re, sysconfig
provided, optional = set(), {}
for dist in md.distributions():
    top = dist.read_text("top_level.txt") or ""
    provided.update(top.split())
    for file in dist.files or []:
        first = str(file).split("/")[0]
        if not first.endswith((".dist-info", ".data")) and first not in ("..", "bin", "Scripts"):
            provided.add(first.split(".")[0])
    for text in dist.requires or []:
        extra = re.search(r"extra\\s*==\\s*['\\"]([^'\\"]+)", text)
        if extra:
            name = re.split(r"[\\s;<>=!~\\[(]", text, maxsplit=1)[0]
            key = re.sub(r"[-_.]+", "-", name).lower()
            optional.setdefault(key, f"{name} (extra '{extra.group(1)}' of {dist.metadata['Name']})")
print(json.dumps({"provided": sorted(provided), "optional": optional,
                  "suffixes": importlib.machinery.EXTENSION_SUFFIXES, "site": sysconfig.get_paths()["platlib"]}))
"""
QUIET = {"TF_CPP_MIN_LOG_LEVEL": "3", "PYTHONWARNINGS": "ignore"}
CRASHED = "the interpreter was killed by"


def installed_venv(python: Path, venv: Path, manifest: Path, no_deps: bool, timeout: float) -> Path:
    """The cell's offline install into a venv of the built interpreter, made once per runenv.json
    (reused while it is unchanged). uv installs it: the same wheels, hashes checked, no index,
    in a third of pip's time (the consumer's own pip install is what the end-to-end test runs)."""
    from tasks.plumbing.commands import uv_binary

    marker, digest = venv / ".runenv-installed", sha256_of(manifest)
    if marker.is_file() and marker.read_text() == digest and venv_interpreter(venv).exists():
        return venv_interpreter(venv)
    shutil.rmtree(venv, ignore_errors=True)
    run_command([python, "-m", "venv", "--without-pip", venv], f"creating a venv of {python}", timeout)
    packages = manifest.parent / "packages"
    command = [uv_binary(), "pip", "install", "--python", venv_interpreter(venv), "--no-index", "--find-links",
               packages, "-r", packages / "requirements.txt", *(["--no-deps"] if no_deps else [])]  # fmt: skip
    done = run_command(command, f"offline install of {packages}", timeout, check=False)
    if done.returncode != 0:
        raise BuildError(
            f"offline install of {packages} failed (the wheelhouse is incomplete?):\n"
            + "\n".join(tail(done.stdout) + tail(done.stderr))
        )
    marker.write_text(digest)
    return venv_interpreter(venv)


def wheel_modules(wheel: Path, site: Path, suffixes: list[str]) -> list[str]:
    """Top-level modules and packages, and every extension module (an extension suffix of the
    target and an exported ``PyInit_<name>``; ``lib*.so`` helpers are neither) of a wheel."""
    modules: set[str] = set()
    with zipfile.ZipFile(wheel) as archive:
        names = [n for n in archive.namelist() if not n.endswith("/")]
    for raw in names:
        first, _, rest = raw.partition("/")
        name = rest.partition("/")[2] if first.endswith(".data") and rest.startswith(("purelib/", "platlib/")) else raw
        parts = name.split("/")
        if parts[0].endswith((".dist-info", ".data")):
            continue
        if (len(parts) == 1 and name.endswith(".py")) or (len(parts) == 2 and parts[1] == "__init__.py"):
            modules.add(parts[0].removesuffix(".py"))
        module = extension_name(name, suffixes)
        if module and (facts := read_binary(site / name, f"PyInit_{module.rsplit('.', 1)[-1]}")) and facts.exports_init:
            modules.add(module)
    return sorted(m for m in modules if all(p.isidentifier() for p in m.split(".")))


def run_importer(python: Path, args: list[str], timeout: float) -> tuple[list[dict[str, str]], str | None]:
    """(one result per module reached, why the interpreter stopped early or None)."""
    with tempfile.TemporaryDirectory(prefix="runenv-import-") as temp:
        results = Path(temp) / "results.jsonl"
        results.touch()
        command = [str(python), "-c", IMPORTER, args[0], str(results), *args[1:]]
        stopped = None
        try:
            done = run_command(command, "import check", timeout, env={**os.environ, **QUIET}, check=False)
            if done.returncode != 0:
                stopped = f"{exit_status(done.returncode)}: {' '.join(tail(done.stderr)[-2:])}"
        except BuildError as error:
            if not error.timed_out:
                raise
            stopped = f"timed out after build.timeout ({timeout:g} s)"
        return [json.loads(line) for line in results.read_text().splitlines() if line.strip()], stopped


def import_group(python: Path, modules: list[str], timeout: float) -> dict[str, str]:
    """{module or package: error} for one top-level package: its packages imported once, then
    each module in a forked copy of that interpreter (where fork exists), so that a crash costs
    one module and no module is imported after an unrelated sibling."""
    failures: dict[str, str] = {}
    pending = sorted(modules, key=lambda m: (len(m.split(".")), m))
    mode = "fork" if hasattr(os, "fork") else "import"
    while pending:
        results, stopped = run_importer(python, [mode, json.dumps(pending)], timeout)
        reported = {r["module"]: r.get("error") for r in results}
        failures.update({module: error for module, error in reported.items() if error})
        unreached = [m for m in pending if m not in reported]
        if stopped is None or not unreached:
            break  # the rest sit under a package whose failure is reported
        failures[unreached[0]] = f"the interpreter {stopped} while importing it"
        pending, mode = unreached[1:], "import"
    return failures


def retry_alone(
    python: Path, module: str, error: str, site: Path, suffixes: list[str], timeout: float
) -> Failure | None:
    """None when *module* imports in a fresh interpreter; else its failure, marked as a conflict
    when the extension loads on its own from its file."""
    if not error.startswith(CRASHED):  # a crash in a forked copy already had nothing else loaded
        results, stopped = run_importer(python, ["import", json.dumps([module])], timeout)
        if results and "error" not in results[0]:
            return None
        error = results[0]["error"] if results else f"the interpreter {stopped} while importing it"
    path = extension_path(site, module, suffixes)
    if path is not None:
        alone, _ = run_importer(python, ["alone", module, str(path)], timeout)
        if alone:
            return Failure(module, error, "conflict", "it loads on its own; its package never imports it")
    return Failure(module, error)


def extension_path(site: Path, module: str, suffixes: list[str]) -> Path | None:
    base = site.joinpath(*module.split("."))
    return next((base.with_name(base.name + s) for s in suffixes if base.with_name(base.name + s).is_file()), None)


def import_everything(
    python: Path, wheels: list[Path], timeout: float, jobs: int
) -> tuple[dict[str, Any], dict[str, list[Failure]]]:
    """(the venv's facts, {wheel: failures}) with every module of every wheel tried: the top-level
    packages *jobs* at a time (each in interpreters of its own), the biggest first, so that no core
    waits on the longest one at the end."""
    facts = json.loads(run_command([python, "-c", FACTS], "reading the check venv", timeout).stdout)
    site, suffixes = Path(facts["site"]), list(facts["suffixes"])
    by_wheel = {wheel.name: wheel_modules(wheel, site, suffixes) for wheel in wheels}
    groups: dict[str, list[str]] = {}
    for modules in by_wheel.values():
        for module in modules:
            groups.setdefault(module.split(".")[0], []).append(module)
    ordered = sorted(groups.values(), key=len, reverse=True)
    with ThreadPoolExecutor(max_workers=jobs) as pool:
        found: dict[str, str] = {}
        for result in pool.map(lambda group: import_group(python, sorted(set(group)), timeout), ordered):
            found.update(result)
        retried = dict(zip(found, pool.map(lambda m: retry_alone(python, m, found[m], site, suffixes, timeout), found),
                           strict=True))  # fmt: skip
    failures = {wheel: [f for m in modules if (f := retried.get(m)) is not None] for wheel, modules in by_wheel.items()}
    facts["modules"] = sum(len(m) for m in by_wheel.values())
    return facts, {wheel: found for wheel, found in failures.items() if found}
