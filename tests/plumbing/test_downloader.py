"""Downloads against a real loopback HTTP server serving a real wheel."""

from __future__ import annotations

import hashlib
import subprocess
import sys
import textwrap
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from tasks.errors import FetchError
from tasks.plumbing import downloader
from tasks.plumbing.cache import Cache
from tasks.plumbing.downloader import Download, fetch_all
from tests.conftest import REPO, download_wheels


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A real wheel from the default package index."""
    return next(download_wheels(tmp_path_factory.mktemp("wheel"), "six==1.17.0").glob("six-*.whl"))


class Server:
    """Serves one file; ``mode`` is 'ok', '500', or 'stall' (half the bytes, then hang)."""

    def __init__(self, payload: bytes) -> None:
        self.payload, self.mode, self.requests = payload, "ok", 0
        self.stalled = threading.Event()
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                server.requests += 1
                if server.mode == "500":
                    self.send_response(500)
                    self.end_headers()
                    return
                self.send_response(200)
                self.send_header("Content-Length", str(len(server.payload)))
                self.end_headers()
                if server.mode == "stall":
                    self.wfile.write(server.payload[: len(server.payload) // 2])
                    self.wfile.flush()
                    server.stalled.set()
                    time.sleep(30)
                    return
                self.wfile.write(server.payload)

            def log_message(self, *args: object) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.httpd.server_port}/six-1.17.0-py2.py3-none-any.whl"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()


@pytest.fixture
def server(wheel: Path) -> Iterator[Server]:
    served = Server(wheel.read_bytes())
    yield served
    served.httpd.shutdown()


def item_for(server: Server) -> Download:
    digest = hashlib.sha256(server.payload).hexdigest()
    return Download("six", server.url, digest, len(server.payload), "six-1.17.0-py2.py3-none-any.whl")


def test_download_verifies_and_second_fetch_uses_cache(server: Server, tmp_path: Path) -> None:
    cache = Cache(tmp_path / "cache")
    item = item_for(server)
    paths, stats = fetch_all([item], cache, 2, 60, "t")
    assert paths[item.sha256].read_bytes() == server.payload
    assert (stats.downloaded_files, stats.downloaded_bytes) == (1, len(server.payload))
    _, again = fetch_all([item], cache, 2, 60, "t")
    assert (again.downloaded_bytes, again.cached_files, server.requests) == (0, 1, 1)


def test_http_500_is_retried_then_a_clear_error(
    server: Server, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(downloader, "BACKOFF_SECONDS", 0.01)
    server.mode = "500"
    with pytest.raises(FetchError) as caught:
        fetch_all([item_for(server)], Cache(tmp_path / "cache"), 1, 60, "t")
    assert str(caught.value) == f"six: {server.url} failed after {downloader.RETRIES} attempts: HTTP 500"
    assert server.requests == downloader.RETRIES


def test_wrong_hash_is_refused_and_nothing_cached(server: Server, tmp_path: Path) -> None:
    cache = Cache(tmp_path / "cache")
    bad = Download("six", server.url, "f" * 64, None, "six.whl")
    with pytest.raises(FetchError, match=r"has sha256 [0-9a-f]{64}, the lock expects f{64}"):
        fetch_all([bad], cache, 1, 60, "t")
    assert not any(p.is_file() for p in (tmp_path / "cache").rglob("*"))


def test_corrupted_cache_file_is_fetched_again(server: Server, tmp_path: Path) -> None:
    cache = Cache(tmp_path / "cache")
    item = item_for(server)
    fetch_all([item], cache, 1, 60, "t")
    cache.path_for(item.sha256).write_bytes(b"bit rot")
    paths, stats = fetch_all([item], cache, 1, 60, "t")
    assert stats.refetched_corrupt == [item.filename]
    assert stats.downloaded_files == 1
    assert hashlib.sha256(paths[item.sha256].read_bytes()).hexdigest() == item.sha256


def test_download_killed_part_way_is_completed_by_next_run(server: Server, tmp_path: Path) -> None:
    cache_dir = tmp_path / "cache"
    item = item_for(server)
    server.mode = "stall"
    script = textwrap.dedent(f"""
        import sys; sys.path.insert(0, {str(REPO)!r})
        from pathlib import Path
        from tasks.plumbing.cache import Cache
        from tasks.plumbing.downloader import Download, fetch_all
        fetch_all([Download(*{(item.name, item.url, item.sha256, item.size, item.filename)!r})],
                  Cache(Path({str(cache_dir)!r})), 1, 600, "t")
    """)
    child = subprocess.Popen([sys.executable, "-c", script])
    assert server.stalled.wait(30)
    time.sleep(0.5)
    child.kill()
    child.wait()
    partial = list((cache_dir / "tmp").glob("part-*"))
    assert len(partial) == 1 and partial[0].stat().st_size < len(server.payload)
    assert not Cache(cache_dir).path_for(item.sha256).exists()

    server.mode = "ok"
    cache = Cache(cache_dir)
    cache.remove_stale_temps()
    paths, stats = fetch_all([item], cache, 1, 60, "t")
    assert stats.downloaded_files == 1
    assert paths[item.sha256].read_bytes() == server.payload
    assert list((cache_dir / "tmp").glob("part-*")) == []


def test_stalled_download_fails_naming_the_timeout(
    server: Server, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(downloader, "BACKOFF_SECONDS", 0.01)
    server.mode = "stall"
    with pytest.raises(FetchError) as caught:
        fetch_all([item_for(server)], Cache(tmp_path / "cache"), 1, 0.5, "t")
    assert str(caught.value) == f"six: {server.url} timed out {downloader.RETRIES} times (build.timeout 0.5 s)"


def test_the_progress_line_counts_files_and_bytes_within_80_columns() -> None:
    import io

    from rich.console import Console

    from tasks.plumbing.downloader import Progress

    items = [Download(f"pkg{i}", "https://x/y", "0" * 64, 3 * 2**20, f"pkg{i}-1.0-py3-none-any.whl") for i in range(7)]
    screen = io.StringIO()
    console = Console(file=screen, width=80, force_terminal=True, color_system=None)
    progress = Progress(items, "3.12.10-linux-aarch64 wheelhouse (a long label)", console=console)
    progress.advance_bytes(5 * 2**20)
    progress.file_done(items[0], True)
    progress.close()
    import re

    text = re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", screen.getvalue()).replace("\r", "\n")
    last = [line for line in text.splitlines() if line.strip()][-1]
    assert len(last) <= 80, last
    assert "1/7 files" in last and "5.2/22.0 MB" in last, last
