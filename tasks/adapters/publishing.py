"""The publish stage: archives, then descriptors, then the catalogue, its index last.

Archives and descriptors are immutable: an object already there with the same SHA-256 is
skipped, a different one is refused (before anything is uploaded) unless ``--force``. The
catalogue files are the registry's pointer and are replaced on every publish, after
everything they reference is in place, so a reader never sees an entry whose archive is
missing.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass
from pathlib import Path

from tasks.adapters import files
from tasks.adapters.cache import sha256_of
from tasks.adapters.cataloguing import catalogue_meta
from tasks.adapters.publishers import REGISTRY_VARIABLE, Registry, open_registry
from tasks.core.catalogue import descriptor_key
from tasks.core.layout import Layout, Variant
from tasks.errors import PublishError

MB = 1024 * 1024


@dataclass(frozen=True)
class Upload:
    key: str
    path: Path
    immutable: bool


def plan(layout: Layout, variants: list[Variant]) -> list[Upload]:
    index = files.read_json(layout.catalogue_dist / "index.json")
    uploads = []
    for cell in index["cells"]:
        variant = next(v for v in variants if v.name == cell["variant"])
        archive = layout.archives_dir(variant) / Path(cell["archive"]).name
        uploads += [
            Upload(cell["archive"], archive, True),
            Upload(cell["archive"] + ".sha256", archive.with_name(archive.name + ".sha256"), True),
        ]
    for variant in variants:
        package = files.read_json(layout.package_json(variant))
        uploads.append(Upload(descriptor_key(package), layout.descriptor(variant), True))
    dist = layout.catalogue_dist
    catalogue_files = [layout.catalogue_package, *sorted((dist / "tengo").rglob("*.sw.json")), dist / "SHA256SUMS"]
    uploads += [
        Upload(f"catalogue/{p.relative_to(layout.catalogue_package.parent).as_posix()}", p, False)
        for p in catalogue_files
    ]
    uploads.append(Upload("catalogue/dist/index.json", dist / "index.json", False))
    return uploads


def refuse_conflicts(registry: Registry, uploads: list[tuple[Upload, str, str | None]], force: bool) -> None:
    conflicts = [
        f"  - {u.key}: registry has sha256 {there}, this build has {ours}"
        for u, ours, there in uploads
        if u.immutable and there is not None and there != ours
    ]
    if conflicts and not force:
        raise PublishError(
            f"{registry.describe()}: refusing to replace immutable objects (publish --force "
            "to overwrite):\n" + "\n".join(conflicts)
        )


def publish(layout: Layout, variants: list[Variant], force: bool = False) -> None:
    target = os.environ.get(REGISTRY_VARIABLE) or catalogue_meta(layout)["registry"]
    registry = open_registry(target, layout.root.resolve())
    uploads = plan(layout, variants)
    checked = [(u, sha256_of(u.path), registry.sha256_of(u.key)) for u in uploads]
    refuse_conflicts(registry, checked, force)
    print(f"publishing to {registry.describe()}")
    sent = 0
    for upload, ours, there in checked:
        if there == ours:
            print(f"  same   {upload.key}")
            continue
        started = time.monotonic()
        registry.put(upload.key, upload.path, ours)
        sent += 1
        size = upload.path.stat().st_size
        print(f"  upload {upload.key} ({size / MB:.1f} MB, {time.monotonic() - started:.1f} s)")
    print(f"published: {sent} uploaded, {len(uploads) - sent} already there")
    for item in files.read_json(layout.catalogue_dist / "index.json")["notVerifiedOnThisHost"]:
        print(f"  not verified on this host: {item['variant']}-{item['platform']}: {'; '.join(item['reasons'])}")
