"""Facts about native binaries, for every target platform, read on any host.

ELF through pyelftools (sections are read lazily: ``DT_NEEDED``, ``RPATH``/``RUNPATH``,
``.gnu.version_r``, and one hash-table lookup for ``PyInit_<name>``), Mach-O and PE through
lief (their files are small). Nothing here runs a binary.
"""

from __future__ import annotations

import json
from importlib.resources import files as package_files
from pathlib import Path
from typing import Any

from tasks.model.linkage import Binary
from tasks.model.platforms import Platform
from tasks.model.signing import HEAD_BYTES, format_of_head


def binary_format(path: Path) -> str | None:
    """ "elf", "macho" or "pe" by the file's first bytes (never its name), or None."""
    try:
        with path.open("rb") as stream:
            head = stream.read(HEAD_BYTES)
    except OSError:
        return None
    return format_of_head(head)


def version_of(name: str, prefix: str) -> tuple[int, ...] | None:
    if not name.startswith(prefix):
        return None
    try:
        return tuple(int(part) for part in name[len(prefix) :].split("."))
    except ValueError:
        return None


def read_elf(path: Path, init_symbol: str | None) -> Binary:
    from elftools.elf.elffile import ELFFile

    with path.open("rb") as stream:
        elf: Any = ELFFile(stream)
        dynamic = elf.get_section_by_name(".dynamic")
        tags = list(dynamic.iter_tags()) if dynamic is not None else []
        needed = tuple(tag.needed for tag in tags if tag.entry.d_tag == "DT_NEEDED")
        paths: list[str] = [
            str(getattr(tag, "runpath", None) or getattr(tag, "rpath", ""))
            for tag in tags
            if tag.entry.d_tag in ("DT_RUNPATH", "DT_RPATH")
        ]
        requirements = elf.get_section_by_name(".gnu.version_r")
        versions = [aux.name for _, auxes in requirements.iter_versions() for aux in auxes] if requirements else []
        glibc = max((v for name in versions if (v := version_of(name, "GLIBC_"))), default=None)
        exported = False
        if init_symbol:
            table = elf.get_section_by_name(".gnu.hash") or elf.get_section_by_name(".hash")
            symbol = table.get_symbol(init_symbol) if table is not None else None
            exported = symbol is not None and symbol["st_shndx"] != "SHN_UNDEF"
    search = tuple(entry for value in paths for entry in value.split(":") if entry)
    return Binary("elf", needed, search, glibc, None, exported)


def read_macho(path: Path, init_symbol: str | None) -> Binary:
    import lief

    lief.logging.disable()
    fat = lief.MachO.parse(str(path))
    if fat is None or fat.size == 0:
        return Binary("macho", ())
    binary: Any = fat.at(0)
    weak = lief.MachO.LoadCommand.TYPE.LOAD_WEAK_DYLIB
    needed = tuple(lib.name for lib in binary.libraries if lib.command != weak)
    search = tuple(command.path for command in binary.rpaths)
    minimum = None
    if binary.has_build_version:
        minimum = tuple(binary.build_version.minos)
    elif binary.has_version_min:
        minimum = tuple(binary.version_min.version)
    exported = bool(init_symbol) and any(s.name == f"_{init_symbol}" for s in binary.exported_functions)
    return Binary("macho", needed, search, None, minimum, exported)


def read_pe(path: Path, init_symbol: str | None) -> Binary:
    import lief

    lief.logging.disable()
    binary: Any = lief.PE.parse(str(path))
    if binary is None:
        return Binary("pe", ())
    needed = tuple(str(entry.name) for entry in binary.imports)
    exported = bool(init_symbol) and any(f.name == init_symbol for f in binary.exported_functions)
    return Binary("pe", needed, (), None, None, exported)


READERS = {"elf": read_elf, "macho": read_macho, "pe": read_pe}


def read_binary(path: Path, init_symbol: str | None = None) -> Binary | None:
    """The facts of a native binary, or None for any other file."""
    kind = binary_format(path)
    if kind is None:
        return None
    try:
        return READERS[kind](path, init_symbol)
    except Exception:  # a file that only looks like a binary (e.g. an "MZ" text file)
        return None


def manylinux_libraries(platform: Platform) -> list[str]:
    """The manylinux policy's library list at the platform's glibc floor (from auditwheel)."""
    if platform.glibc_floor is None:
        return []
    policies = json.loads(package_files("auditwheel.policy").joinpath("manylinux-policy.json").read_text())
    wanted = f"manylinux_{platform.glibc_floor.replace('.', '_')}"
    return next((list(p["lib_whitelist"]) for p in policies if p["name"] == wanted), [])
