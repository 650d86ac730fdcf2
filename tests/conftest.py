"""Shared fixtures: temp copies of the repository and real doit runs inside them."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parents[1]
IGNORED = shutil.ignore_patterns(
    ".git",
    ".venv",
    ".doit.db*",
    "__pycache__",
    "*_cache",
    "build",
    "pydist",
    "dist",
    "archives",
    ".registry",
    "node_modules",
)


def copy_repo(destination: Path) -> Path:
    """A fresh copy of the checkout's sources (no outputs, no git, no venv)."""
    shutil.copytree(REPO, destination, ignore=IGNORED)
    return destination


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    return copy_repo(tmp_path / "repo")


DoitRun = Callable[..., subprocess.CompletedProcess[str]]


def isolated_env(repo: Path, cache: Path) -> dict[str, str]:
    """The environment of a test's doit runs: its own download cache, and the shared config's
    extra registries left out (they are not reachable from this machine)."""
    shared = json.loads((repo / "configs/shared-config.json").read_text())
    left_out = {url: None for url in shared.get("registries", {}).get("additional", [])}
    return {**os.environ, "RUNENV_CACHE_DIR": str(cache), "RUNENV_INDEX_MIRRORS": json.dumps(left_out)}


@pytest.fixture
def doit(repo: Path, tmp_path: Path) -> DoitRun:
    """Run ``doit ARGS`` in the temp repo; returns the completed process (never raises)."""
    base_env = isolated_env(repo, tmp_path / "cache")

    def run(*args: str, env: dict[str, str] | None = None, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "doit", *args],
            cwd=cwd or repo,
            capture_output=True,
            text=True,
            env={**base_env, **(env or {})},
            timeout=1800,
        )

    return run


def add_variant(repo: Path, name: str, packages: dict[str, Any], **extra: Any) -> Path:
    """A test variant directory ``python-<name>/`` with its config.json."""
    directory = repo / f"python-{name}"
    directory.mkdir()
    config = {"$schema": "../configs/schema/config.schema.json", "packages": packages, **extra}
    (directory / "config.json").write_text(json.dumps(config, indent=2))
    write_package_json(directory, name)
    return directory


def one_clear_line(process: subprocess.CompletedProcess[str], expected: str) -> None:
    """A failed run whose output holds *expected*, and no traceback."""
    output = process.stdout + process.stderr
    assert process.returncode != 0, output
    assert expected in output, output
    assert "Traceback" not in output, output


def executed(process: subprocess.CompletedProcess[str]) -> list[str]:
    """Names of the tasks doit ran (it prints '.  name' for a run, '-- name' for up to date)."""
    return [line[3:].strip() for line in process.stdout.splitlines() if line.startswith(".  ")]


class StaticServer:
    """Serves a directory on 127.0.0.1 (a free port) until stopped."""

    def __init__(self, directory: Path) -> None:
        import functools
        import threading
        from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer

        class Quiet(SimpleHTTPRequestHandler):
            def log_message(self, *args: object) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(Quiet, directory=str(directory)))
        self.url = f"http://127.0.0.1:{self.httpd.server_port}"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def stop(self) -> None:
        self.httpd.shutdown()


class LocalIndex:
    """A PEP 503 simple index of the given wheels on 127.0.0.1."""

    def __init__(self, root: Path, wheels: list[Path]) -> None:
        for wheel in wheels:
            name = wheel.name.split("-")[0].lower().replace("_", "-")
            files = root / "files"
            files.mkdir(parents=True, exist_ok=True)
            shutil.copy(wheel, files / wheel.name)
            digest = hashlib.sha256(wheel.read_bytes()).hexdigest()
            page = root / "simple" / name / "index.html"
            page.parent.mkdir(parents=True, exist_ok=True)
            with page.open("a") as html:
                html.write(f'<a href="../../files/{wheel.name}#sha256={digest}">{wheel.name}</a>\n')
        self.server = StaticServer(root)
        self.url = f"{self.server.url}/simple"


def make_wheel(directory: Path, name: str, version: str, tag: str, requires: list[str] | None = None) -> Path:
    """A minimal pure-Python wheel (one module) with the given tag and dependencies."""
    import zipfile

    directory.mkdir(parents=True, exist_ok=True)
    module = name.replace("-", "_")
    wheel = directory / f"{module}-{version}-{tag}.whl"
    info = f"{module}-{version}.dist-info"
    metadata = f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n" + "".join(
        f"Requires-Dist: {r}\n" for r in requires or []
    )
    with zipfile.ZipFile(wheel, "w") as archive:
        archive.writestr(f"{module}/__init__.py", f"VERSION = {version!r}\n")
        archive.writestr(f"{info}/METADATA", metadata)
        archive.writestr(f"{info}/WHEEL", f"Wheel-Version: 1.0\nRoot-Is-Purelib: true\nTag: {tag}\n")
        archive.writestr(f"{info}/RECORD", "")
    return wheel


def make_sdist(directory: Path, name: str, version: str, setup_py: str) -> Path:
    """A setuptools sdist whose setup.py is *setup_py* (one that raises stands for a broken build)."""
    import io
    import tarfile

    directory.mkdir(parents=True, exist_ok=True)
    sdist = directory / f"{name}-{version}.tar.gz"
    root = f"{name}-{version}"
    files = {
        f"{root}/pyproject.toml": '[build-system]\nrequires = ["setuptools>=61"]\n'
        'build-backend = "setuptools.build_meta"\n',
        f"{root}/setup.py": setup_py,
        f"{root}/PKG-INFO": f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n",
    }
    with tarfile.open(sdist, "w:gz") as archive:
        for member, text in files.items():
            info = tarfile.TarInfo(member)
            info.size = len(text.encode())
            archive.addfile(info, io.BytesIO(text.encode()))
    return sdist


class MachinePython:
    """The CPython running the tests, copied to a temp dir in python-build-standalone layout
    (top folder python/), packed as an install_only-style archive and served on loopback.
    The copied tree is deleted once packed: builds only see the archive."""

    def __init__(self, work: Path) -> None:
        import platform as host

        from tasks.plumbing.archive import pack
        from tasks.plumbing.cache import sha256_of

        self.version = host.python_version()
        minor = "{}.{}".format(*sys.version_info[:2])
        base, tree = Path(sys.base_prefix), work / "src" / "python"
        (tree / "bin").mkdir(parents=True)
        shutil.copy2(
            Path(sys._base_executable).resolve()
            if hasattr(sys, "_base_executable")
            else base / "bin" / f"python{minor}",
            tree / "bin" / f"python{minor}",
        )
        (tree / "bin" / "python3").symlink_to(f"python{minor}")
        shutil.copytree(
            base / "lib" / f"python{minor}",
            tree / "lib" / f"python{minor}",
            symlinks=True,
            ignore=shutil.ignore_patterns("test", "__pycache__", "site-packages", "idlelib", "tkinter"),
        )
        (tree / "lib" / f"python{minor}" / "site-packages").mkdir()
        for library in base.glob(f"lib/libpython{minor}*.so*"):
            shutil.copy2(library, tree / "lib" / library.name, follow_symlinks=False)
        self.served = work / "served"
        self.archive = self.served / f"cpython-{self.version}-install_only.tar.gz"
        pack(tree.parent, self.archive, 0, 2)
        shutil.rmtree(tree.parent)
        self.sha256 = sha256_of(self.archive)
        self.server = StaticServer(self.served)

    def pythons_file(self, path: Path, platform: str, **overrides: Any) -> Path:
        entry = {"url": f"{self.server.url}/{self.archive.name}", "sha256": self.sha256, **overrides}
        path.write_text(json.dumps({"versions": {self.version: {platform: entry}}}))
        return path


@pytest.fixture(scope="session")
def machine_python(tmp_path_factory: pytest.TempPathFactory) -> Any:
    served = MachinePython(tmp_path_factory.mktemp("machine-python"))
    yield served
    served.server.stop()


def write_package_json(directory: Path, name: str, version: str = "1.0.0") -> None:
    from tasks.build.new_variant import package_for

    package = package_for(name, name.split("-")[0])
    package.update(name=f"@platforma-open/test.runenv-python-{name}", version=version, description="test variant")
    (directory / "package.json").write_text(json.dumps(package, indent=2))


def free_port_pair(taken: set[int]) -> int:
    """A port below 55535 that is free, with port + 10000 free too (weed's gRPC port)."""
    import random
    import socket

    for _ in range(200):
        port = random.randint(20000, 45000)
        if {port, port + 10000} & taken:
            continue
        try:
            for candidate in (port, port + 10000):
                with socket.socket() as probe:
                    probe.bind(("127.0.0.1", candidate))
        except OSError:
            continue
        taken.update({port, port + 10000})
        return port
    raise RuntimeError("no free port pair")


class SeaweedS3:
    """A real S3 server: SeaweedFS (`weed server -s3`) on 127.0.0.1, its own ports and temp dir."""

    ACCESS, SECRET = "runenv-test-access", "runenv-test-secret-do-not-print"

    def __init__(self, work: Path) -> None:
        taken: set[int] = set()
        self.ports = {name: free_port_pair(taken) for name in ("master", "volume", "filer", "s3")}
        self.work = work
        work.mkdir(parents=True, exist_ok=True)
        config = {
            "identities": [
                {
                    "name": "runenv",
                    "credentials": [{"accessKey": self.ACCESS, "secretKey": self.SECRET}],
                    "actions": ["Admin", "Read", "Write", "List", "Tagging"],
                }
            ]
        }
        (work / "s3.json").write_text(json.dumps(config))
        self.endpoint = f"http://127.0.0.1:{self.ports['s3']}"
        self.process: subprocess.Popen[bytes] | None = None
        self.start()

    def start(self) -> None:
        weed = str(Path(sys.executable).with_name("weed"))
        p = self.ports
        command = [
            weed,
            "server",
            "-ip=127.0.0.1",
            "-ip.bind=127.0.0.1",
            f"-dir={self.work / 'data'}",
            "-s3",
            f"-master.port={p['master']}",
            f"-volume.port={p['volume']}",
            f"-filer.port={p['filer']}",
            f"-s3.port={p['s3']}",
            f"-s3.config={self.work / 's3.json'}",
            "-master.volumeSizeLimitMB=64",
            "-volume.max=20",
            "-metricsPort=0",
            "-s3.port.iceberg=0",  # its Iceberg and Lance listeners default to fixed ports: off
            "-s3.port.lance=0",
        ]
        (self.work / "data").mkdir(exist_ok=True)
        log = (self.work / "weed.log").open("ab")
        self.process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT)
        self.wait_ready()

    def env(self) -> dict[str, str]:
        return {
            "AWS_ACCESS_KEY_ID": self.ACCESS,
            "AWS_SECRET_ACCESS_KEY": self.SECRET,
            "AWS_ENDPOINT_URL": self.endpoint,
            "AWS_DEFAULT_REGION": "us-east-1",
        }

    def client(self) -> Any:
        import boto3

        return boto3.client(
            "s3",
            endpoint_url=self.endpoint,
            aws_access_key_id=self.ACCESS,
            aws_secret_access_key=self.SECRET,
            region_name="us-east-1",
        )

    def wait_ready(self, seconds: float = 60) -> None:
        import time

        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            try:
                self.client().list_buckets()
                return
            except Exception:
                time.sleep(0.3)
        raise RuntimeError(f"SeaweedFS did not start; see {self.work / 'weed.log'}")

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.kill()
            self.process.wait()


@pytest.fixture
def s3_server(tmp_path: Path) -> Any:
    server = SeaweedS3(tmp_path / "seaweed")
    server.client().create_bucket(Bucket="envs")
    yield server
    server.stop()


class Verdaccio:
    """A real npm registry: verdaccio (installed by ./dev test) on 127.0.0.1, its own port,
    storage and config; anyone may publish, as a private registry with a token would let us."""

    BIN = REPO / "tests/verdaccio/node_modules/.bin/verdaccio"

    def __init__(self, work: Path) -> None:
        import socket
        import time
        import urllib.request

        work.mkdir(parents=True, exist_ok=True)
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]
        (work / "config.yaml").write_text(
            "storage: ./storage\nauth:\n  htpasswd:\n    file: ./htpasswd\nuplinks: {}\n"
            "packages:\n  '**':\n    access: $all\n    publish: $all\nlog: {type: stdout, level: warn}\n"
        )
        self.url = f"http://127.0.0.1:{port}/"
        log = (work / "verdaccio.log").open("ab")
        self.process = subprocess.Popen(
            [str(self.BIN), "--config", str(work / "config.yaml"), "--listen", f"127.0.0.1:{port}"],
            cwd=work,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(f"{self.url}-/ping", timeout=2) as answer:
                    if answer.status == 200:
                        return
            except OSError:
                time.sleep(0.3)
        self.stop()
        raise RuntimeError(f"verdaccio did not start; see {work / 'verdaccio.log'}")

    def env(self) -> dict[str, str]:
        """What a publisher needs: the registry, and a token npm reads from $NPM_TOKEN."""
        return {"RUNENV_NPM_REGISTRY": self.url, "NPM_TOKEN": "runenv-test-token-do-not-print"}

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait()


@pytest.fixture
def npm_registry(tmp_path: Path) -> Any:
    if not Verdaccio.BIN.exists():
        pytest.fail("verdaccio is not installed: run the tests with ./dev test")
    server = Verdaccio(tmp_path / "verdaccio")
    yield server
    server.stop()


def download_wheels(target: Path, *requirements: str, platform: str | None = None) -> Path:
    """Real wheels from the default package index (no dependencies) into *target*."""
    where = ["--platform", platform, "--python-version", "3.12"] if platform else []
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "download",
            "--no-deps",
            "--only-binary",
            ":all:",
            "-q",
            *where,
            "-d",
            str(target),
            *requirements,
        ],
        check=True,
    )
    return target
