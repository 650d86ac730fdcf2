"""Wheelhouse speed, as ratios measured in one run (issue: locks and wheelhouses).

1. Baseline, the old builder's method: a sequential ``pip download --only-binary :all:``
   per top-level dependency, with a CPython 3.12, for linux-x64, cold (no pip cache).
2. Ours, cold (empty download cache and uv cache): lock + select + fetch for linux-x64.
   Target: at most 0.4x the baseline.
3. Ours, cold, all five platforms at once (doit -n <cores>). Target: at most 2x our one-platform time.
4. A no-op re-run of lock, select and fetch over 15 cells (three variants). Target: at most 1 s.

The dependency set is python-3.12.10's without the CUDA, torch and TensorFlow packages.
Run: ./dev bench wheelhouse   (downloads about 1.5 GB; set RUNENV_BENCH_PYTHON to a CPython 3.12
if python3.12 is not on PATH or under ~/.pyenv).
"""

from __future__ import annotations

import glob
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
HEAVY = ("cudf-cu12", "tensorflow", "torch")


def python312() -> str:
    candidates = [
        os.environ.get("RUNENV_BENCH_PYTHON"),
        *sorted(glob.glob(str(Path.home() / ".pyenv/versions/3.12*/bin/python3.12"))),
        shutil.which("python3.12"),
    ]
    found = next((c for c in candidates if c), None)
    if not found:
        sys.exit("bench: needs a CPython 3.12 (set RUNENV_BENCH_PYTHON)")
    return found


def bench_dependencies() -> list[str]:
    config = json.loads((REPO / "python-3.12.10/config.json").read_text())
    return [d for d in config["packages"]["dependencies"] if not d.startswith(HEAVY)]


def timed(command: list[str], **kwargs: object) -> float:
    start = time.perf_counter()
    subprocess.run(command, check=True, capture_output=True, **kwargs)  # type: ignore[call-overload]
    return time.perf_counter() - start


def baseline(dependencies: list[str], work: Path) -> float:
    python = python312()
    total = 0.0
    for requirement in dependencies:
        target = work / "pip-download" / requirement.split("==")[0]
        total += timed(
            [
                python,
                "-m",
                "pip",
                "download",
                "--only-binary",
                ":all:",
                "--no-cache-dir",
                "-q",
                "-d",
                str(target),
                requirement,
            ]
        )
    return total


def bench_repo(work: Path, dependencies: list[str], variants: list[str]) -> Path:
    repo = work / "repo"
    shutil.copytree(
        REPO,
        repo,
        ignore=shutil.ignore_patterns(".git", ".venv", ".doit.db*", "build", "pydist", "dist", "archives", "python-*"),
    )
    for name in variants:
        (repo / f"python-{name}").mkdir()
        config = {"packages": {"dependencies": dependencies}, "build": {"enableLogging": False}}
        (repo / f"python-{name}/config.json").write_text(json.dumps(config))
    return repo


def doit_env(work: Path, label: str) -> dict[str, str]:
    shared = json.loads((REPO / "configs/shared-config.json").read_text())
    left_out = {url: None for url in shared["registries"]["additional"]}
    return {
        **os.environ,
        "RUNENV_CACHE_DIR": str(work / f"cache-{label}"),
        "UV_CACHE_DIR": str(work / f"uv-{label}"),
        "RUNENV_INDEX_MIRRORS": json.dumps(left_out),
    }


def doit(repo: Path, env: dict[str, str], *args: str) -> float:
    return timed([sys.executable, "-m", "doit", *args], cwd=repo, env=env)


def main() -> None:
    dependencies = bench_dependencies()
    print(f"dependency set ({len(dependencies)}): {' '.join(dependencies)}")
    with tempfile.TemporaryDirectory(prefix="runenv-bench-") as temp:
        work = Path(temp)
        base = baseline(dependencies, work)
        print(f"baseline: sequential pip download per dependency, linux-x64: {base:.1f} s")
        one_repo = bench_repo(work / "one", dependencies, ["3.12.10-bench"])
        one = doit(one_repo, doit_env(work, "one"), "fetch:3.12.10-bench-linux-x64")
        print(f"ours, cold, linux-x64: {one:.1f} s = {one / base:.2f}x baseline (target <= 0.4x)")
        five_repo = bench_repo(work / "five", dependencies, ["3.12.10-bench", "3.12.10-bench2", "3.12.10-bench3"])
        env = doit_env(work, "five")
        cells = [
            f"fetch:3.12.10-bench-{p}"
            for p in ("linux-x64", "linux-aarch64", "macosx-x64", "macosx-aarch64", "windows-x64")
        ]
        jobs = str(os.cpu_count() or 2)
        five = doit(five_repo, env, "-n", jobs, *cells)
        print(f"ours, cold, all five platforms: {five:.1f} s = {five / one:.2f}x one platform (target <= 2x)")
        doit(five_repo, env, "-n", jobs, "lock", "select", "fetch")
        noop = doit(five_repo, env, "lock", "select", "fetch")
        print(f"no-op re-run of lock, select and fetch over 15 cells: {noop:.2f} s (target <= 1 s)")


if __name__ == "__main__":
    main()
