"""Static verification of an environment's native binaries for any target platform. Pure.

Every library a binary needs must resolve, by the platform's search rules, to a file of the
environment (a wheel's, the base CPython's, a copyFiles one) or to the platform's system
libraries. The newest glibc symbol version (Linux) or minimum macOS version a binary needs
must not exceed the platform's floor.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import cached_property
from pathlib import PurePosixPath
from typing import Any

from tasks.model.paths import resolve_in_archive

ORIGINS = ("$ORIGIN", "${ORIGIN}")
NATIVE_FORMAT = {"linux": "elf", "macosx": "macho", "windows": "pe"}
LOADER_PATHS = ("@loader_path", "@executable_path")


@dataclass(frozen=True)
class Binary:
    """What the linkage and minimum-OS checks need to know about one native file."""

    format: str  # "elf", "macho" or "pe"
    needed: tuple[str, ...]  # DT_NEEDED, LC_LOAD_DYLIB (not weak) or PE imports
    search_paths: tuple[str, ...] = ()  # RPATH/RUNPATH or LC_RPATH entries, unexpanded
    glibc: tuple[int, ...] | None = None  # the highest GLIBC_x.y symbol version it needs
    macos: tuple[int, ...] | None = None  # LC_BUILD_VERSION / LC_VERSION_MIN_MACOSX minimum
    exports_init: bool = False  # exports PyInit_<module name> (asked for extension modules)

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Binary:
        def versions(value: Any) -> tuple[int, ...] | None:
            return tuple(value) if value is not None else None

        return cls(
            str(data["format"]),
            tuple(data["needed"]),
            tuple(data["search_paths"]),
            versions(data["glibc"]),
            versions(data["macos"]),
            bool(data["exports_init"]),
        )


@dataclass(frozen=True)
class SystemLibraries:
    """What the target provides: exact names, name prefixes, and GPU driver libraries."""

    names: frozenset[str]
    prefixes: tuple[str, ...]
    drivers: frozenset[str]
    case_insensitive: bool = False

    def key(self, name: str) -> str:
        return name.lower() if self.case_insensitive else name

    def provides(self, name: str) -> bool:
        key = self.key(name)
        return key in self.names or key.startswith(self.prefixes)


def system_libraries(data: Mapping[str, Any], os_name: str, policy_libraries: Iterable[str]) -> SystemLibraries:
    entry = data.get(os_name, {})
    windows = os_name == "windows"
    names = {*entry.get("libraries", []), *policy_libraries}
    fold = str.lower if windows else str
    return SystemLibraries(
        frozenset(fold(n) for n in names),
        tuple(entry.get("prefixes", [])),
        frozenset(fold(n) for n in entry.get("driverLibraries", [])),
        windows,
    )


@dataclass(frozen=True)
class Tree:
    """The files of an environment as it is installed (relative POSIX paths)."""

    files: frozenset[str]
    case_insensitive: bool = False

    def key(self, path: str) -> str:
        return path.lower() if self.case_insensitive else path

    @cached_property
    def keys(self) -> frozenset[str]:
        return frozenset(self.key(p) for p in self.files)

    @cached_property
    def by_name(self) -> dict[str, list[str]]:
        found: dict[str, list[str]] = {}
        for path in sorted(self.files):
            found.setdefault(self.key(PurePosixPath(path).name), []).append(path)
        return found

    def has(self, path: str) -> bool:
        return self.key(path) in self.keys

    def named(self, name: str) -> list[str]:
        return self.by_name.get(self.key(name), [])


def normalised(path: PurePosixPath) -> str | None:
    """*path* with '.' and '..' folded; None when it climbs out of the tree."""
    resolved = resolve_in_archive(path, {})
    return None if resolved is None else resolved.as_posix()


def candidates(where: str, binary: Binary, name: str, application: str = "") -> list[str]:
    """Where the platform's loader looks for *name* needed by the binary at *where*
    (*application*: the interpreter's directory, which Windows searches)."""
    here = PurePosixPath(where).parent
    if binary.format == "pe":
        return [str(here / name), str(PurePosixPath(application) / name)]
    # auditwheel's ``<package>.libs/`` libraries find their siblings already loaded through the
    # extension module's RPATH: a sibling counts as found.
    siblings = [str(here / name)] if binary.format == "elf" else []
    if name.startswith(LOADER_PATHS):
        return [str(here / name.split("/", 1)[1])]
    if name.startswith("@rpath/"):
        rest = name.split("/", 1)[1]
        return [str(here / entry.split("/", 1)[1] / rest) if "/" in entry else str(here / rest)
                for entry in binary.search_paths if entry.startswith(LOADER_PATHS)]  # fmt: skip
    found = siblings
    for entry in binary.search_paths:
        origin = next((o for o in ORIGINS if entry.startswith(o)), None)
        if origin is not None:
            found.append(str(here / entry[len(origin) :].lstrip("/") / name))
    return found


@dataclass(frozen=True)
class Finding:
    binary: str
    library: str
    kind: str  # "unresolved", "driver", "off-search-path"

    def describe(self) -> str:
        if self.kind == "driver":
            return f"{self.library} needed by {self.binary} comes with a GPU driver (a warning: the GPU host has it)"
        if self.kind == "off-search-path":
            return f"{self.library} needed by {self.binary} is in the environment but not on its search path"
        return f"unresolved library {self.library} needed by {self.binary}"


def resolve(where: str, binary: Binary, tree: Tree, system: SystemLibraries, application: str = "") -> list[Finding]:
    """Every library of *binary* (at *where* in *tree*) that does not resolve cleanly."""
    findings = []
    for name in binary.needed:
        found = candidates(where, binary, name, application)
        paths = [p for c in found if (p := normalised(PurePosixPath(c))) is not None]
        if any(tree.has(p) for p in paths) or system.provides(name):
            continue
        base = PurePosixPath(name).name
        if system.key(base) in system.drivers:
            findings.append(Finding(where, name, "driver"))
        elif tree.named(base):
            findings.append(Finding(where, name, "off-search-path"))
        else:
            findings.append(Finding(where, name, "unresolved"))
    return findings


def version_text(version: tuple[int, ...]) -> str:
    return ".".join(str(part) for part in version)


def floor_problem(where: str, binary: Binary, glibc_floor: str | None, macos_floor: str | None) -> str | None:
    """'X needs glibc 2.34, above the platform's floor 2.28' (or macOS), or None."""
    for needed, floor, what in ((binary.glibc, glibc_floor, "glibc"), (binary.macos, macos_floor, "macOS")):
        if needed is None or floor is None:
            continue
        limit = tuple(int(part) for part in floor.split("."))
        if tuple(needed[:2]) > limit[:2]:
            return f"{where} needs {what} {version_text(needed)}, above the platform's floor {floor}"
    return None
