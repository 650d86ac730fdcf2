"""How long `doit list --all` takes in a clean copy of the repository (target: under 1 s),
against a baseline revision in the same run (default: the revision before the code was laid
out one package per stage; target: within 10 % of it).

Reports medians of several runs, and a bare interpreter start (`python -c pass`), so the
figures can be read on any machine.
Run: ./dev bench doit_list [REVISION]
"""

from __future__ import annotations

import io
import shutil
import statistics
import subprocess
import sys
import tarfile
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
RUNS = 9
BEFORE_STAGE_PACKAGES = "3873830"  # "Issue 16: tests and docs …", the last layer-by-layer revision


def median_seconds(command: list[str], cwd: Path) -> float:
    times = []
    for _ in range(RUNS):
        start = time.perf_counter()
        subprocess.run(command, cwd=cwd, check=True, capture_output=True)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def checkout(revision: str, target: Path) -> Path:
    """The tree of *revision* (git archive), without outputs."""
    archive = subprocess.run(["git", "archive", revision], cwd=REPO, check=True, capture_output=True).stdout
    with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
        tar.extractall(target, filter="data")
    return target


def main() -> None:
    revision = sys.argv[1] if len(sys.argv) > 1 else BEFORE_STAGE_PACKAGES
    listing = [sys.executable, "-m", "doit", "list", "--all"]  # -m: each tree runs its own code
    with tempfile.TemporaryDirectory() as temp:
        now = Path(temp) / "now"
        ignored = shutil.ignore_patterns(".git", ".venv", ".doit.db*", "build", "pydist", "dist", "archives")
        shutil.copytree(REPO, now, ignore=ignored)
        before = checkout(revision, Path(temp) / "before")
        bare = median_seconds([sys.executable, "-c", "pass"], now)
        ours, theirs = median_seconds(listing, now), median_seconds(listing, before)
    verdict = "OK" if ours < 1.0 else "TOO SLOW"
    within = "OK" if ours <= theirs * 1.10 else "SLOWER"
    print(f"doit list --all: {ours:.3f} s median of {RUNS} (target < 1 s: {verdict})")
    print(f"at {revision}:     {theirs:.3f} s; ratio {ours / theirs:.2f}x (target within 10 %: {within})")
    print(f"python -c pass:  {bare:.3f} s; ratio {ours / bare:.1f}x")


if __name__ == "__main__":
    main()
