"""Archives: safe extraction of base interpreters, deterministic packing of environments."""

from __future__ import annotations

import os
import shutil
import stat
import tarfile
import tempfile
from pathlib import Path, PurePosixPath

from tasks.errors import BuildError
from tasks.model.paths import resolve_in_archive
from tasks.plumbing.files import naming

TOP = "python"


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


def pack(tree: Path, output: Path, mtime: int, threads: int) -> None:
    """A byte-reproducible ``.tgz`` of *tree*: sorted entries, one mtime, uid/gid 0, no user
    names, normalised permissions, gzip through zlib-ng's threaded writer (readable by
    ``tar -xzf``). Written to a temp file, then renamed."""
    from zlib_ng import gzip_ng_threaded

    output.parent.mkdir(parents=True, exist_ok=True)
    temp = output.with_name(f".{output.name}.tmp")
    try:
        with (
            naming(output),
            gzip_ng_threaded.open(temp, "wb", compresslevel=6, threads=threads) as gz,
            tarfile.open(fileobj=gz, mode="w|", format=tarfile.GNU_FORMAT) as tar,
        ):
            for path in walk_sorted(tree):
                info = normalised_info(path, path.relative_to(tree).as_posix(), mtime)
                if info.isreg():
                    with path.open("rb") as stream:
                        tar.addfile(info, stream)
                else:
                    tar.addfile(info)
        os.replace(temp, output)
    finally:
        temp.unlink(missing_ok=True)
