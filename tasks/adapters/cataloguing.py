"""The catalogue stage: gather every built cell and write catalogue/ (the package and dist/)."""

from __future__ import annotations

import shutil
from typing import Any

from tasks.adapters import files
from tasks.adapters.cache import sha256_of
from tasks.core import platforms
from tasks.core.catalogue import VERIFIED, Cell, catalogue_package, descriptor_key, index, sha256sums
from tasks.core.envlayout import archive_name
from tasks.core.layout import Layout, Variant
from tasks.errors import BuildError


def catalogue_meta(layout: Layout) -> dict[str, Any]:
    meta: dict[str, Any] = files.read_json(layout.catalogue_config)
    return meta


def package_of(layout: Layout, variant: Variant) -> dict[str, Any]:
    path = layout.package_json(variant)
    if not path.is_file():
        raise BuildError(f"{path.relative_to(layout.root)}: missing; every variant needs a package.json")
    data: dict[str, Any] = files.read_json(path)
    return data


def gather(layout: Layout, variants: list[Variant]) -> list[Cell]:
    targets = platforms.load(layout.platforms)
    cells = []
    for variant in variants:
        package = package_of(layout, variant)
        for key, platform in targets.items():
            archive = layout.archive(variant, archive_name(package["version"], platform))
            cells.append(
                Cell(
                    variant=variant.name,
                    platform=key,
                    package=package,
                    archive_name=archive.name,
                    size=archive.stat().st_size,
                    sha256=archive.with_name(archive.name + ".sha256").read_text().split()[0],
                    manifest=files.read_json(layout.env_manifest(variant, key)),
                    check=files.read_json(layout.check_report(variant, key)),
                )
            )
    return cells


def refuse_unchecked(cells: list[Cell]) -> None:
    """A cell whose check failed (or never ran) is never catalogued, and so never published."""
    bad = [f"  - {c.variant}-{c.platform}: check {c.check.get('status', 'missing')}" for c in cells
           if c.check.get("status") not in VERIFIED]  # fmt: skip
    if bad:
        raise BuildError("refusing to catalogue cells that did not pass their check:\n" + "\n".join(bad))


def write_catalogue(layout: Layout, variants: list[Variant]) -> None:
    """catalogue/package.json, dist/tengo/software/<variant>.sw.json, dist/index.json, dist/SHA256SUMS."""
    cells = gather(layout, variants)
    refuse_unchecked(cells)
    packages = {v.name: package_of(layout, v) for v in variants}
    dist = layout.catalogue_dist
    shutil.rmtree(dist, ignore_errors=True)
    sums = [(cell.archive_key, cell.sha256) for cell in cells]
    for variant in variants:
        target = dist / "tengo" / "software" / f"{variant.name}.sw.json"
        files.write_text_atomic(target, layout.descriptor(variant).read_text(encoding="utf-8"))
        sums.append((descriptor_key(packages[variant.name]), sha256_of(layout.descriptor(variant))))
    catalogue = index(cells)
    files.write_json_atomic(dist / "index.json", catalogue)
    files.write_text_atomic(dist / "SHA256SUMS", sha256sums(sums))
    files.write_json_atomic(layout.catalogue_package, catalogue_package(catalogue_meta(layout), packages))
    print(f"catalogue: {len(variants)} variants, {len(cells)} cells")
    for item in catalogue["notVerifiedOnThisHost"]:
        print(f"  not verified on this host: {item['variant']}-{item['platform']}: {'; '.join(item['reasons'])}")


def remove_catalogue(layout: Layout) -> None:
    shutil.rmtree(layout.catalogue_dist, ignore_errors=True)
    layout.catalogue_package.unlink(missing_ok=True)
