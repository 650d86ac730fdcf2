"""base:<cell> — the base CPython of each cell: downloaded (or copied), verified, extracted."""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from tasks.action import action
from tasks.plumbing.cells import LAYOUT, cells
from tasks.plumbing.files import remove_paths


def base_inputs() -> dict[str, str]:
    """Non-file inputs of the base stage: the interpreter overlay file's content and the mirror."""
    extra = os.environ.get("RUNENV_PYTHONS", "")
    content = Path(extra).read_bytes() if extra and Path(extra).is_file() else b""
    return {"pythons": hashlib.sha256(content).hexdigest(), "mirror": os.environ.get("RUNENV_PYTHON_MIRROR", "")}


def task_base() -> Iterator[dict[str, Any]]:
    """The base CPython of each cell: downloaded (or copied), verified, extracted, relocated."""
    from doit.tools import config_changed

    inputs = base_inputs()
    for variant, platform in cells():
        yield {
            "name": variant.cell(platform),
            "actions": [action("tasks.base.prepare:prepare_base", LAYOUT, variant, platform)],
            "task_dep": [f"config:{variant.name}"],
            "file_dep": [LAYOUT.pythons],
            "uptodate": [config_changed(inputs)],
            "targets": [LAYOUT.base_record(variant, platform)],
            "clean": [(remove_paths, [[LAYOUT.base_tree(variant, platform), LAYOUT.base_files(variant, platform)]])],
        }
