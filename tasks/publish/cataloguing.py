"""The catalogue stage: gather every built cell and write catalogue/ (the package and dist/)."""

from __future__ import annotations

import shutil
from fnmatch import fnmatch
from pathlib import Path
from typing import Any

from tasks.errors import BuildError
from tasks.model import platforms
from tasks.model.envlayout import archive_name
from tasks.model.layout import Layout, Variant
from tasks.model.records import ArchiveRecord, CheckRecord, EnvManifest
from tasks.plumbing import files
from tasks.plumbing.cache import sha256_of
from tasks.publish.catalogue import Cell, catalogue_package, descriptor_key, index, sha256sums


def catalogue_meta(layout: Layout) -> dict[str, Any]:
    meta: dict[str, Any] = files.read_json(layout.catalogue_config)
    return meta


def package_of(layout: Layout, variant: Variant) -> dict[str, Any]:
    path = layout.package_json(variant)
    if not path.is_file():
        raise BuildError(f"{path.relative_to(layout.root)}: missing; every variant needs a package.json")
    data: dict[str, Any] = files.read_json(path)
    return data


def cell_files(layout: Layout, variant: Variant, platform: str) -> list[Path]:
    """What cataloguing a cell reads: small files a CI job can pass on without the archive."""
    return [
        layout.env_manifest(variant, platform),
        layout.check_report(variant, platform),
        layout.archive_record(variant, platform),
    ]


def gather(layout: Layout, variants: list[Variant], pattern: str | None = None) -> tuple[list[Cell], list[str]]:
    """The cells (matching *pattern*, a glob over ``<variant>-<platform>``) built here, and
    the names of those that are not (or whose archive predates package.json's version)."""
    targets = platforms.load(layout.platforms)
    cells, absent = [], []
    for variant in variants:
        package = package_of(layout, variant)
        for key, platform in targets.items():
            if pattern is not None and not fnmatch(variant.cell(key), pattern):
                continue
            paths = cell_files(layout, variant, key)
            record = ArchiveRecord.from_json(files.read_json(paths[2])) if all(p.is_file() for p in paths) else None
            if record is None or record.archive != archive_name(package["version"], platform):
                absent.append(variant.cell(key))
                continue
            cells.append(
                Cell(
                    variant=variant.name,
                    platform=key,
                    package=package,
                    archive_name=record.archive,
                    size=record.size,
                    sha256=record.sha256,
                    manifest=EnvManifest.from_json(files.read_json(paths[0])),
                    check=CheckRecord.from_json(files.read_json(paths[1])),
                    sbom_sha256=record.sbom_sha256,
                )
            )
    return cells, absent


def refuse_unchecked(cells: list[Cell]) -> None:
    """A cell whose check failed (or never ran) is never catalogued, and so never published."""
    bad = [f"  - {c.variant}-{c.platform}: check {c.check.status}" for c in cells if not c.check.verified]
    if bad:
        raise BuildError("refusing to catalogue cells that did not pass their check:\n" + "\n".join(bad))


def write_catalogue(layout: Layout, variants: list[Variant], pattern: str | None = None) -> None:
    """catalogue/package.json, dist/tengo/software/<variant>.sw.json, dist/index.json,
    dist/SHA256SUMS. With *pattern*, of the matching cells built here (the others are listed
    as not built here); without, of every cell."""
    cells, absent = gather(layout, variants, pattern)
    if absent and pattern is None:
        raise BuildError(
            "not built here: " + ", ".join(absent) + "; build them, or catalogue what is here with --cells '<glob>'"
        )
    if not cells:
        raise BuildError(f"no cell matching {pattern!r} is built here")
    refuse_unchecked(cells)
    listed = [v for v in variants if any(c.variant == v.name for c in cells)]
    packages = {v.name: package_of(layout, v) for v in listed}
    dist = layout.catalogue_dist
    shutil.rmtree(dist, ignore_errors=True)
    sums = [(cell.archive_key, cell.sha256) for cell in cells]
    sums += [(cell.sbom_key, cell.sbom_sha256) for cell in cells if cell.sbom_sha256]
    for variant in listed:
        target = dist / "tengo" / "software" / f"{variant.name}.sw.json"
        files.write_text_atomic(target, layout.descriptor(variant).read_text(encoding="utf-8"))
        sums.append((descriptor_key(packages[variant.name]), sha256_of(layout.descriptor(variant))))
    catalogue = index(cells)
    files.write_json_atomic(layout.catalogue_package, catalogue_package(catalogue_meta(layout), packages))
    files.write_text_atomic(dist / "SHA256SUMS", sha256sums(sums))
    files.write_json_atomic(dist / "index.json", catalogue)  # last: its presence means complete
    print(f"catalogue: {len(listed)} variants, {len(cells)} cells")
    for name in absent:
        print(f"  not built here: {name}")
    for item in catalogue["notVerifiedOnThisHost"]:
        print(f"  not verified on this host: {item['variant']}-{item['platform']}: {'; '.join(item['reasons'])}")


def remove_catalogue(layout: Layout) -> None:
    from tasks.plumbing.files import remove_paths

    remove_paths([layout.catalogue_dist, layout.catalogue_package])
