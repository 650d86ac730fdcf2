"""Archives: safe extraction of base interpreters, deterministic packing of environments."""

from __future__ import annotations

import hashlib
import os
import queue
import shutil
import stat
import tarfile
import tempfile
import threading
from collections.abc import Mapping
from pathlib import Path, PurePosixPath
from typing import Any, BinaryIO

from tasks.errors import BuildError
from tasks.model.paths import resolve_in_archive
from tasks.plumbing.files import naming
from tasks.plumbing.gzip_members import GzipMembers

TOP = "python"
# Already compressed: stored in the archive (deflating a wheel saves about 1 % at 20x the time).
COMPRESSED = (".whl", ".zip", ".gz", ".tgz", ".bz2", ".xz", ".zst", ".jar", ".npz")
STORE_FROM = 1 << 20  # smaller files ride in the member at hand: a member switch costs more
COPY_BUFFER = 1 << 20


def archive_links(members: list[tarfile.TarInfo]) -> dict[str, str]:
    """The archive's symlinks keyed by where each lands (its parent's links followed)."""
    links: dict[str, str] = {}
    for member in members:
        if member.issym():
            path = PurePosixPath(member.name.rstrip("/"))
            parent = resolve_in_archive(path.parent, links)
            if parent is not None:
                links[(parent / path.name).as_posix()] = member.linkname
    return links


def member_problem(member: tarfile.TarInfo, links: dict[str, str]) -> str | None:
    """Why a member may not be extracted: an absolute path, '..', a special file, or a path or
    link that leaves the tree once the archive's own links are followed (``d -> .`` then
    ``d/e -> ../..`` included)."""
    name = member.name.rstrip("/")
    if name.startswith("/") or (len(name) > 1 and name[1] == ":"):
        return f"absolute path {name!r}"
    if ".." in PurePosixPath(name).parts:
        return f"path {name!r} climbs out with '..'"
    if not (member.isfile() or member.isdir() or member.issym() or member.islnk()):
        return f"{name!r} is a device, FIFO or other special file"
    parent = resolve_in_archive(PurePosixPath(name).parent, links)
    if parent is None:
        return f"{name!r} lies outside the archive through a link"
    if member.issym() or member.islnk():
        start = parent if member.issym() else PurePosixPath()
        if member.linkname.startswith("/") or resolve_in_archive(start / member.linkname, links) is None:
            return f"link {name!r} -> {member.linkname!r} escapes the archive"
    return None


def extract_python(archive: Path, destination: Path, label: str | None = None) -> None:
    """Extract an install_only archive's ``python/`` folder to *destination* (replaced whole).

    Every member is checked first against the tree as it would be extracted; any unsafe one
    refuses the whole archive, naming it. tarfile's ``data`` filter runs on top where this
    Python has it (3.10.12+), and its refusals get the same one-line message."""
    label = label or archive.name
    try:
        with tarfile.open(archive) as tar:
            members = tar.getmembers()
            links = archive_links(members)
            problems = [p for m in members if (p := member_problem(m, links))]
            if problems:
                raise BuildError(f"{label}: refusing to extract: " + "; ".join(problems[:5]))
            if not any(PurePosixPath(m.name).parts[:1] == (TOP,) for m in members):
                raise BuildError(
                    f"{archive.name}: no top folder {TOP}/; expected a python-build-standalone install_only archive"
                )
            extract_members(tar, destination)
    except tarfile.TarError as exc:
        raise BuildError(f"{label}: refusing to extract: {exc}") from None


def extract_members(tar: tarfile.TarFile, destination: Path) -> None:
    destination.parent.mkdir(parents=True, exist_ok=True)
    temp = Path(tempfile.mkdtemp(prefix=".extract-", dir=destination.parent))
    try:
        if hasattr(tarfile, "data_filter"):
            tar.extractall(temp, filter="data")
        else:  # pragma: no cover - Pythons before 3.10.12: the checks above are the guard
            tar.extractall(temp)
        shutil.rmtree(destination, ignore_errors=True)
        os.replace(temp / TOP, destination)
    finally:
        shutil.rmtree(temp, ignore_errors=True)


def walk_sorted(root: Path) -> list[Path]:
    """Every path under *root*, sorted by relative path (so a directory precedes its contents)."""
    found = [
        Path(directory) / name for directory, dirnames, filenames in os.walk(root) for name in [*dirnames, *filenames]
    ]
    return sorted(found, key=lambda path: path.relative_to(root).as_posix())


def normalised_info(path: Path, arcname: str, mtime: int) -> tarfile.TarInfo:
    """A tar entry that depends only on the file's type, content, name and executable bit."""
    status = path.lstat()
    info = tarfile.TarInfo(arcname)
    if stat.S_ISLNK(status.st_mode):
        info.type, info.linkname = tarfile.SYMTYPE, os.readlink(path)
    elif stat.S_ISDIR(status.st_mode):
        info.type = tarfile.DIRTYPE
    elif stat.S_ISREG(status.st_mode):
        info.type, info.size = tarfile.REGTYPE, status.st_size
    else:
        raise BuildError(f"{path}: cannot pack a device, FIFO or socket")
    info.uid = info.gid = 0
    info.uname = info.gname = ""
    info.mtime = mtime
    executable = info.isdir() or bool(status.st_mode & stat.S_IXUSR)
    info.mode = 0o755 if executable else 0o644
    return info


class DigestMismatch(BuildError):
    """A file's bytes, read while packing, are not those its record names."""

    def __init__(self, relative: str, actual: str, expected: str) -> None:
        super().__init__(f"{relative}: sha256 {actual}, recorded {expected}")
        self.relative = relative


class Hashing:
    """Files read into the archive, hashed on a thread of their own as the bytes go by (one read of
    each file, the hashing beside the copying: hashlib releases the GIL)."""

    def __init__(self) -> None:
        self.chunks: queue.Queue[tuple[str, bytes | None]] = queue.Queue(maxsize=64)
        self.digests: dict[str, str] = {}
        self.worker = threading.Thread(target=self.run, daemon=True)
        self.worker.start()

    def run(self) -> None:
        digest = hashlib.sha256()
        while True:
            relative, chunk = self.chunks.get()
            if chunk is None:
                if relative == "":
                    return
                self.digests[relative], digest = digest.hexdigest(), hashlib.sha256()
            else:
                digest.update(chunk)

    def reading(self, relative: str, stream: BinaryIO) -> Any:
        hashing = self

        class Reader:
            def read(self, size: int = -1) -> bytes:
                chunk = stream.read(size)
                if chunk:
                    hashing.chunks.put((relative, chunk))
                return chunk

        return Reader()

    def done_with(self, relative: str) -> None:
        self.chunks.put((relative, None))

    def finish(self) -> dict[str, str]:
        if self.worker.is_alive():
            self.chunks.put(("", None))
            self.worker.join()
        return self.digests


def stored(info: tarfile.TarInfo, path: Path, storing: bool | None) -> bool:
    """Whether a member goes into a stored gzip member: a file already compressed, when it is
    large or a stored member is at hand (a wheelhouse mixes large and small wheels, and each
    switch costs more than a small one saves). A folder or link stays in the member at hand."""
    if not info.isreg():
        return bool(storing)
    return path.name.lower().endswith(COMPRESSED) and (info.size >= STORE_FROM or bool(storing))


def pack(tree: Path, output: Path, mtime: int, threads: int, expected: Mapping[str, str] | None = None) -> None:
    """A byte-reproducible ``.tgz`` of *tree*: sorted entries, one mtime, uid/gid 0, no user
    names, normalised permissions; gzip members deflated on *threads* threads, already-compressed
    files stored (plumbing/gzip_members.py). Each file whose sha256 *expected* lists is hashed
    as it is read, and a mismatch stops the pack (:class:`DigestMismatch`). Written to a temp
    file, then renamed."""
    output.parent.mkdir(parents=True, exist_ok=True)
    temp = output.with_name(f".{output.name}.tmp")
    hashing = Hashing()
    try:
        with naming(output), temp.open("wb", buffering=0) as raw:
            members = GzipMembers(raw, threads)
            writer: Any = members  # tarfile writes to it as to a binary file
            with tarfile.TarFile(fileobj=writer, mode="w", format=tarfile.GNU_FORMAT, copybufsize=COPY_BUFFER) as tar:
                for path in walk_sorted(tree):
                    add(tar, members, hashing, tree, path, mtime)
                members.store(False)  # the end-of-archive blocks
            members.close()
        digests = hashing.finish()
        wrong = [
            (relative, digests[relative], want)
            for relative, want in (expected or {}).items()
            if digests.get(relative, want) != want
        ]
        if wrong:
            raise DigestMismatch(*wrong[0])
        os.replace(temp, output)
    finally:
        hashing.finish()
        temp.unlink(missing_ok=True)


def add(tar: tarfile.TarFile, members: GzipMembers, hashing: Hashing, tree: Path, path: Path, mtime: int) -> None:
    relative = path.relative_to(tree).as_posix()
    info = normalised_info(path, relative, mtime)
    members.store(stored(info, path, members.storing))
    if not info.isreg():
        tar.addfile(info)
        return
    with path.open("rb") as stream:
        tar.addfile(info, hashing.reading(relative, stream))
    hashing.done_with(relative)
