"""pack:<cell> and descriptor:<variant> — a reproducible archive per cell, and the descriptor."""

from __future__ import annotations

import json
from collections.abc import Iterator
from functools import cache
from pathlib import Path
from typing import Any

from tasks.action import action
from tasks.config.package_json import SEMVER
from tasks.model.layout import Variant
from tasks.model.records import sbom_name
from tasks.plumbing.cells import LAYOUT, cells, removes_targets, signed_cell, variants


@cache
def package_version(variant: Variant) -> str | None:
    """package.json's version, when it is one (config refuses it otherwise, naming the key)."""
    try:
        version = json.loads(LAYOUT.package_json(variant).read_text(encoding="utf-8"))["version"]
    except (OSError, ValueError, KeyError, TypeError):
        return None
    return version if isinstance(version, str) and SEMVER.match(version) else None


@cache
def platform_data() -> dict[str, Any]:
    from tasks.model.platforms import load

    return load(LAYOUT.platforms)


def archive_target(variant: Variant, platform: str) -> Path | None:
    """The cell's archive path, named from package.json's version; None without one."""
    from tasks.model.envlayout import archive_name

    version = package_version(variant)
    return LAYOUT.archive(variant, archive_name(version, platform_data()[platform])) if version else None


def wheelhouse_unchanged(variant: Variant, platform: str) -> bool:
    """Up to date only while every wheelhouse file has the stat it had when pack last hashed it."""
    from tasks.pack.wheelhouse import unchanged_since_verified

    return unchanged_since_verified(LAYOUT.wheelhouse(variant, platform), LAYOUT.wheelhouse_record(variant, platform))


@removes_targets
def task_pack() -> Iterator[dict[str, Any]]:
    """A byte-reproducible archives/<version>-<os>-<arch>.tgz and its .sha256 per cell, from a
    wheelhouse verified against runenv.json."""
    for variant, platform in cells():
        archive = archive_target(variant, platform)
        yield {
            "name": variant.cell(platform),
            "actions": [action("tasks.pack.pack:pack_cell", LAYOUT, variant, platform)],
            "uptodate": [(wheelhouse_unchanged, (variant, platform), {})],
            # Only the assembled environment: the check runs beside the pack (doit -n 2), and
            # build, catalogue and publish require it to have passed.
            "file_dep": [LAYOUT.env_manifest(variant, platform), LAYOUT.env_tree(variant, platform)],
            "task_dep": [f"sign:{variant.cell(platform)}"] if signed_cell(variant, platform) else [],
            "targets": [
                archive,
                archive.with_name(archive.name + ".sha256"),
                archive.with_name(sbom_name(archive.name)),
                LAYOUT.archive_record(variant, platform),
            ]
            if archive
            else [],
            "clean": True,
        }


@removes_targets
def task_descriptor() -> Iterator[dict[str, Any]]:
    """dist/tengo/software/main.sw.json: what the data platform reads about a variant."""
    for variant in variants():
        yield {
            "name": variant.name,
            "actions": [action("tasks.pack.pack:write_descriptor", LAYOUT, variant)],
            "file_dep": [LAYOUT.package_json(variant), LAYOUT.merged_config(variant)],
            "targets": [LAYOUT.descriptor(variant)],
            "clean": True,
        }
