"""How long `doit list` takes in a clean copy of the repository (target: under 1 s).

Reports the median of several runs and, as a baseline in the same run, the median of a
bare interpreter start (`python -c pass`), so the figure can be read on any machine.
Run: ./dev bench doit_list
"""

from __future__ import annotations

import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
RUNS = 7


def median_seconds(command: list[str], cwd: Path) -> float:
    times = []
    for _ in range(RUNS):
        start = time.perf_counter()
        subprocess.run(command, cwd=cwd, check=True, capture_output=True)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> None:
    with tempfile.TemporaryDirectory() as temp:
        repo = Path(temp) / "repo"
        shutil.copytree(
            REPO,
            repo,
            ignore=shutil.ignore_patterns(".git", ".venv", ".doit.db*", "build", "pydist", "dist", "archives"),
        )
        baseline = median_seconds([sys.executable, "-c", "pass"], repo)
        listing = median_seconds([sys.executable, "-m", "doit", "list", "--all"], repo)
    verdict = "OK" if listing < 1.0 else "TOO SLOW"
    print(f"doit list --all: {listing:.3f} s median of {RUNS} (target < 1 s: {verdict})")
    print(f"python -c pass:  {baseline:.3f} s median of {RUNS}; ratio {listing / baseline:.1f}x")


if __name__ == "__main__":
    main()
