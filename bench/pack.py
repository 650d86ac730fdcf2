"""Packing speed, as a ratio in one run (issue: environments).

Assembles a real environment (this machine's CPython, served as a python-build-standalone
archive, plus the wheelhouse of python-3.12.10's dependency set without CUDA, torch and
TensorFlow), then packs that same tree with runenv's packer (zlib-ng, threaded, deterministic)
and with `tar -czf`. Target: at most 0.4x the `tar -czf` time.
Run: ./dev bench pack
"""

from __future__ import annotations

import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.wheelhouse import bench_dependencies, bench_repo, doit_env
from tasks.model.platforms import host_platform_key
from tasks.plumbing.archive import pack
from tests.conftest import MachinePython


def tree_size(root: Path) -> int:
    return sum(p.stat().st_size for p in root.rglob("*") if p.is_file() and not p.is_symlink())


def main() -> None:
    host = host_platform_key(platform.system(), platform.machine()) or "linux-x64"
    with tempfile.TemporaryDirectory(prefix="runenv-bench-pack-") as temp:
        work = Path(temp)
        machine = MachinePython(work / "python")
        variant = f"{machine.version}-packbench"
        repo = bench_repo(work / "env", bench_dependencies(), [variant])
        env = {**doit_env(work, "pack"), "RUNENV_PYTHONS": str(machine.pythons_file(work / "pythons.json", host))}
        subprocess.run(
            [sys.executable, "-m", "doit", f"assemble:{variant}-{host}"],
            cwd=repo,
            env=env,
            check=True,
            capture_output=True,
        )
        machine.server.stop()
        tree = repo / f"python-{variant}/pydist/{host}"
        print(f"environment: {tree_size(tree) / 2**20:.0f} MB in {sum(1 for _ in tree.rglob('*'))} entries")
        start = time.perf_counter()
        subprocess.run(["tar", "-czf", str(work / "baseline.tgz"), "-C", str(tree), "."], check=True)
        baseline = time.perf_counter() - start
        start = time.perf_counter()
        pack(tree, work / "ours.tgz", 0, os.cpu_count() or 2)
        ours = time.perf_counter() - start
        sizes = {name: (work / name).stat().st_size / 2**20 for name in ("baseline.tgz", "ours.tgz")}
    print(f"tar -czf: {baseline:.1f} s ({sizes['baseline.tgz']:.0f} MB)")
    print(f"runenv pack: {ours:.1f} s ({sizes['ours.tgz']:.0f} MB) = {ours / baseline:.2f}x tar -czf (target <= 0.4x)")
    print(json.dumps({"tar_czf_s": round(baseline, 2), "runenv_pack_s": round(ours, 2)}))


if __name__ == "__main__":
    main()
