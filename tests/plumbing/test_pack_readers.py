"""Issue 19: the archive is gzip members, some deflated, some stored; every reader a consumer
might use extracts it byte for byte: GNU tar, bsdtar (libarchive), Python's tarfile with the
data filter, and Node's zlib.createGunzip() streaming into a tar parser."""

from __future__ import annotations

import os
import subprocess
import tarfile
from pathlib import Path

import pytest

from tasks.plumbing.archive import DigestMismatch, pack
from tasks.plumbing.cache import sha256_of
from tasks.plumbing.tree import file_digests, record_tree

UNTAR_JS = Path(__file__).with_name("untar.js")


def tree(root: Path) -> Path:
    """Files of every kind the packer treats apart: a large stored wheel, a small zip that rides
    with its neighbours, text, an executable, a link, an empty folder and a long path."""
    (root / "bin").mkdir(parents=True)
    (root / "bin/python3").write_bytes(b"#!/bin/sh\necho python\n" * 1000)
    (root / "bin/python3").chmod(0o755)
    (root / "bin/python").symlink_to("python3")
    (root / "packages").mkdir()
    (root / "packages/big-1.0-py3-none-any.whl").write_bytes(os.urandom(3 * 2**20 + 17))
    (root / "packages/small-1.0-py3-none-any.whl").write_bytes(os.urandom(5000))
    (root / "packages/requirements.txt").write_text("big==1.0\nsmall==1.0\n")
    (root / "lib/empty").mkdir(parents=True)
    deep = root / "lib" / ("d" * 60) / ("e" * 60)
    deep.mkdir(parents=True)
    (deep / ("f" * 80 + ".py")).write_text("VALUE = 1\n" * 500)
    (root / "runenv.json").write_text("{}\n")
    return root


def snapshot(root: Path) -> dict[str, str]:
    """{relative path: what it is}: a file's sha256 and executable bit, a link's target, a folder."""
    found = {}
    for path in sorted(root.rglob("*")):
        relative = path.relative_to(root).as_posix()
        if path.is_symlink():
            found[relative] = f"link {os.readlink(path)}"
        elif path.is_dir():
            found[relative] = "dir"
        else:
            found[relative] = f"{sha256_of(path)} {'x' if os.access(path, os.X_OK) else '-'}"
    return found


@pytest.fixture
def packed(tmp_path: Path) -> tuple[Path, dict[str, str]]:
    root = tree(tmp_path / "env")
    archive = tmp_path / "1.0.0-linux-x64.tgz"
    pack(root, archive, 1_700_000_000, 2, file_digests(record_tree(root, {})))
    return archive, snapshot(root)


def extract(reader: str, archive: Path, target: Path) -> None:
    target.mkdir()
    if reader == "gnu-tar":
        subprocess.run(["tar", "-xzf", str(archive), "-C", str(target)], check=True)
    elif reader == "bsdtar":
        subprocess.run(["bsdtar", "-xzf", str(archive), "-C", str(target)], check=True)
    elif reader == "python":
        with tarfile.open(archive, "r:gz") as tar:
            tar.extractall(target, filter="data")
    else:
        subprocess.run(["node", str(UNTAR_JS), str(archive), str(target)], check=True)


@pytest.mark.parametrize("reader", ["gnu-tar", "bsdtar", "python", "node"])
def test_every_reader_extracts_it_byte_for_byte(
    packed: tuple[Path, dict[str, str]], tmp_path: Path, reader: str
) -> None:
    archive, expected = packed
    extract(reader, archive, tmp_path / reader)
    assert snapshot(tmp_path / reader) == expected


def test_it_is_several_gzip_members_and_stays_reproducible(packed: tuple[Path, dict[str, str]], tmp_path: Path) -> None:
    archive, _ = packed
    data = archive.read_bytes()
    assert data.count(bytes([0x1F, 0x8B, 8, 0, 0, 0, 0, 0])) >= 3, "deflated, stored, deflated"
    root = tmp_path / "env"
    again = tmp_path / "again.tgz"
    pack(root, again, 1_700_000_000, 1, None)
    assert again.read_bytes() == data, "the same bytes, whatever the thread count"
    big = (root / "packages/big-1.0-py3-none-any.whl").stat().st_size
    assert big < len(data) < big + 64 * 1024, "the wheel stored, the rest deflated"


def test_a_file_whose_bytes_changed_stops_the_pack(tmp_path: Path) -> None:
    root = tree(tmp_path / "env")
    recorded = file_digests(record_tree(root, {}))
    (root / "runenv.json").write_text('{"planted": true}\n')
    archive = tmp_path / "out.tgz"
    with pytest.raises(DigestMismatch) as caught:
        pack(root, archive, 0, 2, recorded)
    assert caught.value.relative == "runenv.json"
    assert not archive.exists() and not list(tmp_path.glob(".*.tmp")), "nothing half-written"
