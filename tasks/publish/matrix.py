"""A GitHub Actions matrix for building on many machines. Pure.

Linux assembles and packs every cell (the selection, downloads and archive are the same on
any host) and fully checks linux-x64; each other platform gets a job on its native runner for
what only it can do: the import check, and buildWheel.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

RUNNERS = {
    "linux-x64": "ubuntu-24.04",
    "linux-aarch64": "ubuntu-24.04-arm",
    "macosx-x64": "macos-13",
    "macosx-aarch64": "macos-14",
    "windows-x64": "windows-2022",
}
ASSEMBLER = "linux-x64"


def matrix(variants: Sequence[str], platforms: Sequence[str], build_wheel: Mapping[str, set[str]]) -> dict[str, Any]:
    """*build_wheel* maps a variant to the platforms where it has buildWheel rules."""
    linux_targets = [f"build:{v}-{ASSEMBLER}" for v in variants]
    linux_targets += [
        f"pack:{v}-{p}" for v in variants for p in platforms if p != ASSEMBLER and p not in build_wheel.get(v, set())
    ]
    include = [
        {
            "name": "assemble-on-linux",
            "runner": RUNNERS[ASSEMBLER],
            "platform": ASSEMBLER,
            "targets": " ".join(linux_targets),
        }
    ]
    for platform in platforms:
        if platform == ASSEMBLER:
            continue
        targets = [
            f"build:{v}-{platform}" if platform in build_wheel.get(v, set()) else f"check:{v}-{platform}"
            for v in variants
        ]
        include.append(
            {
                "name": f"native-{platform}",
                "runner": RUNNERS[platform],
                "platform": platform,
                "targets": " ".join(targets),
            }
        )
    return {"include": include}
