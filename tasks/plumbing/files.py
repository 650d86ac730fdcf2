"""File writes that never leave a half-written output behind."""

from __future__ import annotations

import errno
import json
import os
import shutil
import tempfile
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from tasks.model import jsonio


@contextmanager
def naming(path: str | Path) -> Iterator[None]:
    """An OSError raised while writing *path* names it: a full disk's error names no file."""
    try:
        yield
    except OSError as exc:
        if exc.filename is None and exc.errno is not None and type(exc).__module__ == "builtins":  # the OS's own
            raise OSError(exc.errno, exc.strerror or str(exc), str(path)) from None
        raise


def write_atomic(path: Path, data: bytes) -> None:
    """Write *data* to a temp file beside *path*, fsync it, then rename it over *path*."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with naming(path), os.fdopen(fd, "wb") as tmp:
            tmp.write(data)
            tmp.flush()
            os.fsync(tmp.fileno())
        os.chmod(tmp_name, 0o644)
        os.replace(tmp_name, path)
    except BaseException:
        Path(tmp_name).unlink(missing_ok=True)
        raise


def write_text_atomic(path: Path, text: str) -> None:
    write_atomic(path, text.encode("utf-8"))


def write_json_atomic(path: Path, data: Any) -> None:
    write_text_atomic(path, jsonio.dumps(data))


def read_json(path: Path) -> Any:
    """Read JSON from *path*; syntax errors name the file, line and column."""
    return jsonio.loads(path.read_text(encoding="utf-8"), str(path))


def read_json_if_exists(path: Path) -> Any | None:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (FileNotFoundError, json.JSONDecodeError, RecursionError):
        return None


def link_or_copy(source: str | Path, target: str | Path) -> None:
    """Hard-link *source* to *target* (a copy, mode and times kept, across filesystems),
    replacing *target* atomically.

    Linking a file to itself is a no-op (``os.replace`` between two links to one inode does
    nothing and would leave the temp link behind), and no temp name survives the call."""
    source, target = Path(source), Path(target)
    try:
        if os.path.samefile(source, target):
            return
    except FileNotFoundError:
        pass
    temp = target.with_name(f".{target.name}.{os.getpid()}-{threading.get_ident()}.tmp")
    try:
        try:
            os.link(source, temp)
        except OSError:
            shutil.copy2(source, temp)
        os.replace(temp, target)
    finally:
        temp.unlink(missing_ok=True)


def remove_path(path: Path) -> bool:
    """Remove a file, a link (never what it points to) or a whole tree; False when absent."""
    if path.is_symlink() or path.is_file():
        path.unlink()
    elif path.is_dir():
        shutil.rmtree(path)
    else:
        return False
    return True


def remove_paths(paths: list[Path]) -> None:
    """A clean action: remove each path that exists, saying so; silent otherwise."""
    for path in paths:
        if remove_path(path):
            print(f"removed {path}")


def environment_files(root: Path) -> set[str]:
    """Every file (and link to a directory) of an environment tree, relative, but its wheelhouse."""
    return {
        (Path(directory) / name).relative_to(root).as_posix()
        for directory, dirs, names in os.walk(root)
        for name in names + [d for d in dirs if (Path(directory) / d).is_symlink()]
        if Path(directory).relative_to(root).parts[:1] != ("packages",)
    }


OS_ERROR_HINTS = {
    errno.ENOSPC: "the disk is full: free some space (or point RUNENV_CACHE_DIR at a larger disk)",
    errno.EDQUOT: "the disk quota is exhausted: free some space",
    errno.EROFS: "the file system is read-only: build in a writable checkout",
    errno.EACCES: "permission denied: check the owner and mode of the file or its directory",
    errno.EPERM: "operation not permitted: check the owner and mode of the file or its directory",
}


def describe_os_error(exc: OSError) -> str:
    """One line naming the path, what went wrong and what to do."""
    if isinstance(exc, shutil.Error) and exc.args and isinstance(exc.args[0], list) and exc.args[0]:
        # copytree's list of every failure, which can run to millions of characters: the first, counted
        source, target, why = exc.args[0][0]
        more = f" (and {len(exc.args[0]) - 1} more files)" if len(exc.args[0]) > 1 else ""
        return f"copying {source} -> {target}: {why}{more}"
    paths = " -> ".join(str(p) for p in (exc.filename, exc.filename2) if p)
    what = exc.strerror or str(exc)
    hint = OS_ERROR_HINTS.get(exc.errno or 0, "")
    return f"{paths or 'a file operation'}: {what}" + (f"; {hint}" if hint else "")
