"""`doit matrix`: the GitHub Actions matrix for building on many machines."""

from __future__ import annotations

import json
from pathlib import Path

from tasks.config.merged import read_merged_config
from tasks.model.layout import Layout, Variant
from tasks.plumbing import files
from tasks.publish.matrix import matrix


def write_matrix(layout: Layout, variants: list[Variant], platforms: list[str], output: Path) -> None:
    build_wheel = {
        v.name: {p for rules in read_merged_config(layout, v)["packages"]["buildWheel"].values() for p in rules}
        for v in variants
    }
    result = matrix([v.name for v in variants], platforms, build_wheel)
    files.write_text_atomic(output, json.dumps(result, separators=(",", ":")) + "\n")
    print(f"wrote {output.name} ({len(result['include'])} jobs)")
