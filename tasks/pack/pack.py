"""The pack stage (a deterministic .tgz and its .sha256) and the variant's descriptor."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from tasks.assemble.parts import archive_mtime
from tasks.assemble.sbom import SBOM_NAME
from tasks.config.merged import read_merged_config, relative, variant_config
from tasks.errors import BuildError
from tasks.model.envlayout import archive_name, descriptor
from tasks.model.layout import Layout, Variant
from tasks.model.records import ArchiveRecord, sbom_name
from tasks.pack.verify_tree import recorded, verify_tree
from tasks.pack.wheelhouse import record_verified, verify_wheelhouse
from tasks.plumbing import files
from tasks.plumbing.archive import DigestMismatch, pack
from tasks.plumbing.cache import sha256_of
from tasks.plumbing.stage import cell_stage
from tasks.plumbing.tree import file_digests


def package_json(layout: Layout, variant: Variant) -> dict[str, Any]:
    path = layout.package_json(variant)
    if not path.is_file():
        raise BuildError(
            f"{relative(layout, path)}: missing; every variant needs a package.json with its package "
            "name, version and block-software artifact (copy one from another variant)"
        )
    data: dict[str, Any] = files.read_json(path)
    return data


@cell_stage("pack")
def pack_cell(layout: Layout, variant: Variant, platform_key: str) -> None:
    """Verify the wheelhouse against runenv.json and the whole tree against assemble's record,
    then pack the environment reproducibly."""
    config = variant_config(layout, variant)
    platform = config.platforms[platform_key]
    output = layout.archive(variant, archive_name(package_json(layout, variant)["version"], platform))
    checksum = output.with_name(output.name + ".sha256")
    record = layout.archive_record(variant, platform_key)
    checksum.unlink(missing_ok=True)
    record.unlink(missing_ok=True)
    pack_verified(layout, variant, platform_key, output, config.settings.timeout)
    digest = sha256_of(output)
    files.write_text_atomic(checksum, f"{digest}  {output.name}\n")
    sbom = output.with_name(sbom_name(output.name))
    files.write_text_atomic(sbom, (layout.pydist(variant, platform_key) / SBOM_NAME).read_text(encoding="utf-8"))
    archived = ArchiveRecord(output.name, digest, output.stat().st_size, sha256_of(sbom))
    files.write_json_atomic(record, archived.to_json())
    print(
        f"{variant.cell(platform_key)}: {relative(layout, output)} {output.stat().st_size / 2**20:.1f} MB "
        f"sha256 {digest}"
    )


def write_descriptor(layout: Layout, variant: Variant) -> None:
    merged = read_merged_config(layout, variant)
    files.write_json_atomic(
        layout.descriptor(variant), descriptor(package_json(layout, variant), variant.python_version, merged["envVars"])
    )


def pack_verified(layout: Layout, variant: Variant, platform: str, output: Path, timeout: float) -> None:
    """Pack, checking every file against assemble's record in the same read: the wheelhouse's
    names and the tree's entries first (no reading), then each file's sha256 as it goes into the
    archive. A file whose bytes differ is restored (fetched again, or laid out again) and the
    pack runs once more; a second difference is refused by name and nothing is packed."""
    root, cell = layout.pydist(variant, platform), variant.cell(platform)
    verify_wheelhouse(layout, variant, platform, timeout, hashed=False)
    verify_tree(layout, variant, platform, hashed=False)
    for attempt in (1, 2):
        record = recorded(layout, variant, platform)
        assert record is not None  # verify_tree made sure of it
        try:
            pack(root, output, archive_mtime(layout, variant), os.cpu_count() or 2, file_digests(record.entries))
            break
        except DigestMismatch as mismatch:
            if attempt == 2:
                raise BuildError(
                    f"{cell}: {root}/{mismatch}, after restoring it; nothing was packed. The base tree or the "
                    f"cache itself may be altered: run doit forget base:{cell} assemble:{cell}, then build again"
                ) from None
            print(f"{cell}: {root}/{mismatch}; restoring it")
            if mismatch.relative.startswith("packages/"):
                verify_wheelhouse(layout, variant, platform, timeout)
            else:
                verify_tree(layout, variant, platform)
    record_verified(layout, variant, platform)
