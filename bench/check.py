"""The check's wall time against a plain `pip install` of the same wheels (issue: verification).

Assembles python-3.12.10's linux-x64 dependency set on a local CPython 3.12 (pyenv's 3.12.1;
registries the build machine cannot reach left out), then times in one run: a plain
`pip install --no-index --find-links packages -r requirements.txt` into a fresh venv of that
interpreter, and a cold `doit check` of the same cell (its own offline install, every module
imported, static linkage, minimum-OS and completeness checks; empty cache for the static facts),
once with build.checkJobs 1 (one thing at a time) and once with the default (the core count).
The peak is the largest resident memory of the check's whole process tree, sampled every 0.1 s.
Target: at most 0.6x the pip install.
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


def tree_rss_mb(pid: int) -> float:
    """The resident memory of a process and all its descendants, from /proc."""
    children: dict[int, list[int]] = {}
    rss: dict[int, int] = {}
    for status in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = status.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        child = int(status.parent.name)
        children.setdefault(int(fields[1]), []).append(child)
        rss[child] = int(fields[21]) * resource.getpagesize()
    total, stack = 0, [pid]
    while stack:
        current = stack.pop()
        total += rss.get(current, 0)
        stack += children.get(current, [])
    return total / 2**20


def timed_check(command: list[str], cwd: Path, env: dict[str, str]) -> tuple[float, float]:
    """(seconds, peak resident MB of the whole process tree) of a command."""
    start = time.perf_counter()
    process = subprocess.Popen(command, cwd=cwd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    peak = 0.0
    while process.poll() is None:
        peak = max(peak, tree_rss_mb(process.pid))
        time.sleep(0.1)
    if process.returncode:
        sys.exit(f"bench check: the check failed:\n{process.stderr.read().decode() if process.stderr else ''}")
    return time.perf_counter() - start, peak


def check_with_jobs(repo: Path, variant: str, jobs: int, env: dict[str, str]) -> tuple[float, float]:
    """A cold check of the cell with build.checkJobs = jobs (0: the default)."""
    config_path = repo / f"python-{variant}/config.json"
    config = json.loads(config_path.read_text())
    config["build"].pop("checkJobs", None)
    config["build"].update({"checkJobs": jobs} if jobs else {})
    config_path.write_text(json.dumps(config))
    shutil.rmtree(Path(env["RUNENV_CACHE_DIR"]) / "binaries", ignore_errors=True)
    shutil.rmtree(repo / f"python-{variant}/build/{HOST}/check-venv", ignore_errors=True)
    return timed_check([sys.executable, "-m", "doit", f"check:{variant}-{HOST}"], repo, env)


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
        serial, serial_peak = check_with_jobs(repo, variant, 1, env)
        ours, peak = check_with_jobs(repo, variant, 0, env)
        report = json.loads((repo / f"python-{variant}/build/{HOST}/check.json").read_text())
    print(f"plain pip install: {baseline:.1f} s")
    what = f"install, {report['imports']['modules']} modules imported, {report['static']['binaries']} binaries linked"
    print(f"runenv check, checkJobs 1 ({what}): {serial:.1f} s = {serial / baseline:.2f}x, peak {serial_peak:.0f} MB")
    print(f"runenv check, {os.cpu_count()} at once: {ours:.1f} s = {ours / baseline:.2f}x (target <= 0.6x), "
          f"peak {peak:.0f} MB")  # fmt: skip
    figures = {"pip_install_s": round(baseline, 1), "check_jobs_1_s": round(serial, 1), "check_s": round(ours, 1)}
    print(
        json.dumps(
            {**figures, "peak_mb": round(peak), "peak_jobs_1_mb": round(serial_peak), "status": report["status"]}
        )
    )


if __name__ == "__main__":
    main()
