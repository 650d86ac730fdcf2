"""The cost of verifying the wheelhouse before packing, as a ratio to a cold pack (issue: integrity).

Fetches python-3.12.10's real linux-x64 wheelhouse (its committed lock; registries the build
machine cannot reach left out), lays out an environment of this machine's CPython plus that
wheelhouse, then times in one run: the full verification pack does (every wheelhouse file
hashed against runenv.json's sha256), the stat-only up-to-date check, and a cold pack of the
same tree; and the whole-tree verification pack does since the tree record (every file of the
environment against assemble's record, the wheelhouse by its own verification above). Targets:
wheelhouse verification at most 0.10x the pack; the whole tree at most 2x the wheelhouse's.
Run: ./dev bench verify
"""

from __future__ import annotations

import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.wheelhouse import doit_env
from tasks.pack.wheelhouse import problems, stat_record, unchanged_since_verified
from tasks.plumbing.archive import pack
from tasks.plumbing.tree import record_tree, tree_problems
from tests.conftest import REPO

VARIANT, HOST = "3.12.10", "linux-x64"


def wheelhouse(work: Path) -> tuple[Path, dict[str, str]]:
    repo = work / "repo"
    shutil.copytree(REPO, repo, ignore=shutil.ignore_patterns(".git", ".venv", ".doit.db*", "build", "pydist", "dist"))
    env = {**doit_env(work, "verify"), "RUNENV_CACHE_DIR": os.environ.get("RUNENV_CACHE_DIR", str(work / "cache"))}
    subprocess.run([sys.executable, "-m", "doit", f"fetch:{VARIANT}-{HOST}"], cwd=repo, env=env, check=True)
    fetched = json.loads((repo / f"python-{VARIANT}/build/{HOST}/fetch.json").read_text())
    return repo / f"python-{VARIANT}/pydist/{HOST}/packages", {f["file"]: f["sha256"] for f in fetched["files"]}


def median_seconds(function: object, runs: int = 3) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        function()  # type: ignore[operator]
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> None:
    with tempfile.TemporaryDirectory(prefix="runenv-bench-verify-") as temp:
        work = Path(temp)
        packages, expected = wheelhouse(work)
        tree = work / "env"
        # as lean as runenv's base: no test suite, IDLE, Tk, static libpython, nor third-party packages
        lean = shutil.ignore_patterns("__pycache__", "test", "idlelib", "tkinter", "turtledemo", "site-packages", "*.a")
        shutil.copytree(sys.base_prefix, tree, symlinks=True, ignore=lean)
        shutil.copytree(packages, tree / "packages", copy_function=os.link)
        size = sum(p.stat().st_size for p in (tree / "packages").iterdir())
        print(f"wheelhouse: {len(expected)} files, {size / 2**20:.0f} MB; environment with {sys.base_prefix}")
        full = median_seconds(lambda: problems(tree / "packages", expected))
        record = work / "record.json"
        record.write_text(json.dumps(stat_record(tree / "packages")))
        quick = median_seconds(lambda: unchanged_since_verified(tree / "packages", record))
        known = {f"packages/{name}": digest for name, digest in expected.items()}
        recorded = record_tree(tree, known)
        rest = median_seconds(lambda: tree_problems(tree, recorded))
        whole = full + rest
        start = time.perf_counter()
        pack(tree, work / "env.tgz", 0, os.cpu_count() or 2)
        packed = time.perf_counter() - start
    print(f"cold pack: {packed:.1f} s")
    print(f"full verification (hash every file): {full:.2f} s = {full / packed:.3f}x the pack (target <= 0.10x)")
    print(f"stat-only up-to-date check: {quick * 1000:.1f} ms")
    print(f"whole tree (wheelhouse + every other file of {len(recorded)} entries): {whole:.2f} s = "
          f"{whole / full:.2f}x the wheelhouse verification (target <= 2x)")  # fmt: skip
    figures = {"pack_s": round(packed, 2), "verify_s": round(full, 3), "tree_s": round(whole, 3)}
    print(json.dumps({**figures, "stat_check_ms": round(quick * 1000, 2)}))


if __name__ == "__main__":
    main()
