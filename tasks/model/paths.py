"""POSIX path arithmetic inside a tree: '..' that leaves it, and the tree's own symlinks. Pure."""

from __future__ import annotations

from pathlib import PurePosixPath


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
