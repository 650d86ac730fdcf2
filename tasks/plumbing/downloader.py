"""Parallel, streaming, SHA-256-verified downloads into the cache, with retries."""

from __future__ import annotations

import hashlib
import os
import sys
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import requests

from tasks.errors import FetchError
from tasks.plumbing.cache import Cache
from tasks.plumbing.files import naming

RETRIES = int(os.environ.get("RUNENV_FETCH_RETRIES", "4"))
BACKOFF_SECONDS = 0.5
CHUNK = 1 << 16  # below malloc's mmap threshold: buffers are reused, not page-faulted in anew
RETRYABLE = (requests.ConnectionError, requests.Timeout, requests.exceptions.ChunkedEncodingError)


@dataclass(frozen=True)
class Download:
    name: str
    url: str
    sha256: str
    size: int | None
    filename: str


@dataclass
class FetchStats:
    downloaded_files: int = 0
    downloaded_bytes: int = 0
    cached_files: int = 0
    cached_bytes: int = 0
    refetched_corrupt: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def add(self, size: int, downloaded: bool) -> None:
        with self.lock:
            if downloaded:
                self.downloaded_files += 1
                self.downloaded_bytes += size
            else:
                self.cached_files += 1
                self.cached_bytes += size


class Retryable(Exception):
    """A failure worth another attempt (connection error, timeout, HTTP 5xx)."""


def worker_count(parallel: bool | int, items: int) -> int:
    """``false``: one at a time; a number: that many; ``true``: two per core, at most 16.

    At index speeds of hundreds of MB/s, TLS and hashing make downloads CPU-bound: more
    threads than that only contend (measured on 2 cores: 8 workers per cell ran 15% slower
    than 4 across five parallel cells)."""
    if parallel is False:
        return 1
    wanted = min(16, 2 * (os.cpu_count() or 2)) if parallel is True else int(parallel)
    return max(1, min(wanted, items))


def local_chunks(url: str) -> Iterator[bytes]:
    """The bytes of a ``file://`` URL (a mirror on disk), in chunks."""
    from urllib.parse import unquote, urlparse

    path = Path(unquote(urlparse(url).path))
    try:
        with path.open("rb") as stream:
            while chunk := stream.read(CHUNK):
                yield chunk
    except FileNotFoundError:
        raise FetchError(f"{url}: no such file") from None


def remote_chunks(session: requests.Session, url: str, timeout: float, name: str) -> Iterator[bytes]:
    with session.get(url, stream=True, timeout=min(timeout, 60)) as response:
        if response.status_code >= 500:
            raise Retryable(f"HTTP {response.status_code}")
        if response.status_code >= 400:
            raise FetchError(f"{name}: {url} answered HTTP {response.status_code}")
        yield from response.iter_content(CHUNK)


def stream_to_cache(
    session: requests.Session, item: Download, cache: Cache, timeout: float, on_bytes: Callable[[int], None]
) -> Path:
    """One attempt: stream the file to a temp file, verify, then rename it into the cache."""
    fd, temp = cache.new_temp()
    started = time.monotonic()
    try:
        digest = hashlib.sha256()
        chunks = (
            local_chunks(item.url)
            if item.url.startswith("file://")
            else remote_chunks(session, item.url, timeout, item.name)
        )
        with naming(temp), os.fdopen(fd, "wb") as out:
            for chunk in chunks:
                out.write(chunk)
                digest.update(chunk)
                on_bytes(len(chunk))
                if time.monotonic() - started > timeout:
                    raise FetchError(f"{item.name}: download of {item.url} exceeded build.timeout ({timeout:g} s)")
        actual = digest.hexdigest()
        if actual != item.sha256:
            raise FetchError(
                f"{item.name}: {item.url} has sha256 {actual}, the lock expects {item.sha256}; "
                "the index serves different bytes than were locked: re-lock or check the mirror"
            )
        return cache.commit(temp, item.sha256)
    finally:
        temp.unlink(missing_ok=True)


def fetch_one(
    session: requests.Session,
    item: Download,
    cache: Cache,
    timeout: float,
    on_bytes: Callable[[int], None],
    stats: FetchStats,
) -> tuple[Path, bool]:
    """The verified cached file for *item*, and whether it had to be downloaded."""
    cached, corrupted = cache.verified(item.sha256)
    if corrupted:
        with stats.lock:
            stats.refetched_corrupt.append(item.filename)
    if cached is not None:
        stats.add(cached.stat().st_size, downloaded=False)
        return cached, False
    last: Exception | None = None
    for attempt in range(RETRIES):
        try:
            path = stream_to_cache(session, item, cache, timeout, on_bytes)
            stats.add(path.stat().st_size, downloaded=True)
            return path, True
        except (Retryable, *RETRYABLE) as exc:
            last = exc
            if attempt + 1 < RETRIES:
                time.sleep(BACKOFF_SECONDS * 2**attempt)
    # A read timeout while streaming surfaces as a ConnectionError wrapping urllib3's ReadTimeoutError.
    if isinstance(last, requests.Timeout) or "timed out" in str(last):
        raise FetchError(f"{item.name}: {item.url} timed out {RETRIES} times (build.timeout {timeout:g} s)")
    raise FetchError(f"{item.name}: {item.url} failed after {RETRIES} attempts: {last}")


class Progress:
    """One progress line on a terminal, at most 80 columns: the label, a bar, bytes as bytes
    (``12.3/45.6 MB``), the rate, and files as files (``3/30 files``); plain lines otherwise."""

    WIDTH = 80

    def __init__(self, items: Sequence[Download], label: str, console: Any = None) -> None:
        self.tty = console is not None or sys.stdout.isatty()
        self.label = label
        self.total_files = len(items)
        self.done_files = 0
        self.bar: Any = None
        if self.tty:
            from rich.console import Console
            from rich.progress import BarColumn, DownloadColumn, TextColumn, TransferSpeedColumn
            from rich.progress import Progress as Bar

            console = console or Console(width=min(self.WIDTH, Console().width))
            self.bar = Bar(
                TextColumn("{task.description}"),
                BarColumn(bar_width=16),
                DownloadColumn(),
                TransferSpeedColumn(),
                TextColumn("{task.fields[files]}"),
                console=console,
            )
            self.task = self.bar.add_task(label[:22], total=sum(i.size or 0 for i in items), files=self.files_text())
            self.bar.start()

    def files_text(self) -> str:
        return f"{self.done_files}/{self.total_files} files"

    def advance_bytes(self, count: int) -> None:
        if self.bar is not None:
            self.bar.advance(self.task, count)

    def file_done(self, item: Download, downloaded: bool) -> None:
        self.done_files += 1
        if self.bar is not None:
            self.bar.update(self.task, files=self.files_text())
        else:
            print(f"  {'fetched' if downloaded else 'cached '} {item.filename}", flush=True)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.stop()


def fetch_all(
    items: Sequence[Download], cache: Cache, workers: int, timeout: float, label: str
) -> tuple[dict[str, Path], FetchStats]:
    """Every item in the cache, verified; {sha256: cached path} and the statistics."""
    stats = FetchStats()
    progress = Progress(items, label)
    session = requests.Session()
    session.mount("https://", requests.adapters.HTTPAdapter(pool_maxsize=max(workers, 10)))

    def one(item: Download) -> tuple[str, Path]:
        path, downloaded = fetch_one(session, item, cache, timeout, progress.advance_bytes, stats)
        progress.file_done(item, downloaded)
        return item.sha256, path

    try:
        return dict(map_in_daemon_threads(one, items, workers)), stats
    except KeyboardInterrupt:
        cache.remove_own_temps()  # the workers die with the process; their partial files go now
        raise
    finally:
        progress.close()
        session.close()


def map_in_daemon_threads(function: Callable[[Any], Any], items: Sequence[Any], workers: int) -> list[Any]:
    """``[function(item) …]`` on *workers* daemon threads, the first error re-raised.

    Unlike ThreadPoolExecutor's workers, daemon threads do not hold up the process's exit: a
    Ctrl-C during a stalled download ends the run at once."""
    results: list[Any] = [None] * len(items)
    errors: list[BaseException] = []
    pending = iter(range(len(items)))
    guard = threading.Lock()

    def work() -> None:
        while not errors:
            with guard:
                index = next(pending, None)
            if index is None:
                return
            try:
                results[index] = function(items[index])
            except BaseException as exc:
                errors.append(exc)

    threads = [threading.Thread(target=work, daemon=True) for _ in range(max(1, min(workers, len(items))))]
    for thread in threads:
        thread.start()
    for thread in threads:
        while thread.is_alive():
            thread.join(0.2)  # short waits, so the main thread still receives Ctrl-C
    if errors:
        raise errors[0]
    return results
