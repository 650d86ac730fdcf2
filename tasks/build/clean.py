"""What `doit clean` removes: a cell's build/, pydist/ and archives/ outputs. Never the cache or locks."""

from __future__ import annotations

from tasks.model import platforms
from tasks.model.layout import Layout, Variant
from tasks.plumbing.files import remove_paths


def clean_cell(layout: Layout, variant: Variant, platform_key: str) -> None:
    platform = platforms.load(layout.platforms)[platform_key]
    archives = sorted(layout.archives_dir(variant).glob(f"*-{platform.os}-{platform.arch}.tgz*"))
    remove_paths([layout.cell_dir(variant, platform_key), layout.pydist(variant, platform_key), *archives])
    for emptied in (
        layout.build_dir(variant),
        layout.variant_dir(variant) / "pydist",
        layout.archives_dir(variant),
    ):
        if emptied.is_dir() and not any(emptied.iterdir()):
            emptied.rmdir()
