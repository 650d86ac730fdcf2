"""Integrity finding 5: every expected failure is one clear line, never a raw traceback.

Real conditions: a full disk and a read-only file system (small tmpfs mounts, where this
machine allows mounting), a 100k-deep config, bad $RUNENV_PYTHONS and $RUNENV_INDEX_MIRRORS,
a failing and a timed-out subprocess, two doit runs on one tree, and Ctrl-C.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import DoitRun, add_variant, isolated_env, one_clear_line

HOST = "linux-x64"


@pytest.fixture
def tmpfs(tmp_path: Path) -> Iterator[Any]:
    """Mount small tmpfs file systems (root only); unmounted afterwards."""
    mounted: list[Path] = []

    def mount(where: Path, options: str) -> Path:
        where.mkdir(parents=True, exist_ok=True)
        done = subprocess.run(["mount", "-t", "tmpfs", "-o", options, "tmpfs", str(where)], capture_output=True)
        if done.returncode != 0:
            pytest.skip(f"cannot mount a tmpfs here: {done.stderr.decode().strip()}")
        mounted.append(where)
        return where

    yield mount
    for where in reversed(mounted):
        subprocess.run(["umount", "-l", str(where)], check=False)


@pytest.mark.network
def test_a_full_disk_names_the_path(doit: DoitRun, repo: Path, tmp_path: Path, tmpfs: Any) -> None:
    add_variant(repo, "3.12.1-full", {"dependencies": ["pyyaml==6.0.2"]})
    cache = tmpfs(tmp_path / "small-cache", "size=64k")
    done = doit(f"fetch:3.12.1-full-{HOST}", env={"RUNENV_CACHE_DIR": str(cache)})
    one_clear_line(done, "No space left on device; the disk is full: free some space")
    assert list((cache / "tmp").iterdir()) == [], "the partial download was removed"


def test_a_read_only_file_system_names_the_path(doit: DoitRun, repo: Path, tmpfs: Any) -> None:
    directory = add_variant(repo, "3.12.1-ro", {"dependencies": ["six==1.17.0"]})
    tmpfs(directory / "build", "ro,size=64k")
    one_clear_line(doit("config:3.12.1-ro"), "Read-only file system; the file system is read-only")


def test_a_deeply_nested_config(doit: DoitRun, repo: Path) -> None:
    directory = add_variant(repo, "3.12.1-deep", {})
    (directory / "config.json").write_text("[" * 100_000 + "]" * 100_000)
    one_clear_line(doit("config:3.12.1-deep"), "python-3.12.1-deep/config.json: nested too deeply to be a runenv file")


def test_runenv_pythons_missing_or_malformed(doit: DoitRun, repo: Path, tmp_path: Path) -> None:
    add_variant(repo, "3.12.1-pins", {"dependencies": ["six==1.17.0"]})
    missing = tmp_path / "no-such-pythons.json"
    one_clear_line(
        doit(f"base:3.12.1-pins-{HOST}", env={"RUNENV_PYTHONS": str(missing)}),
        f"$RUNENV_PYTHONS: {missing} does not exist; point it at a JSON file shaped like configs/pythons.json",
    )
    flat = tmp_path / "flat.json"
    flat.write_text(json.dumps({"3.12.1": {HOST: {"path": "/opt/python"}}}))
    one_clear_line(
        doit(f"base:3.12.1-pins-{HOST}", env={"RUNENV_PYTHONS": str(flat)}),
        f"$RUNENV_PYTHONS ({flat}): $: 'versions' is required here",
    )


@pytest.mark.network
def test_an_index_mirror_no_config_lists_is_one_warning(doit: DoitRun, repo: Path) -> None:
    """Teams keep one mirror map for several trees: an unused entry is a warning, as in pip and uv."""
    add_variant(repo, "3.12.1-mirrors", {"dependencies": ["six==1.17.0"]})
    configured = json.loads((repo / "configs/shared-config.json").read_text())["registries"]["additional"]
    mirrors = {"https://other-tree.example.invalid/simple": None, **{url: None for url in configured}}
    done = doit("lock:3.12.1-mirrors", env={"RUNENV_INDEX_MIRRORS": json.dumps(mirrors)})
    assert done.returncode == 0, done.stdout + done.stderr
    warning = (
        "warning: $RUNENV_INDEX_MIRRORS: ['https://other-tree.example.invalid/simple']: no config of this tree lists "
        f"this registry; the entry is unused (registries.additional has {', '.join(sorted(configured))})"
    )
    assert done.stderr.splitlines().count(warning) == 1, done.stderr


def test_a_malformed_index_mirror_is_still_an_error(doit: DoitRun, repo: Path) -> None:
    add_variant(repo, "3.12.1-mirrors", {"dependencies": ["six==1.17.0"]})
    one_clear_line(
        doit("lock:3.12.1-mirrors", env={"RUNENV_INDEX_MIRRORS": json.dumps({"not-a-url": None})}),
        "$RUNENV_INDEX_MIRRORS: ['not-a-url']: a key must be a registry URL (http://, https:// or file://)",
    )


def pythons_env(machine_python: Any, tmp_path: Path) -> dict[str, str]:
    return {"RUNENV_PYTHONS": str(machine_python.pythons_file(tmp_path / "pythons.json", HOST))}


@pytest.mark.network
def test_a_failing_subprocess_shows_the_command_and_its_output(
    doit: DoitRun, repo: Path, machine_python: Any, tmp_path: Path
) -> None:
    variant = f"{machine_python.version}-badbuild"
    rule = {"reason": "test", "buildRequires": ["runenv-no-such-build-requirement==0.0.1"]}
    add_variant(repo, variant, {"dependencies": ["six==1.17.0"], "buildWheel": {"six": {HOST: rule}}})
    done = doit(f"build:{variant}-{HOST}", env=pythons_env(machine_python, tmp_path))
    one_clear_line(done, "buildWheel six-1.17.0.tar.gz: `python -m pip --isolated install -q ")
    assert "exited with status 1\n  | " in done.stdout
    assert "runenv-no-such-build-requirement" in done.stdout


@pytest.mark.network
def test_a_timeout_names_the_step_and_build_timeout(
    doit: DoitRun, repo: Path, machine_python: Any, tmp_path: Path
) -> None:
    variant = f"{machine_python.version}-slow"
    add_variant(repo, variant, {"dependencies": ["six==1.17.0"]}, build={"timeout": 0.01})
    done = doit(f"build:{variant}-{HOST}", env=pythons_env(machine_python, tmp_path))
    one_clear_line(done, "exceeded build.timeout (0.01 s)")


class StallingServer:
    """Serves a file slowly on 127.0.0.1: half of it, then nothing for a minute."""

    def __init__(self, payload: bytes) -> None:
        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                self.send_response(200)
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload[: len(payload) // 2])
                self.wfile.flush()
                time.sleep(60)

            def log_message(self, *args: object) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.httpd.server_port}"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()


@pytest.fixture
def stalled_fetch(doit: DoitRun, repo: Path, tmp_path: Path) -> Iterator[tuple[subprocess.Popen[str], Path]]:
    """A `doit fetch` in progress, stuck halfway through a download from a stalling server."""
    add_variant(repo, "3.12.1-stall", {"dependencies": ["six==1.17.0"]})
    assert doit(f"select:3.12.1-stall-{HOST}").returncode == 0
    report_path = repo / f"python-3.12.1-stall/build/{HOST}/report.json"
    report = json.loads(report_path.read_text())
    server = StallingServer(os.urandom(200_000))
    report["selected"][0]["url"] = f"{server.url}/six.whl"
    report_path.write_text(json.dumps(report))
    env = {**isolated_env(repo, tmp_path / "cache"), "RUNENV_FETCH_RETRIES": "1"}
    # As in a terminal: a run started in the background of a script inherits SIGINT ignored.
    process = subprocess.Popen(
        [sys.executable, "-m", "doit", f"fetch:3.12.1-stall-{HOST}"],
        cwd=repo, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )  # fmt: skip
    deadline = time.monotonic() + 60
    while not list((tmp_path / "cache/tmp").glob("part-*")) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert list((tmp_path / "cache/tmp").glob("part-*")), "the download started"
    yield process, tmp_path / "cache"
    if process.poll() is None:
        process.kill()
        process.wait()
    server.httpd.shutdown()


def test_a_second_doit_on_the_same_tree_names_the_holder(
    stalled_fetch: tuple[subprocess.Popen[str], Path], doit: DoitRun
) -> None:
    process, _ = stalled_fetch
    started = time.monotonic()
    second = doit(f"select:3.12.1-stall-{HOST}", env={"RUNENV_LOCK_WAIT": "1"})
    assert time.monotonic() - started < 30, "waits briefly, not for the first run to end"
    one_clear_line(second, f"runenv: another doit run (PID {process.pid}) is working in ")
    assert doit("list").returncode == 0, "read-only commands do not need the lock"


def test_ctrl_c_is_one_line_exit_130_and_leaves_no_temp_file(
    stalled_fetch: tuple[subprocess.Popen[str], Path], repo: Path
) -> None:
    process, cache = stalled_fetch
    process.send_signal(signal.SIGINT)
    stdout, stderr = process.communicate(timeout=60)
    # Python ends an interrupted run by re-raising SIGINT on itself, which the shell reports as 130.
    assert process.returncode in (130, -signal.SIGINT), stdout + stderr
    lines = [line for line in stderr.strip().splitlines() if not line.startswith("lock of ")]  # the lock's notice
    assert lines == ["runenv: interrupted; temp files removed, finished outputs kept"]
    assert list((cache / "tmp").iterdir()) == []
    wheelhouse = repo / f"python-3.12.1-stall/pydist/{HOST}/packages"
    assert not wheelhouse.exists() or not [p for p in wheelhouse.iterdir() if p.name.startswith(".")]


@pytest.mark.network
def test_ctrl_c_during_a_parallel_pack_leaves_no_temp_file(
    doit: DoitRun, repo: Path, machine_python: Any, tmp_path: Path
) -> None:
    """doit -n 2 ends its workers with SIGTERM once interrupted: the pack's temp archive still goes."""
    variant = f"{machine_python.version}-bigpack"
    add_variant(repo, variant, {"dependencies": ["pyarrow==21.0.0", "numpy==2.3.2"]})
    env = {**isolated_env(repo, tmp_path / "cache"), **pythons_env(machine_python, tmp_path)}
    assert doit(f"assemble:{variant}-{HOST}", env=env).returncode == 0
    archives = repo / f"python-{variant}/archives"
    for attempt in range(3):  # the interrupt must land while the archive is being written
        process = subprocess.Popen(
            [sys.executable, "-m", "doit", "-n", "2", f"pack:{variant}-{HOST}", f"check:{variant}-{HOST}"],
            cwd=repo, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True,
            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
        )  # fmt: skip
        deadline = time.monotonic() + 120
        while not list(archives.glob(".*.tmp")) and process.poll() is None and time.monotonic() < deadline:
            time.sleep(0.01)
        writing = bool(list(archives.glob(".*.tmp")))
        os.killpg(process.pid, signal.SIGINT)  # as a terminal does: the whole foreground group
        stdout, stderr = process.communicate(timeout=120)
        assert list(archives.glob(".*")) == [], f"attempt {attempt}: {stdout[-2000:]} {stderr[-2000:]}"
        if writing:
            assert process.returncode != 0
            assert "Traceback" not in stderr, stderr
            return
        doit("forget", f"pack:{variant}-{HOST}", env=env)
    pytest.fail("the archive was never caught being written")
