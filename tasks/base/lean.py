"""A lean, describable base CPython: pruned, with an empty site-packages, identified by the
sha256 of its tree (never by the path it came from), and checked against the platform's
floor when it came from a machine rather than a pinned portable build."""

from __future__ import annotations

import hashlib
import os
import shutil
from collections.abc import Mapping
from pathlib import Path

from tasks.base.prune import pruned, site_packages_leftovers, stdlib_dir
from tasks.model.layout import Layout
from tasks.model.linkage import NATIVE_FORMAT, Tree, floor_problem, resolve, system_libraries
from tasks.model.platforms import Platform
from tasks.plumbing import files
from tasks.plumbing.binaries import manylinux_libraries, read_binary
from tasks.plumbing.cache import sha256_of
from tasks.plumbing.files import environment_files


def prunable(tree: Path, minor: str, windows: bool) -> list[str]:
    """The test suite, IDLE, Tk and the static libpython in *tree* (relative paths)."""
    stdlib = tree / stdlib_dir(minor, windows)
    candidates = [p.relative_to(tree).as_posix() for p in stdlib.glob("*")] if stdlib.is_dir() else []
    candidates += [p.relative_to(tree).as_posix() for p in stdlib.glob("config-*/libpython*.a")]
    candidates += [p.relative_to(tree).as_posix() for p in (tree / "bin").glob("idle*")]
    return pruned(candidates, minor, windows)


def site_leftovers(tree: Path, minor: str, windows: bool) -> list[str]:
    """What the source machine installed into site-packages, other than pip (names)."""
    site = tree / stdlib_dir(minor, windows) / "site-packages"
    return site_packages_leftovers(p.name for p in site.iterdir()) if site.is_dir() else []


def site_paths(names: list[str], minor: str, windows: bool) -> list[str]:
    return [f"{stdlib_dir(minor, windows)}/site-packages/{name}" for name in names]


def prune(tree: Path, minor: str, windows: bool) -> list[str]:
    """Remove the test suite, IDLE, Tk and the static libpython; the removed paths."""
    removed = prunable(tree, minor, windows)
    for path in removed:
        files.remove_path(tree / path)
    return removed


def empty_site_packages(tree: Path, minor: str, windows: bool) -> list[str]:
    """Remove everything the source machine installed into site-packages except pip."""
    leftovers = site_leftovers(tree, minor, windows)
    for path in site_paths(leftovers, minor, windows):
        files.remove_path(tree / path)
    return leftovers


def copy_lean(source: Path, target: Path, skipped: set[str]) -> None:
    """Copy a CPython directory without the *skipped* relative paths (never copied at all)."""

    def ignore(directory: str, names: list[str]) -> list[str]:
        relative = Path(directory).relative_to(source).as_posix()
        prefix = "" if relative == "." else f"{relative}/"
        return [name for name in names if f"{prefix}{name}" in skipped]

    shutil.rmtree(target, ignore_errors=True)
    shutil.copytree(source, target, symlinks=True, ignore=ignore)


def tree_sha256(tree: Path, digests: Mapping[str, str]) -> str:
    """One digest of a tree: every path in order with its content's sha256 (from *digests*, or
    read) or link target."""
    digest = hashlib.sha256()
    for directory, dirs, names in sorted(os.walk(tree)):
        dirs.sort()
        for name in sorted(names + [d for d in dirs if (Path(directory) / d).is_symlink()]):
            path = Path(directory) / name
            relative = path.relative_to(tree).as_posix()
            if path.is_symlink():
                digest.update(f"{relative}\0link\0{os.readlink(path)}\n".encode())
            else:
                digest.update(f"{relative}\0file\0{digests.get(relative) or sha256_of(path)}\n".encode())
    return digest.hexdigest()


def may_be_native(where: str) -> bool:
    """Executables and shared libraries: in bin/, or named like a library (skips the .py files)."""
    name = where.rsplit("/", 1)[-1]
    return where.startswith("bin/") or ".so" in name or name.endswith(".dylib")


def floor_warnings(layout: Layout, tree: Path, platform: Platform) -> list[str]:
    """Libraries the base needs that the platform's floor does not provide (libssl.so.3 from
    a recent distribution), and symbol versions above the floor (GLIBC_2.35 against 2.28)."""
    if platform.is_windows:
        return []
    system = system_libraries(
        files.read_json(layout.configs / "system-libraries.json"), platform.os, manylinux_libraries(platform)
    )
    paths = environment_files(tree)
    known = Tree(frozenset(paths))
    libraries: set[str] = set()
    above: list[str] = []
    for where in sorted(p for p in paths if may_be_native(p)):
        path = tree / where
        facts = read_binary(path) if path.is_file() and not path.is_symlink() else None
        if facts is None or facts.format != NATIVE_FORMAT[platform.os]:
            continue
        libraries |= {f.library for f in resolve(where, facts, known, system) if f.kind == "unresolved"}
        if problem := floor_problem(where, facts, platform.glibc_floor, platform.macos_floor):
            above.append(problem)
    warnings = []
    if libraries:
        warnings.append(
            f"base: links {', '.join(sorted(libraries))}, which {platform.key}'s floor does not provide "
            "(a CPython built on this machine; a python-build-standalone pin has none)"
        )
    if above:
        warnings.append(f"base: {above[0]}" + (f" (and {len(above) - 1} more files)" if len(above) > 1 else ""))
    return warnings
