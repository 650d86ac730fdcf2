"""Extraction refuses absolute paths, '..' and escaping links; packing is deterministic."""

from __future__ import annotations

import io
import tarfile
from pathlib import Path

import pytest

from tasks.errors import BuildError
from tasks.plumbing.archive import extract_python, member_problem, pack
from tasks.plumbing.cache import sha256_of


def member(name: str, kind: bytes = tarfile.REGTYPE, link: str = "") -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.type, info.linkname = kind, link
    return info


@pytest.mark.parametrize(
    ("info", "problem"),
    [
        (member("python/bin/python3"), None),
        (member("python/bin/python", tarfile.SYMTYPE, "python3.12"), None),
        (member("python/lib/x", tarfile.SYMTYPE, "../bin/python3"), None),
        (member("/etc/passwd"), "absolute path '/etc/passwd'"),
        (member("python/../../x"), "path 'python/../../x' climbs out with '..'"),
        (
            member("python/bin/evil", tarfile.SYMTYPE, "/etc/shadow"),
            "link 'python/bin/evil' -> '/etc/shadow' escapes the archive",
        ),
        (member("python/evil", tarfile.SYMTYPE, "../../etc"), "link 'python/evil' -> '../../etc' escapes the archive"),
        (member("python/dev", tarfile.CHRTYPE), "'python/dev' is a device, FIFO or other special file"),
    ],
)
def test_member_safety(info: tarfile.TarInfo, problem: str | None) -> None:
    assert member_problem(info, {}) == problem


def test_a_symlinked_parent_is_followed_as_extracted(tmp_path: Path) -> None:
    """``python/d -> .`` then ``python/d/e -> ../..``: lexically inside, really outside (finding 4)."""
    archive = tmp_path / "parent-link.tar.gz"
    with tarfile.open(archive, "w:gz") as tar:
        tar.addfile(member("python/bin/python3"), io.BytesIO(b""))
        tar.addfile(member("python/d", tarfile.SYMTYPE, "."))
        tar.addfile(member("python/d/e", tarfile.SYMTYPE, "../.."))
        tar.addfile(member("python/d/e/escaped"), io.BytesIO(b"outside"))
    with pytest.raises(BuildError) as caught:
        extract_python(archive, tmp_path / "out")
    assert str(caught.value) == (
        "parent-link.tar.gz: refusing to extract: link 'python/d/e' -> '../..' escapes the archive; "
        "'python/d/e/escaped' lies outside the archive through a link"
    )
    assert not (tmp_path / "out").exists() and not (tmp_path / "escaped").exists()


def test_a_link_loop_is_refused(tmp_path: Path) -> None:
    archive = tmp_path / "loop.tar.gz"
    with tarfile.open(archive, "w:gz") as tar:
        tar.addfile(member("python/a", tarfile.SYMTYPE, "b"))
        tar.addfile(member("python/b", tarfile.SYMTYPE, "a"))
        tar.addfile(member("python/a/x"), io.BytesIO(b""))
    with pytest.raises(BuildError, match="'python/a/x' lies outside the archive through a link"):
        extract_python(archive, tmp_path / "out")


def test_a_corrupt_archive_is_one_line(tmp_path: Path) -> None:
    archive = tmp_path / "cut.tar.gz"
    archive.write_bytes(b"\x1f\x8b\x08\x00not really gzip")
    with pytest.raises(BuildError) as caught:
        extract_python(archive, tmp_path / "out")
    assert str(caught.value).startswith("cut.tar.gz: refusing to extract: ")


def test_escaping_link_refuses_the_whole_archive(tmp_path: Path) -> None:
    archive = tmp_path / "bad.tar.gz"
    with tarfile.open(archive, "w:gz") as tar:
        tar.addfile(member("python/bin/python3"), io.BytesIO(b""))
        tar.addfile(member("python/lib", tarfile.SYMTYPE, "../../../usr/lib"))
    with pytest.raises(BuildError) as caught:
        extract_python(archive, tmp_path / "out")
    assert str(caught.value) == (
        "bad.tar.gz: refusing to extract: link 'python/lib' -> '../../../usr/lib' escapes the archive"
    )
    assert not (tmp_path / "out").exists()


def test_pack_is_deterministic_and_normalised(tmp_path: Path) -> None:
    tree = tmp_path / "tree"
    (tree / "bin").mkdir(parents=True)
    (tree / "bin/tool").write_text("#!/bin/sh\n")
    (tree / "bin/tool").chmod(0o700)
    (tree / "data.txt").write_text("data\n")
    (tree / "data.txt").chmod(0o600)
    (tree / "bin/link").symlink_to("tool")
    pack(tree, tmp_path / "a.tgz", 1_700_000_000, 2)
    (tree / "data.txt").touch()
    pack(tree, tmp_path / "b.tgz", 1_700_000_000, 1)
    assert sha256_of(tmp_path / "a.tgz") == sha256_of(tmp_path / "b.tgz")
    with tarfile.open(tmp_path / "a.tgz") as tar:
        entries = [(m.name, oct(m.mode), m.uid, m.uname, m.mtime) for m in tar.getmembers()]
    assert entries == [
        ("bin", "0o755", 0, "", 1_700_000_000),
        ("bin/link", "0o755", 0, "", 1_700_000_000),
        ("bin/tool", "0o755", 0, "", 1_700_000_000),
        ("data.txt", "0o644", 0, "", 1_700_000_000),
    ]
