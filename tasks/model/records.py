"""The stage records: what one stage writes for the next to read, as frozen dataclasses. Pure.

| record | file | written by | read by |
| --- | --- | --- | --- |
| :class:`SelectReport` | ``build/<platform>/report.json`` | select | fetch, assemble, check, pack, build |
| :class:`FetchRecord` | ``build/<platform>/fetch.json`` | fetch | assemble |
| :class:`EnvManifest` | ``pydist/<platform>/runenv.json`` | assemble | check, pack, publish |
| :class:`EnvTree` | ``build/<platform>/tree.json`` | assemble | pack |
| :class:`CheckRecord` | ``build/<platform>/check.json`` | check | build, publish |
| :class:`ArchiveRecord` | ``build/<platform>/archive.json`` | pack | publish, build |

Each has ``to_json`` (the file's exact form, keys in a fixed order, so archives stay
byte-reproducible) and ``from_json``; no stage reads another's record by string key.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from tasks.model.signing import Signing

Json = dict[str, Any]


@dataclass(frozen=True)
class Selected:
    """One artifact select chose for the cell."""

    name: str
    version: str
    kind: str  # "wheel", "sdist" or "vcs" (a source archive made from the locked commit)
    file: str
    url: str
    sha256: str
    size: int | None
    build_wheel: bool = False

    def to_json(self) -> Json:
        return {"name": self.name, "version": self.version, "kind": self.kind, "file": self.file, "url": self.url,
                "sha256": self.sha256, "size": self.size, "buildWheel": self.build_wheel}  # fmt: skip

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Selected:
        return cls(data["name"], data["version"], data["kind"], data["file"], data["url"], data["sha256"],
                   data.get("size"), bool(data.get("buildWheel", False)))  # fmt: skip


@dataclass(frozen=True)
class LeftOut:
    """A package the cell ships without, and why (a skip rule, nothing usable, no wheel)."""

    name: str
    version: str
    reason: str
    nearest: tuple[str, ...] = ()  # for a pin left off: the closest versions with a wheel

    def to_json(self) -> Json:
        data: Json = {"name": self.name, "version": self.version, "reason": self.reason}
        return data | ({"nearest": list(self.nearest)} if self.nearest else {})

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> LeftOut:
        return cls(data["name"], data["version"], data["reason"], tuple(data.get("nearest", ())))


def left_out(items: Any) -> tuple[LeftOut, ...]:
    return tuple(LeftOut.from_json(item) for item in items)


@dataclass(frozen=True)
class SelectReport:
    variant: str
    platform: str
    input_hash: str | None
    selected: tuple[Selected, ...]
    skipped: tuple[LeftOut, ...]
    missing_top_level: tuple[LeftOut, ...]
    warnings: tuple[str, ...]
    notes: tuple[str, ...]

    def to_json(self) -> Json:
        return {
            "variant": self.variant,
            "platform": self.platform,
            "inputHash": self.input_hash,
            "selected": [s.to_json() for s in self.selected],
            "skipped": [e.to_json() for e in self.skipped],
            "missingTopLevel": [e.to_json() for e in self.missing_top_level],
            "warnings": list(self.warnings),
            "notes": list(self.notes),
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> SelectReport:
        return cls(
            data["variant"],
            data["platform"],
            data.get("inputHash"),
            tuple(Selected.from_json(s) for s in data["selected"]),
            left_out(data["skipped"]),
            left_out(data.get("missingTopLevel", [])),
            tuple(data.get("warnings", [])),
            tuple(data.get("notes", [])),
        )


@dataclass(frozen=True)
class Fetched:
    name: str
    file: str
    sha256: str
    size: int | None

    def to_json(self) -> Json:
        return {"name": self.name, "file": self.file, "sha256": self.sha256, "size": self.size}


@dataclass(frozen=True)
class FetchRecord:
    files: tuple[Fetched, ...]
    downloaded_bytes: int
    downloaded_files: int
    cached_bytes: int
    cached_files: int
    refetched_corrupt: tuple[str, ...] = ()

    def by_file(self) -> dict[str, Fetched]:
        return {f.file: f for f in self.files}

    def to_json(self) -> Json:
        return {
            "files": [f.to_json() for f in self.files],
            "downloadedBytes": self.downloaded_bytes,
            "downloadedFiles": self.downloaded_files,
            "cachedBytes": self.cached_bytes,
            "cachedFiles": self.cached_files,
            "refetchedCorrupt": list(self.refetched_corrupt),
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> FetchRecord:
        files = tuple(Fetched(f["name"], f["file"], f["sha256"], f.get("size")) for f in data["files"])
        return cls(files, data["downloadedBytes"], data["downloadedFiles"], data["cachedBytes"], data["cachedFiles"],
                   tuple(data.get("refetchedCorrupt", ())))  # fmt: skip


@dataclass(frozen=True)
class EnvPackage:
    """A file of the wheelhouse as runenv.json lists it; *built* holds a built wheel's facts."""

    name: str
    version: str
    file: str
    sha256: str
    size: int | None
    built: Mapping[str, Any] = field(default_factory=dict)

    def to_json(self) -> Json:
        core = {"name": self.name, "version": self.version, "file": self.file, "sha256": self.sha256, "size": self.size}
        return core | dict(self.built)

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> EnvPackage:
        built = {k: v for k, v in data.items() if k not in ("name", "version", "file", "sha256", "size")}
        return cls(data["name"], data["version"], data["file"], data["sha256"], data.get("size"), built)


@dataclass(frozen=True)
class EnvManifest:
    """pydist/<platform>/runenv.json: what the environment holds, and what it lacks."""

    variant: str
    python_version: str
    platform: str
    base: Mapping[str, Any]  # version, treeSha256, archiveUrl, archiveSha256, pruned, sitePackagesRemoved
    lock_hash: str | None
    floor: Mapping[str, str]
    packages: tuple[EnvPackage, ...]
    skipped: tuple[LeftOut, ...]
    missing_top_level: tuple[LeftOut, ...]
    warnings: tuple[str, ...]
    needs_native_runner: tuple[str, ...]
    env_vars: tuple[str, ...]
    builder_version: str
    signing: Signing | None = None  # only in a signed cell

    def to_json(self) -> Json:
        return {
            "variant": self.variant,
            "pythonVersion": self.python_version,
            "platform": self.platform,
            "base": dict(self.base),
            "lockHash": self.lock_hash,
            "floor": dict(self.floor),
            "packages": [p.to_json() for p in self.packages],
            "skipped": [e.to_json() for e in self.skipped],
            "missingTopLevel": [e.to_json() for e in self.missing_top_level],
            "warnings": list(self.warnings),
            "needsNativeRunner": list(self.needs_native_runner),
            "envVars": list(self.env_vars),
            "builderVersion": self.builder_version,
            **({"signing": self.signing.to_json()} if self.signing else {}),
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> EnvManifest:
        return cls(
            data["variant"],
            data["pythonVersion"],
            data["platform"],
            dict(data["base"]),
            data.get("lockHash"),
            dict(data.get("floor", {})),
            tuple(EnvPackage.from_json(p) for p in data["packages"]),
            left_out(data["skipped"]),
            left_out(data.get("missingTopLevel", [])),
            tuple(data.get("warnings", [])),
            tuple(data.get("needsNativeRunner", [])),
            tuple(data.get("envVars", [])),
            data.get("builderVersion", ""),
            Signing.from_json(data["signing"]) if "signing" in data else None,
        )


@dataclass(frozen=True)
class EnvTree:
    """Every entry assemble laid into pydist/<platform>/: ``d``, ``l:<target>`` or
    ``f:<x|->:<sha256>`` (see plumbing/tree.py)."""

    entries: Mapping[str, str]

    def to_json(self) -> Json:
        return {"entries": dict(self.entries)}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> EnvTree:
        return cls(dict(data["entries"]))


@dataclass(frozen=True)
class CheckRecord:
    """build/<platform>/check.json: ``passed`` (imported on this host), ``verified-static``
    (a foreign platform: linkage, minimum OS, completeness) or ``failed``."""

    status: str
    verification: str  # "imported" or "static"
    static: Mapping[str, Any]
    imports: Mapping[str, Any] | None = None

    def to_json(self) -> Json:
        data: Json = {"imports": dict(self.imports)} if self.imports is not None else {}
        return data | {"static": dict(self.static), "verification": self.verification, "status": self.status}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> CheckRecord:
        return cls(data["status"], data["verification"], data["static"], data.get("imports"))

    @property
    def verified(self) -> bool:
        return self.status in ("passed", "verified-static")


@dataclass(frozen=True)
class ArchiveRecord:
    """build/<platform>/archive.json: the archive pack made, and its digest."""

    archive: str
    sha256: str
    size: int
    sbom_sha256: str | None = None  # of <archive name>.cdx.json, published beside it

    def to_json(self) -> Json:
        sbom = {"sbomSha256": self.sbom_sha256} if self.sbom_sha256 else {}
        return {"archive": self.archive, "sha256": self.sha256, "size": self.size, **sbom}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> ArchiveRecord:
        return cls(data["archive"], data["sha256"], data["size"], data.get("sbomSha256"))

    @property
    def sbom(self) -> str:
        return sbom_name(self.archive)


def sbom_name(archive: str) -> str:
    """<version>-<os>-<arch>.cdx.json beside <version>-<os>-<arch>.tgz."""
    return archive.removesuffix(".tgz") + ".cdx.json"
