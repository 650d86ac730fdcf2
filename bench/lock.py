"""Lock time: the three committed variants and a 40-dependency set, against a baseline
revision in the same run (issue: locks; goal: no slower than the baseline).

Two trees are locked from scratch (their committed locks removed, so every variant resolves):
this checkout and the baseline revision (``git archive``; default: the commit before the
wheel-aware lock). Both run `doit lock` with the same environment and share uv's cache; one
warm-up round, then the best of ROUNDS alternating rounds.
Run: ./dev bench lock [--baseline REV]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.conftest import IGNORED, REPO, add_variant, isolated_env

BASELINE = "6541dd6"  # main before the wheel-aware lock (issue 11's "today")
ROUNDS = 2
FORTY = [
    "requests", "flask", "django", "numpy", "pandas", "scipy", "matplotlib", "pyyaml", "six", "click",
    "jinja2", "attrs", "pydantic", "sqlalchemy", "boto3", "rich", "typer", "httpx", "lxml", "pillow",
    "cryptography", "pytest", "tqdm", "packaging", "python-dateutil", "pytz", "networkx", "sympy",
    "scikit-learn", "seaborn", "openpyxl", "psutil", "pyarrow", "polars", "h5py", "numba", "biopython",
    "statsmodels", "beautifulsoup4", "tabulate",
]  # fmt: skip
COMMITTED = ("3.10.11", "3.12.10", "3.12.10-atls")


def baseline_tree(revision: str, target: Path) -> Path:
    target.mkdir(parents=True)
    archive = subprocess.run(["git", "archive", revision], cwd=REPO, capture_output=True, check=True).stdout
    subprocess.run(["tar", "-x", "-C", str(target)], input=archive, check=True)
    return target


def prepared(tree: Path) -> Path:
    for lock in tree.glob("python-*/pylock.toml"):
        lock.unlink()
    add_variant(tree, "3.12.10-forty", {"dependencies": FORTY})
    return tree


def lock_seconds(tree: Path, variants: list[str], env: dict[str, str]) -> float:
    for lock in tree.glob("python-*/pylock.toml"):
        lock.unlink()
    start = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-m", "doit", *(f"lock:{v}" for v in variants)],
        cwd=tree,
        env=env,
        capture_output=True,
        text=True,
    )
    elapsed = time.perf_counter() - start
    if done.returncode != 0:
        raise SystemExit(f"doit lock failed in {tree}:\n{done.stdout}\n{done.stderr}")
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--baseline", default=BASELINE)
    revision = parser.parse_args().baseline
    with tempfile.TemporaryDirectory(prefix="runenv-bench-lock-") as temp:
        trees = {
            "baseline": prepared(baseline_tree(revision, Path(temp) / "baseline")),
            "current": prepared(Path(shutil.copytree(REPO, Path(temp) / "current", ignore=IGNORED))),
        }
        env = {**isolated_env(trees["current"], Path(temp) / "cache"), "PYTHONDONTWRITEBYTECODE": "1"}
        env.pop("RUNENV_CACHE_DIR")
        sets = {"three variants": list(COMMITTED), "40 dependencies": ["3.12.10-forty"]}
        best: dict[tuple[str, str], float] = {}
        for round_number in range(ROUNDS + 1):
            for name, tree in trees.items():
                for label, variants in sets.items():
                    seconds = lock_seconds(tree, variants, env)
                    if round_number:  # round 0 warms uv's cache for both trees
                        best[(name, label)] = min(best.get((name, label), seconds), seconds)
    figures = {}
    for label in sets:
        base, now = best[("baseline", label)], best[("current", label)]
        figures[label] = {"baseline_s": round(base, 2), "current_s": round(now, 2), "ratio": round(now / base, 2)}
        verdict = "OK" if now <= base * 1.05 else "SLOWER"
        print(f"{label}: {now:.1f} s now, {base:.1f} s at {revision} ({now / base:.2f}x; goal <= 1x: {verdict})")
    print(json.dumps({"baseline": revision, "cpus": os.cpu_count(), **figures}))


if __name__ == "__main__":
    main()
