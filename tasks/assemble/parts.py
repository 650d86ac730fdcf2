"""What an environment is made of, for its bill of materials (runenv.cdx.json), and the one
time an environment carries (the archive's mtime, also the signing time)."""

from __future__ import annotations

import datetime
import os
from pathlib import Path

from tasks.assemble.copy_files import source_files
from tasks.assemble.sbom import SBOM_NAME, Part, license_of, package_metadata, sbom_text
from tasks.config.merged import variant_config
from tasks.lock.lock import read_lock
from tasks.model.layout import Layout, Variant
from tasks.model.records import EnvManifest
from tasks.plumbing import files
from tasks.plumbing.cache import sha256_of


def archive_mtime(layout: Layout, variant: Variant) -> int:
    """$SOURCE_DATE_EPOCH, or the newest upload time of the locked files (stable per lock)."""
    if epoch := os.environ.get("SOURCE_DATE_EPOCH"):
        return int(epoch)
    stamps = [
        artifact["upload-time"]
        for package in read_lock(layout.lock(variant)).get("packages", [])
        for artifact in [package.get("sdist", {}), *package.get("wheels", [])]
        if isinstance(artifact.get("upload-time"), datetime.datetime)
    ]
    return int(max(stamps).timestamp()) if stamps else 0


def python_part(record: EnvManifest) -> Part:
    base = record.base
    source = base.get("archiveUrl") or "a local CPython tree"
    return Part("python", "cpython", base["version"], base.get("archiveSha256") or base["treeSha256"], str(source))


def copy_parts(layout: Layout, variant: Variant, platform: str) -> list[Part]:
    """Each copyFiles source file, named by its path in the variant folder, with its sha256."""
    merged = variant_config(layout, variant).merged
    variant_dir = layout.variant_dir(variant).resolve()
    packages = merged["packages"]
    entries = [*packages["copyFiles"], *packages["platformSpecific"].get(platform, {}).get("copyFiles", [])]
    parts = []
    for entry in entries:
        source, label = (variant_dir / entry["from"]).resolve(), f"copyFiles from {entry['from']!r}"
        found = source_files(source, variant_dir, label) if source.is_dir() else [(source, Path())]
        for path, inner in found:
            name = (Path(entry["from"]) / inner).as_posix().rstrip("/.") or entry["from"]
            where = f"{layout.variant_dir(variant).name}/{path.relative_to(variant_dir).as_posix()}"
            parts.append(Part("file", name, None, sha256_of(path), where))
    return parts


def package_parts(layout: Layout, variant: Variant, platform: str, record: EnvManifest) -> list[Part]:
    packages = layout.wheelhouse(variant, platform)
    return [Part("package", p.name, p.version, p.sha256, p.file, license_of(package_metadata(packages / p.file)))
            for p in record.packages]  # fmt: skip


def write_sbom(layout: Layout, variant: Variant, platform: str, record: EnvManifest) -> None:
    """pydist/<platform>/runenv.cdx.json, with the signing identity when the cell is signed."""
    parts = [
        python_part(record),
        *package_parts(layout, variant, platform, record),
        *copy_parts(layout, variant, platform),
    ]
    version = f"{variant.name}-{platform}"
    text = sbom_text(variant.cell(platform), version, parts, archive_mtime(layout, variant), record.signing)
    files.write_text_atomic(layout.pydist(variant, platform) / SBOM_NAME, text)
