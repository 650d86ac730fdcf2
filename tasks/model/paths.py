"""POSIX path arithmetic inside a tree: '..' that leaves it, and the tree's own symlinks. Pure."""

from __future__ import annotations

from pathlib import PurePosixPath

from tasks.errors import RunenvError


def resolve_in_archive(path: PurePosixPath, links: dict[str, str], depth: int = 0) -> PurePosixPath | None:
    """Where *path* lands inside the extracted tree once the archive's own symlinks among its
    parent components are followed; None when it leaves the tree (or links loop)."""
    parts: list[str] = []
    for part in path.parts:
        if part == "..":
            if not parts:
                return None
            parts.pop()
            continue
        if part == ".":
            continue
        parts.append(part)
        target = links.get("/".join(parts))
        if target is not None:
            if depth > 40 or target.startswith("/"):
                return None
            resolved = resolve_in_archive(PurePosixPath(*parts[:-1], target), links, depth + 1)
            if resolved is None:
                return None
            parts = list(resolved.parts)
    return PurePosixPath(*parts)


class UnsafeComponent(RunenvError):
    """A name that would not stay one path component."""


def component(value: str, what: str) -> str:
    """*value* as one path component: refused when empty, ``.``, ``..`` or holding a separator.
    Every path derived from package.json (archive, registry key, npm tarball) goes through here."""
    if value in ("", ".", "..") or "/" in value or "\\" in value or "\0" in value:
        raise UnsafeComponent(f"{what} {value!r} cannot be a path component")
    return value
