"""copyFiles stays inside: sources under the variant directory, copies under the environment.

Every source is resolved and must lie under the variant directory; a link met while copying
a directory is copied as what it points to, and only when that is inside too. Every
destination's parent is resolved component by component (never creating anything through a
link) and must lie under the environment root. ``to`` may not target ``packages/`` (whose
files are hard links into the shared cache), ``runenv.json`` or the interpreter's own files.
Copies are written to a temp name and renamed, never written in place. A source holding the
variant's own outputs (``build/``, ``pydist/``, ``archives/``, ``dist/``) is refused, since they
would copy into themselves, and a copied folder skips them.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

from tasks.errors import BuildError

RESERVED = ("packages", "runenv.json")
OUTPUTS = ("build", "pydist", "archives", "dist")  # a variant's outputs: never copied into themselves


def inside(path: Path, root: Path) -> bool:
    return path == root or root in path.parents


def source_files(source: Path, variant_dir: Path, label: str, depth: int = 0) -> Iterator[tuple[Path, Path]]:
    """(file to read, path relative to *source*) for a copied directory; links followed only inside."""
    if depth > 40:
        raise BuildError(f"{label}: links nest too deep under {source}")
    for entry in sorted(source.iterdir()):
        real = entry.resolve()
        if any(real == variant_dir / output for output in OUTPUTS):
            continue
        if not inside(real, variant_dir):
            raise BuildError(
                f"{label}: {entry.relative_to(variant_dir)} links to {real}, outside {variant_dir}; "
                "copy the file itself instead"
            )
        if real.is_dir():
            for file, relative in source_files(real, variant_dir, label, depth + 1):
                yield file, Path(entry.name) / relative
        elif real.is_file():
            yield real, Path(entry.name)


def safe_parent(root: Path, relative: Path, label: str) -> Path:
    """The real directory for *relative* under *root*, created as needed, never through a link out."""
    current = root
    for part in relative.parts:
        step = current / part
        if step.is_symlink() or step.exists():
            step = step.resolve()
            if not inside(step, root):
                raise BuildError(f"{label}: {root / relative} leads outside the environment (through {step})")
            if not step.is_dir():
                raise BuildError(f"{label}: {step} is a file, not a directory")
        else:
            step.mkdir()
        current = step
    return current


def write_copy(source: Path, target: Path, root: Path, protected: set[str], label: str) -> None:
    parent = safe_parent(root, target.parent.relative_to(root), label)
    relative = (parent / target.name).relative_to(root).as_posix()
    if relative.split("/")[0] in RESERVED or relative in protected:
        raise BuildError(
            f"{label}: refusing to write {relative}: copyFiles may not replace packages/, runenv.json or "
            "the interpreter's own files; choose another 'to'"
        )
    if (parent / target.name).is_dir() and not (parent / target.name).is_symlink():
        raise BuildError(f"{label}: {relative} is a directory; end 'to' with '/' to copy into it")
    temp = parent / f".{target.name}.copy.tmp"
    try:
        shutil.copy2(source, temp)
        os.replace(temp, parent / target.name)
    finally:
        temp.unlink(missing_ok=True)


def copy_entry(variant_dir: Path, source_name: str, target: Path, root: Path, protected: set[str], label: str) -> None:
    """Copy one copyFiles entry: *target* is the resolved destination of ``to`` under *root*."""
    variant_dir, root = variant_dir.resolve(), root.resolve()
    target = root / target.relative_to(root) if target.is_absolute() else root / target
    source = (variant_dir / source_name).resolve()
    if not inside(source, variant_dir):
        raise BuildError(f"{label}: {source_name!r} resolves to {source}, outside {variant_dir}; keep sources inside")
    held = [f"{name}/" for name in OUTPUTS if inside(variant_dir / name, source)]
    held += ["the environment"] if inside(root, source) else []
    if held:
        raise BuildError(
            f"{label}: {source_name!r} holds {', '.join(held)}, the variant's own outputs, and would "
            "copy them into themselves; name the folders to copy instead"
        )
    if source.is_dir():
        for file, relative in source_files(source, variant_dir, label):
            write_copy(file, target / relative, root, protected, label)
    else:
        write_copy(source, target, root, protected, label)


def interpreter_files(base_tree: Path, interpreter_root: str) -> set[str]:
    """The environment-relative paths of the base interpreter's files (never overwritten)."""
    prefix = f"{interpreter_root}/" if interpreter_root else ""
    return {
        prefix + (Path(directory) / name).relative_to(base_tree).as_posix()
        for directory, _, names in os.walk(base_tree)
        for name in names
    }
