"""assemble:<cell> — pydist/<platform>/: interpreter, wheelhouse, copyFiles and runenv.json."""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterator
from typing import Any

from tasks.action import action
from tasks.model.layout import Variant
from tasks.plumbing.cells import LAYOUT, cells
from tasks.plumbing.files import remove_paths


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


def task_assemble() -> Iterator[dict[str, Any]]:
    """pydist/<platform>/: interpreter, wheelhouse, copyFiles and the runenv.json manifest."""
    for variant, platform in cells():
        yield {
            "name": variant.cell(platform),
            "actions": [action("tasks.assemble.assemble:assemble_cell", LAYOUT, variant, platform)],
            "file_dep": [
                LAYOUT.base_record(variant, platform),
                LAYOUT.fetch_manifest(variant, platform),
                LAYOUT.merged_config(variant),
            ],
            "uptodate": [(copy_sources_unchanged, (variant,), {})],
            "targets": [LAYOUT.env_manifest(variant, platform), LAYOUT.env_tree(variant, platform)],
            "clean": [(remove_paths, [[LAYOUT.pydist(variant, platform)]])],
        }
