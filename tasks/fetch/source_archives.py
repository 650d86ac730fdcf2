"""Source archives of VCS dependencies: ``<name>-<version>.tar.gz`` made from the locked commit.

The lock pins a VCS package by commit, not by file hash. The fetch stage makes the archive
that ships (``git archive`` of exactly that commit, gzip with a fixed mtime, so the same commit
gives the same bytes), stores it in the content-addressed cache, and records commit → sha256 so
a later run reuses it. pip builds it offline like any sdist; a buildWheel rule builds a wheel.
"""

from __future__ import annotations

import gzip
import io
import json
import os
import tempfile
from pathlib import Path

from tasks.errors import FetchError
from tasks.plumbing.cache import Cache, sha256_of
from tasks.plumbing.commands import run_command


def split_vcs_url(url: str) -> tuple[str, str, str]:
    """``git+<repository>@<commit>`` → (type, repository, commit)."""
    scheme, _, rest = url.partition("+")
    repository, _, commit = rest.rpartition("@")
    if not (scheme and repository and commit):
        raise FetchError(f"{url}: not a locked VCS reference (expected <vcs>+<url>@<commit>); re-lock with `doit lock`")
    return scheme, repository, commit


def git(args: list[str], step: str, timeout: float) -> bytes:
    done = run_command(["git", *args], step, timeout, text=False, error=FetchError)
    data: bytes = done.stdout
    return data


def gzip_deterministic(data: bytes) -> bytes:
    buffer = io.BytesIO()
    with gzip.GzipFile(filename="", mode="wb", fileobj=buffer, mtime=0, compresslevel=9) as stream:
        stream.write(data)
    return buffer.getvalue()


def record_path(cache: Cache, commit: str, filename: str) -> Path:
    return cache.root / "vcs" / f"{commit}-{filename}.json"


def source_archive(name: str, version: str, filename: str, url: str, cache: Cache, timeout: float) -> tuple[Path, str]:
    """(cached archive, sha256) of the source archive of *url*'s commit, made once."""
    kind, repository, commit = split_vcs_url(url)
    step = f"{name} {version} ({url})"
    if kind != "git":
        raise FetchError(f"{step}: only git dependencies can be shipped; publish {name} to an index instead")
    record = record_path(cache, commit, filename)
    if record.is_file() and (known := json.loads(record.read_text()).get("sha256")):
        cached, _ = cache.verified(known)
        if cached is not None:
            return cached, known
    with tempfile.TemporaryDirectory(prefix="runenv-vcs-") as temp:
        clone = Path(temp) / "repo"
        git(["clone", "--quiet", "--no-checkout", repository, str(clone)], step, timeout)
        prefix = filename.removesuffix(".tar.gz") + "/"
        tar = git(["-C", str(clone), "archive", "--format=tar", f"--prefix={prefix}", commit], step, timeout)
    fd, temp_path = cache.new_temp()
    try:
        with os.fdopen(fd, "wb") as stream:
            stream.write(gzip_deterministic(tar))
        digest = sha256_of(temp_path)
        cached = cache.commit(temp_path, digest)
    finally:
        temp_path.unlink(missing_ok=True)
    record.parent.mkdir(parents=True, exist_ok=True)
    record.write_text(json.dumps({"sha256": digest, "url": url}))
    return cached, digest
