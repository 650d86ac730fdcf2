"""The README's example end to end, cold: archive size and time, before and after the lean
base, against the old builder's method in the same run (issue: distribution; goal <= 0.5x).

Three measurements, each with empty caches (runenv's, uv's, pip's):
- before: the README example built by the baseline revision (``git archive``);
- after: the same example built by this checkout;
- method: what the old builder does for it: ``pip download`` of each dependency in turn for
  the platform, a copy of the same interpreter tree, and ``tar -czf`` of interpreter plus
  wheelhouse.
Run: ./dev bench e2e [--baseline REV] [--python DIR]
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

from bench.lock import baseline_tree
from tests.conftest import IGNORED, REPO, isolated_env

BASELINE = "6541dd6"  # main before the lean base
DEPENDENCIES = ["pyyaml==6.0.2", "markupsafe==3.0.2"]
VARIANT, PLATFORM = "3.12.1-local", "linux-x64"
# pip takes an explicit --platform literally: list the manylinux tags a 2.28 floor accepts
PLATFORM_ARGS = [arg for tag in ("manylinux_2_28", "manylinux_2_17", "manylinux2014")
                 for arg in ("--platform", f"{tag}_x86_64")]  # fmt: skip


def readme_variant(tree: Path) -> None:
    directory = tree / f"python-{VARIANT}"
    directory.mkdir()
    (directory / "config.json").write_text(json.dumps({"packages": {"dependencies": DEPENDENCIES}}))
    package = (tree / "python-3.12.10/package.json").read_text().replace("3.12.10", VARIANT)
    (directory / "package.json").write_text(
        package.replace(f'"python-version": "{VARIANT}"', '"python-version": "3.12.1"')
    )


def build(tree: Path, python: Path, work: Path) -> tuple[float, int]:
    work.mkdir(parents=True, exist_ok=True)
    pythons = work / "pythons.json"
    pythons.write_text(json.dumps({"versions": {"3.12.1": {PLATFORM: {"path": str(python)}}}}))
    env = {
        **isolated_env(tree, work / "runenv-cache"),
        "RUNENV_PYTHONS": str(pythons),
        "UV_CACHE_DIR": str(work / "uv-cache"),
    }
    start = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-m", "doit", f"build:{VARIANT}-{PLATFORM}"], cwd=tree, env=env, capture_output=True, text=True
    )
    elapsed = time.perf_counter() - start
    if done.returncode != 0:
        raise SystemExit(f"build failed in {tree}:\n{done.stdout}\n{done.stderr}")
    archive = next((tree / f"python-{VARIANT}").glob("*/1.0.0-linux-x64.tgz"))
    return elapsed, archive.stat().st_size


def old_method(python: Path, work: Path) -> tuple[float, int]:
    start = time.perf_counter()
    for requirement in DEPENDENCIES:
        subprocess.run(
            [sys.executable, "-m", "pip", "--isolated", "download", "-q", "--no-cache-dir", "--only-binary", ":all:",
             *PLATFORM_ARGS, "--python-version", "3.12", "-d", str(work / "tree/packages"),
             requirement],
            check=True,
        )  # fmt: skip
    shutil.copytree(python, work / "tree", symlinks=True, dirs_exist_ok=True)
    subprocess.run(["tar", "-czf", str(work / "env.tgz"), "-C", str(work / "tree"), "."], check=True)
    return time.perf_counter() - start, (work / "env.tgz").stat().st_size


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--baseline", default=BASELINE)
    parser.add_argument("--python", default=str(Path.home() / ".pyenv/versions/3.12.1"))
    arguments = parser.parse_args()
    python = Path(arguments.python)
    with tempfile.TemporaryDirectory(prefix="runenv-bench-e2e-") as temp:
        work = Path(temp)
        before_tree = baseline_tree(arguments.baseline, work / "before")
        after_tree = Path(shutil.copytree(REPO, work / "after", ignore=IGNORED))
        for tree in (before_tree, after_tree):
            readme_variant(tree)
        method = old_method(python, work / "method")
        before = build(before_tree, python, work / "before-work")
        after = build(after_tree, python, work / "after-work")
    mb = 2**20
    print(f"old method (pip download per dependency + tar -czf): {method[0]:.1f} s, {method[1] / mb:.1f} MB")
    print(f"before ({arguments.baseline}): {before[0]:.1f} s, {before[1] / mb:.1f} MB")
    print(f"after: {after[0]:.1f} s, {after[1] / mb:.1f} MB")
    ratio = after[0] / method[0]
    print(f"after / old method: {ratio:.2f}x time (goal <= 0.5x: {'OK' if ratio <= 0.5 else 'NOT MET'}), "
          f"{after[1] / method[1]:.2f}x size; after / before: {after[0] / before[0]:.2f}x time, "
          f"{after[1] / before[1]:.2f}x size")  # fmt: skip
    print(json.dumps({"cpus": os.cpu_count(), "method": method, "before": before, "after": after}))


if __name__ == "__main__":
    main()
