"""The wheelhouse is verified, not trusted: what ships is exactly what runenv.json lists.

Wheelhouse files are hard links into the shared cache, so a cache file corrupted in place
corrupts every wheelhouse that links it. Before packing, every file in ``packages/`` is
hashed against the sha256 the cell's ``runenv.json`` records (the lock's, or that of a wheel
built from a locked sdist); a mismatching or missing file is fetched again (or made again
from its VCS commit) and an unexpected one removed, and a file that cannot be restored is
refused by name. A stat record written after each full verification lets the pack task's
up-to-date check notice any change to the wheelhouse without hashing it.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from tasks.errors import BuildError
from tasks.fetch.source_archives import source_archive
from tasks.model.layout import Layout, Variant
from tasks.model.records import EnvManifest, SelectReport
from tasks.plumbing import files
from tasks.plumbing.cache import Cache, sha256_of
from tasks.plumbing.downloader import Download, fetch_all
from tasks.plumbing.files import link_or_copy

REQUIREMENTS = "requirements.txt"


def expected_files(manifest: EnvManifest) -> dict[str, str]:
    """{file name: sha256} of the wheelhouse a runenv.json describes."""
    return {package.file: package.sha256 for package in manifest.packages}


def read_manifest(layout: Layout, variant: Variant, platform: str) -> EnvManifest:
    return EnvManifest.from_json(files.read_json(layout.env_manifest(variant, platform)))


def stat_of(path: Path) -> list[int]:
    status = path.stat()
    return [status.st_size, status.st_mtime_ns, status.st_ctime_ns, status.st_ino]


def stat_record(packages: Path) -> dict[str, list[int]]:
    return {path.name: stat_of(path) for path in sorted(packages.iterdir()) if path.name != REQUIREMENTS}


def unchanged_since_verified(packages: Path, record_path: Path) -> bool:
    """The cheap check: the same files with the same size, mtime, ctime and inode as when last verified."""
    record = files.read_json_if_exists(record_path)
    try:
        return record is not None and stat_record(packages) == record
    except OSError:
        return False


def problems(packages: Path, expected: Mapping[str, str], hashed: bool = True) -> dict[str, str]:
    """{file: what is wrong}: an unexpected or missing file; and, *hashed*, a file whose bytes
    differ (every file hashed in parallel: hashlib releases the GIL)."""
    present = {p.name for p in packages.iterdir() if p.name != REQUIREMENTS} if packages.is_dir() else set()
    found = {name: "not listed in runenv.json" for name in sorted(present - set(expected))}
    found |= {name: "missing" for name in sorted(set(expected) - present)}
    names = sorted(present & set(expected)) if hashed else []
    with ThreadPoolExecutor(max_workers=os.cpu_count() or 2) as pool:
        digests = dict(zip(names, pool.map(lambda name: sha256_of(packages / name), names), strict=True))
    found |= {
        name: f"sha256 {digest}, runenv.json lists {expected[name]}"
        for name, digest in digests.items()
        if digest != expected[name]
    }
    return found


def restore(layout: Layout, variant: Variant, platform: str, broken: Mapping[str, str], timeout: float) -> None:
    """Fetch again (or make again from the VCS commit) each broken file; remove unexpected ones."""
    packages = layout.wheelhouse(variant, platform)
    report = {
        s.file: s for s in SelectReport.from_json(files.read_json(layout.cell_report(variant, platform))).selected
    }
    expected = expected_files(read_manifest(layout, variant, platform))
    cache, downloads = Cache(), []
    for name in broken:
        if name not in expected:
            (packages / name).unlink(missing_ok=True)
        elif name in report and report[name].kind == "vcs":
            s = report[name]
            link_or_copy(source_archive(s.name, s.version, name, s.url, cache, timeout)[0], packages / name)
        elif name in report:
            s = report[name]
            downloads.append(Download(s.name, s.url, expected[name], s.size, name))
        elif (cached := cache.verified(expected[name])[0]) is not None:
            link_or_copy(cached, packages / name)
        else:
            raise BuildError(
                f"{packages / name}: {broken[name]}, and no verified copy is cached; rebuild it with "
                f"`doit forget assemble:{variant.cell(platform)}` then `doit build:{variant.cell(platform)}`"
            )
    if downloads:
        paths, _ = fetch_all(downloads, cache, 2, timeout, f"{variant.cell(platform)} re-fetch")
        for item in downloads:
            link_or_copy(paths[item.sha256], packages / item.filename)


def verify_wheelhouse(layout: Layout, variant: Variant, platform: str, timeout: float, hashed: bool = True) -> None:
    """Make packages/ exactly what runenv.json lists, or refuse naming the file; then record its
    stat. Without *hashed*, only which files are there (pack hashes them as it reads them)."""
    packages = layout.wheelhouse(variant, platform)
    expected = expected_files(read_manifest(layout, variant, platform))
    broken = problems(packages, expected, hashed)
    if broken:
        for name, problem in broken.items():
            print(f"{variant.cell(platform)}: wheelhouse file {name}: {problem}; restoring it")
        restore(layout, variant, platform, broken, timeout)
        still = problems(packages, expected)
        if still:
            lines = "\n".join(f"  - {packages / name}: {problem}" for name, problem in still.items())
            raise BuildError(f"{variant.cell(platform)}: the wheelhouse does not match runenv.json:\n{lines}")
    if hashed:
        record_verified(layout, variant, platform)


def record_verified(layout: Layout, variant: Variant, platform: str) -> None:
    """Every wheelhouse file was just hashed against runenv.json: remember their stat."""
    files.write_json_atomic(
        layout.wheelhouse_record(variant, platform), stat_record(layout.wheelhouse(variant, platform))
    )
