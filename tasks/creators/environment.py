"""base, assemble, check, pack and descriptor: from wheelhouse to archive, per cell."""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Iterator
from functools import cache
from pathlib import Path
from typing import Any

from tasks.core.layout import Variant
from tasks.creators.action import action
from tasks.creators.common import LAYOUT, cells, remove_paths, removes_targets, variants

ADAPTERS = "tasks.adapters"


def base_inputs() -> dict[str, str]:
    """Non-file inputs of the base stage: the interpreter overlay file's content and the mirror."""
    extra = os.environ.get("RUNENV_PYTHONS", "")
    content = Path(extra).read_bytes() if extra and Path(extra).is_file() else b""
    return {"pythons": hashlib.sha256(content).hexdigest(), "mirror": os.environ.get("RUNENV_PYTHON_MIRROR", "")}


def copy_sources_digest(variant: Variant) -> str:
    """A digest of the files under the variant directory that copyFiles may copy."""
    digest = hashlib.sha256()
    root = LAYOUT.variant_dir(variant)
    for path in sorted(root.rglob("*")):
        if path.relative_to(root).parts[0] in ("build", "pydist", "dist", "archives"):
            continue
        if path.is_symlink():  # never read through a link (it may point anywhere)
            digest.update(f"{path.relative_to(root)}->{os.readlink(path)}:".encode())
        elif path.is_file():
            digest.update(f"{path.relative_to(root)}:{path.stat().st_mode:o}:".encode() + path.read_bytes())
    return digest.hexdigest()


def copy_sources_unchanged(task: Any, values: dict[str, Any], variant: Variant) -> bool:
    current = copy_sources_digest(variant)
    task.value_savers.append(lambda: {"copy-sources": current})
    return bool(values.get("copy-sources") == current)


@cache
def package_version(variant: Variant) -> str | None:
    try:
        return str(json.loads(LAYOUT.package_json(variant).read_text(encoding="utf-8"))["version"])
    except (OSError, ValueError, KeyError):
        return None


@cache
def platform_data() -> dict[str, Any]:
    from tasks.core.platforms import load

    return load(LAYOUT.platforms)


def archive_target(variant: Variant, platform: str) -> Path | None:
    """The cell's archive path, named from package.json's version; None without one."""
    from tasks.core.envlayout import archive_name

    version = package_version(variant)
    return LAYOUT.archive(variant, archive_name(version, platform_data()[platform])) if version else None


def task_base() -> Iterator[dict[str, Any]]:
    """The base CPython of each cell: downloaded (or copied), verified, extracted, relocated."""
    from doit.tools import config_changed

    inputs = base_inputs()
    for variant, platform in cells():
        yield {
            "name": variant.cell(platform),
            "actions": [action(f"{ADAPTERS}.base_python:prepare_base", LAYOUT, variant, platform)],
            "task_dep": [f"config:{variant.name}"],
            "file_dep": [LAYOUT.pythons],
            "uptodate": [config_changed(inputs)],
            "targets": [LAYOUT.base_record(variant, platform)],
            "clean": [(remove_paths, [[LAYOUT.base_tree(variant, platform)]])],
        }


def task_assemble() -> Iterator[dict[str, Any]]:
    """pydist/<platform>/: interpreter, wheelhouse, copyFiles and the runenv.json manifest."""
    for variant, platform in cells():
        yield {
            "name": variant.cell(platform),
            "actions": [action(f"{ADAPTERS}.assemble:assemble_cell", LAYOUT, variant, platform)],
            "file_dep": [
                LAYOUT.base_record(variant, platform),
                LAYOUT.fetch_manifest(variant, platform),
                LAYOUT.merged_config(variant),
            ],
            "uptodate": [(copy_sources_unchanged, (variant,), {})],
            "targets": [LAYOUT.env_manifest(variant, platform)],
            "clean": [(remove_paths, [[LAYOUT.pydist(variant, platform)]])],
        }


@removes_targets
def task_check() -> Iterator[dict[str, Any]]:
    """Verify each environment: linkage, minimum OS and completeness on every platform; on the
    host also an offline install and an import of every module."""
    for variant, platform in cells():
        whitelist = LAYOUT.whitelist(platform)
        yield {
            "name": variant.cell(platform),
            "actions": [action(f"{ADAPTERS}.checker:check_cell", LAYOUT, variant, platform)],
            "file_dep": [
                LAYOUT.env_manifest(variant, platform),
                LAYOUT.configs / "system-libraries.json",
                *([whitelist] if whitelist.is_file() else []),
            ],
            "targets": [LAYOUT.check_report(variant, platform)],
            "clean": True,
        }


def wheelhouse_unchanged(variant: Variant, platform: str) -> bool:
    """Up to date only while every wheelhouse file has the stat it had when pack last hashed it."""
    from tasks.adapters.wheelhouse import unchanged_since_verified

    return unchanged_since_verified(LAYOUT.wheelhouse(variant, platform), LAYOUT.wheelhouse_record(variant, platform))


@removes_targets
def task_pack() -> Iterator[dict[str, Any]]:
    """A byte-reproducible archives/<version>-<os>-<arch>.tgz and its .sha256 per cell, from a
    wheelhouse verified against runenv.json."""
    for variant, platform in cells():
        archive = archive_target(variant, platform)
        yield {
            "name": variant.cell(platform),
            "actions": [action(f"{ADAPTERS}.packing:pack_cell", LAYOUT, variant, platform)],
            "uptodate": [(wheelhouse_unchanged, (variant, platform), {})],
            # Only the assembled environment: the check runs beside the pack (doit -n 2), and
            # build, catalogue and publish require it to have passed.
            "file_dep": [LAYOUT.env_manifest(variant, platform)],
            "targets": [archive, archive.with_name(archive.name + ".sha256"), LAYOUT.archive_record(variant, platform)]
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
            "actions": [action(f"{ADAPTERS}.packing:write_descriptor", LAYOUT, variant)],
            "file_dep": [LAYOUT.package_json(variant), LAYOUT.merged_config(variant)],
            "targets": [LAYOUT.descriptor(variant)],
            "clean": True,
        }
