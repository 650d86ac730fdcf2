"""The fetch stage: a cell's selected files, verified, into the cache and its wheelhouse."""

from __future__ import annotations

import time
from pathlib import Path

from tasks.config.merged import relative, variant_config
from tasks.fetch.source_archives import source_archive
from tasks.model.layout import Layout, Variant
from tasks.model.records import Fetched, FetchRecord, SelectReport
from tasks.model.requirements import VCS_SCHEMES
from tasks.plumbing import files
from tasks.plumbing.cache import Cache
from tasks.plumbing.downloader import Download, fetch_all, worker_count
from tasks.plumbing.files import link_or_copy
from tasks.plumbing.logs import CellLog
from tasks.plumbing.stage import cell_stage
from tasks.select.outputs import pin_source_archives

MB = 1024 * 1024


def downloads_of(report: SelectReport) -> list[Download]:
    return [
        Download(name=s.name, url=s.url, sha256=s.sha256, size=s.size, filename=s.file)
        for s in report.selected
        if s.kind != "vcs"
    ]


def make_source_archives(report: SelectReport, cache: Cache, timeout: float) -> tuple[list[Download], dict[str, Path]]:
    """The source archives of the cell's VCS packages, made from their locked commits."""
    items, paths = [], {}
    for s in report.selected:
        if s.kind == "vcs":
            path, digest = source_archive(s.name, s.version, s.file, s.url, cache, timeout)
            items.append(Download(s.name, s.url, digest, path.stat().st_size, s.file))
            paths[digest] = path
    return items, paths


def lay_out_wheelhouse(
    layout: Layout, variant: Variant, platform: str, items: list[Download], paths: dict[str, Path]
) -> None:
    """pydist/<platform>/packages/: exactly the selected files (hard-linked) and requirements.txt."""
    wheelhouse = layout.wheelhouse(variant, platform)
    wheelhouse.mkdir(parents=True, exist_ok=True)
    wanted = {item.filename for item in items} | {"requirements.txt"}
    for stale in wheelhouse.iterdir():
        if stale.name not in wanted:
            stale.unlink()
    for item in items:
        link_or_copy(paths[item.sha256], wheelhouse / item.filename)
    requirements = layout.cell_requirements(variant, platform).read_text(encoding="utf-8")
    made = {item.name: item.sha256 for item in items if item.url.startswith(VCS_SCHEMES)}
    files.write_text_atomic(wheelhouse / "requirements.txt", pin_source_archives(requirements, made))


@cell_stage("fetch")
def fetch_cell(layout: Layout, variant: Variant, platform: str) -> None:
    """Download what the cell selected (only what the cache lacks) and lay out
    pydist/<platform>/packages/ with exactly those files and requirements.txt."""
    settings = variant_config(layout, variant).settings
    manifest = layout.fetch_manifest(variant, platform)
    manifest.unlink(missing_ok=True)
    report = SelectReport.from_json(files.read_json(layout.cell_report(variant, platform)))
    items = downloads_of(report)
    cache = Cache()
    cache.remove_stale_temps()
    workers = worker_count(settings.parallel_downloads, len(items))
    started = time.monotonic()
    paths, stats = fetch_all(items, cache, workers, settings.timeout, f"{variant.cell(platform)} fetch")
    made, made_paths = make_source_archives(report, cache, settings.timeout)
    items, paths = [*items, *made], {**paths, **made_paths}
    seconds = time.monotonic() - started
    lay_out_wheelhouse(layout, variant, platform, items, paths)
    log = CellLog.of(layout, variant, platform)
    for item in items:
        log.detail(f"fetch {item.filename}: {item.size} bytes, sha256 {item.sha256}")
    for name in stats.refetched_corrupt:
        print(f"  cache file of {name} did not match its sha256: fetched again")
    print(
        f"{variant.cell(platform)}: {len(items)} files into {relative(layout, layout.wheelhouse(variant, platform))}; "
        f"downloaded {stats.downloaded_files} ({stats.downloaded_bytes / MB:.1f} MB, {stats.downloaded_bytes} bytes), "
        f"from cache {stats.cached_files} ({stats.cached_bytes / MB:.1f} MB), {seconds:.1f} s, {workers} workers"
    )
    record = FetchRecord(
        tuple(Fetched(i.name, i.filename, i.sha256, i.size) for i in items),
        stats.downloaded_bytes,
        stats.downloaded_files,
        stats.cached_bytes,
        stats.cached_files,
        tuple(stats.refetched_corrupt),
    )
    files.write_json_atomic(manifest, record.to_json())


def clear_cache() -> None:
    cache = Cache()
    freed = cache.clear()
    print(f"{cache.root}: removed {freed / MB:.1f} MB")
