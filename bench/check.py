"""The check's wall time against a plain `pip install` of the same wheels (issue: verification).

Assembles python-3.12.10's linux-x64 dependency set on a local CPython 3.12 (pyenv's 3.12.1;
registries the build machine cannot reach left out), then times in one run: a plain
`pip install --no-index --find-links packages -r requirements.txt` into a fresh venv of that
interpreter, and a cold `doit check` of the same cell (its own offline install, every module
imported, static linkage, minimum-OS and completeness checks; empty download cache for the
static facts). Target: at most 1.5x the pip install.
Run: ./dev bench check
"""

from __future__ import annotations

import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.wheelhouse import doit_env
from tests.conftest import REPO

PYTHON = Path(os.environ.get("RUNENV_BENCH_PYTHON", Path.home() / ".pyenv/versions/3.12.1"))
HOST = "linux-x64"


def timed(command: list[str], **kwargs: object) -> float:
    start = time.perf_counter()
    subprocess.run(command, check=True, capture_output=True, **kwargs)  # type: ignore[call-overload]
    return time.perf_counter() - start


def main() -> None:
    if not (PYTHON / "bin/python3").exists():
        sys.exit(f"bench check: no CPython 3.12 at {PYTHON} (set RUNENV_BENCH_PYTHON)")
    version = subprocess.run([str(PYTHON / "bin/python3"), "-c", "import platform; print(platform.python_version())"],
                             capture_output=True, text=True, check=True).stdout.strip()  # fmt: skip
    dependencies = json.loads((REPO / "python-3.12.10/config.json").read_text())["packages"]["dependencies"]
    with tempfile.TemporaryDirectory(prefix="runenv-bench-check-") as temp:
        work = Path(temp)
        repo = work / "repo"
        shutil.copytree(REPO, repo, ignore=shutil.ignore_patterns(".git", ".venv", ".doit.db*", "build", "pydist",
                                                                  "dist", "archives", "python-*"))  # fmt: skip
        variant = f"{version}-checkbench"
        (repo / f"python-{variant}").mkdir()
        config = {"packages": {"dependencies": dependencies}, "build": {"enableLogging": False}}
        (repo / f"python-{variant}/config.json").write_text(json.dumps(config))
        (work / "pythons.json").write_text(json.dumps({"versions": {version: {HOST: {"path": str(PYTHON)}}}}))
        env = {**doit_env(work, "check"), "RUNENV_PYTHONS": str(work / "pythons.json")}
        doit = [sys.executable, "-m", "doit"]
        subprocess.run([*doit, f"assemble:{variant}-{HOST}"], cwd=repo, env=env, check=True, capture_output=True)
        root = repo / f"python-{variant}/pydist/{HOST}"
        packages = root / "packages"
        print(f"wheelhouse: {len(list(packages.glob('*.whl')))} wheels on CPython {version}")
        subprocess.run([str(root / "bin/python3"), "-m", "venv", str(work / "plain")], check=True)
        pip = [str(work / "plain/bin/python"), "-m", "pip", "install", "-q", "--no-index", "--find-links",
               str(packages), "-r", str(packages / "requirements.txt")]  # fmt: skip
        baseline = timed(pip)
        before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
        ours = timed([*doit, f"check:{variant}-{HOST}"], cwd=repo, env=env)
        peak_mb = max(before, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss) / 1024
        report = json.loads((repo / f"python-{variant}/build/{HOST}/check.json").read_text())
    print(f"plain pip install: {baseline:.1f} s")
    what = f"install, {report['imports']['modules']} modules imported, {report['static']['binaries']} binaries linked"
    print(f"runenv check ({what}): {ours:.1f} s = {ours / baseline:.2f}x (target <= 1.5x)")
    print(f"peak resident memory of one process of the check (or of the pip install): {peak_mb:.0f} MB")
    figures = {"pip_install_s": round(baseline, 1), "check_s": round(ours, 1), "peak_mb": round(peak_mb)}
    print(json.dumps({**figures, "status": report["status"]}))


if __name__ == "__main__":
    main()
