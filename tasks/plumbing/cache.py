"""The shared content-addressed download cache: ``<root>/sha256/<ab>/<digest>``.

A file appears under its digest only after its bytes were verified (written to a temp file
in ``<root>/tmp``, hashed, then renamed), so a killed run never leaves a file that looks
complete, and two concurrent builds at worst both rename identical bytes into place.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
import time
from pathlib import Path

CACHE_VARIABLE = "RUNENV_CACHE_DIR"
STALE_TEMP_SECONDS = 24 * 3600
READ_ONLY = 0o444  # a verified cache file: nothing writes through a link into it


def process_alive(pid_text: str) -> bool:
    try:
        os.kill(int(pid_text), 0)
    except ValueError:
        return False
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def default_cache_dir() -> Path:
    configured = os.environ.get(CACHE_VARIABLE)
    if configured:
        return Path(configured)
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "runenv"


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as stream:
        while chunk := stream.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


class Cache:
    def __init__(self, root: Path | None = None) -> None:
        self.root = root or default_cache_dir()
        self.temp_dir = self.root / "tmp"
        self.temp_dir.mkdir(parents=True, exist_ok=True)

    def path_for(self, sha256: str) -> Path:
        return self.root / "sha256" / sha256[:2] / sha256

    def verified(self, sha256: str) -> tuple[Path | None, bool]:
        """(path, corrupted): the cached file if its bytes still match; a mismatching file is
        removed and reported as corrupted so it is fetched again."""
        path = self.path_for(sha256)
        if not path.is_file():
            return None, False
        if sha256_of(path) == sha256:
            if path.stat().st_mode & 0o777 != READ_ONLY:
                os.chmod(path, READ_ONLY)  # files cached before cache files were read-only
            return path, False
        path.unlink(missing_ok=True)
        return None, True

    def new_temp(self) -> tuple[int, Path]:
        fd, name = tempfile.mkstemp(prefix=f"part-{os.getpid()}-", dir=self.temp_dir)
        return fd, Path(name)

    def commit(self, temp: Path, sha256: str) -> Path:
        target = self.path_for(sha256)
        target.parent.mkdir(parents=True, exist_ok=True)
        os.chmod(temp, READ_ONLY)
        os.replace(temp, target)
        return target

    def remove_own_temps(self) -> None:
        """This process's partial downloads (on an interrupt)."""
        for temp in self.temp_dir.glob(f"part-{os.getpid()}-*"):
            temp.unlink(missing_ok=True)

    def remove_stale_temps(self) -> None:
        """Temp files a killed run left behind: its process is gone, or the file is a day old."""
        cutoff = time.time() - STALE_TEMP_SECONDS
        for temp in self.temp_dir.glob("part-*"):
            try:
                if not process_alive(temp.name.split("-")[1]) or temp.stat().st_mtime < cutoff:
                    temp.unlink()
            except FileNotFoundError:
                continue

    def clear(self) -> int:
        """Remove every cached file; returns how many bytes were freed."""
        freed = 0
        for path in sorted(self.root.rglob("*"), reverse=True):
            if path.is_file():
                freed += path.stat().st_size
                path.unlink()
            elif path.is_dir():
                path.rmdir()
        return freed
