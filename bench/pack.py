"""Packing speed and size (issue: pack at disk speed), as ratios in one run.

Lays out the biggest tree this machine can build: python-3.12.10's real linux-x64 wheelhouse
(1.7 GB, its committed lock; registries the machine cannot reach left out) beside a lean copy
of this machine's CPython, then packs that same tree four ways: `tar -cf` (no compression: the
disk's limit), `tar -czf`, the pack before this change (the whole tar stream deflated at
level 6 on every core), and runenv's pack now (already-compressed files stored, the rest
deflated as before, every file hashed against its record in the same read). Targets: at most
2x `tar -cf` with the verification included, at least 5x faster than before, the archive
within 1 % of before's size.
Run: ./dev bench pack
"""

from __future__ import annotations

import json
import os
import shutil
import statistics
import subprocess
import sys
import tarfile
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.verify import wheelhouse
from tasks.plumbing.archive import normalised_info, pack, walk_sorted
from tasks.plumbing.tree import file_digests, record_tree

LEAN = shutil.ignore_patterns("__pycache__", "test", "idlelib", "tkinter", "turtledemo", "site-packages", "*.a")


def seconds(function: Callable[[], object], runs: int = 2) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        function()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def pack_before(tree: Path, output: Path) -> None:
    """The method this change replaced: one gzip stream at level 6 over the whole tar."""
    from zlib_ng import gzip_ng_threaded

    with (
        gzip_ng_threaded.open(output, "wb", compresslevel=6, threads=os.cpu_count() or 2) as gz,
        tarfile.open(fileobj=gz, mode="w|", format=tarfile.GNU_FORMAT) as tar,
    ):
        for path in walk_sorted(tree):
            info = normalised_info(path, path.relative_to(tree).as_posix(), 0)
            if info.isreg():
                with path.open("rb") as stream:
                    tar.addfile(info, stream)
            else:
                tar.addfile(info)


def main() -> None:
    with tempfile.TemporaryDirectory(prefix="runenv-bench-pack-") as temp:
        work = Path(temp)
        packages, _ = wheelhouse(work)
        tree = work / "env"
        shutil.copytree(sys.base_prefix, tree, symlinks=True, ignore=LEAN)
        shutil.copytree(packages, tree / "packages", copy_function=os.link)
        digests = file_digests(record_tree(tree, {}))
        size = sum(p.stat().st_size for p in tree.rglob("*") if p.is_file() and not p.is_symlink())
        print(f"tree: {len(digests)} files, {size / 2**20:.0f} MB (python-3.12.10's wheelhouse on {sys.base_prefix})")
        out = work / "out"
        tar_cf = seconds(lambda: subprocess.run(["tar", "-cf", str(out), "-C", str(tree), "."], check=True))
        tar_czf = seconds(lambda: subprocess.run(["tar", "-czf", str(out), "-C", str(tree), "."], check=True), 1)
        before = seconds(lambda: pack_before(tree, out), 1)
        before_size = out.stat().st_size
        now = seconds(lambda: pack(tree, out, 0, os.cpu_count() or 2, digests))
        now_size = out.stat().st_size
    print(f"tar -cf:  {tar_cf:.1f} s   tar -czf: {tar_czf:.1f} s")
    print(f"before:   {before:.1f} s, {before_size / 2**20:.1f} MB")
    print(f"now:      {now:.1f} s, {now_size / 2**20:.1f} MB (every file hashed against its record)")
    print(f"now / tar -cf: {now / tar_cf:.2f}x (target <= 2x); before / now: {before / now:.1f}x (target >= 5x)")
    print(f"now / tar -czf: {now / tar_czf:.2f}x; size now / before: {now_size / before_size:.4f} (target <= 1.01)")
    figures = {"tar_cf_s": tar_cf, "tar_czf_s": tar_czf, "before_s": before, "now_s": now,
               "before_bytes": before_size, "now_bytes": now_size}  # fmt: skip
    print(json.dumps({key: round(value, 2) for key, value in figures.items()}))


if __name__ == "__main__":
    main()
