"""What an environment tree holds, entry by entry, and how a tree differs from that record.

Assemble records every entry it lays into ``pydist/<platform>/`` (the base interpreter,
copyFiles, the wheelhouse, runenv.json); pack, just before it writes the archive, checks the
tree against that record, so a file planted, changed or removed since never ships. An entry is
``d`` (a directory), ``l:<target>`` (a link) or ``f:<x|->:<sha256>`` (a file, executable or not:
all the archive keeps of its mode). Files hash on several threads (hashlib releases the GIL).
"""

from __future__ import annotations

import os
import stat
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from tasks.plumbing.cache import sha256_of


def entries_of(root: Path) -> dict[str, tuple[str, Path]]:
    """{relative path: (kind and mode or link target, path)} of every entry under *root*
    (one directory read per directory, one lstat per file; links never followed)."""
    found: dict[str, tuple[str, Path]] = {}
    pending = [(root, "")]
    while pending:
        directory, prefix = pending.pop()
        with os.scandir(directory) as listing:
            for entry in listing:
                relative, path = prefix + entry.name, Path(entry.path)
                if entry.is_symlink():
                    found[relative] = (f"l:{os.readlink(path)}", path)
                elif entry.is_dir(follow_symlinks=False):
                    found[relative] = ("d", path)
                    pending.append((path, relative + "/"))
                else:
                    executable = entry.stat(follow_symlinks=False).st_mode & stat.S_IXUSR
                    found[relative] = (f"f:{'x' if executable else '-'}", path)
    return found


def digests_of(paths: list[Path]) -> list[str]:
    """SHA-256 of each file, in order; a batch per thread (hashlib releases the GIL)."""
    workers = os.cpu_count() or 2
    batches = [paths[start::workers] for start in range(workers)]
    with ThreadPoolExecutor(max_workers=workers) as pool:
        hashed_batches = list(pool.map(lambda batch: [sha256_of(path) for path in batch], batches))
    digests: list[str] = [""] * len(paths)
    for start, batch in enumerate(hashed_batches):
        digests[start::workers] = batch
    return digests


def hashed(entries: Mapping[str, tuple[str, Path]], known: Mapping[str, str]) -> dict[str, str]:
    """Each entry's record: a file's kind and mode with its sha256 (*known* ones not read again)."""
    to_read = [relative for relative, (kind, _) in entries.items() if kind.startswith("f:") and relative not in known]
    digests = dict(zip(to_read, digests_of([entries[relative][1] for relative in to_read]), strict=True))
    digests.update(known)
    return {
        relative: f"{kind}:{digests[relative]}" if kind.startswith("f:") else kind
        for relative, (kind, _) in sorted(entries.items())
    }


def file_digests(recorded: Mapping[str, str]) -> dict[str, str]:
    """{relative path: sha256} of the files a record lists."""
    return {relative: entry.rsplit(":", 1)[-1] for relative, entry in recorded.items() if entry.startswith("f:")}


def record_tree(root: Path, known: Mapping[str, str]) -> dict[str, str]:
    """The record of *root*; *known* gives digests already verified (the wheelhouse's)."""
    return hashed(entries_of(root), known)


def tree_problems(
    root: Path, recorded: Mapping[str, str], verified_elsewhere: str = "packages/", read_files: bool = True
) -> dict[str, str]:
    """{relative path: what is wrong} between *root* and its record. Files under
    *verified_elsewhere* (the wheelhouse, hashed by its own verification) are not read here;
    none are without *read_files* (pack hashes them as it reads them)."""
    entries = entries_of(root)
    known = {
        relative: recorded[relative].rsplit(":", 1)[-1]
        for relative in entries
        if (relative.startswith(verified_elsewhere) or not read_files) and recorded.get(relative, "").startswith("f:")
    }
    now = hashed(entries, known)
    problems = {relative: "not laid there by assemble" for relative in now.keys() - recorded.keys()}
    problems |= {relative: "missing" for relative in recorded.keys() - now.keys()}
    problems |= {
        relative: "changed since assemble"
        for relative in now.keys() & recorded.keys()
        if now[relative] != recorded[relative]
    }
    return dict(sorted(problems.items()))
