"""What `doit clean` removes: a cell's build/, pydist/ and archives/ outputs. Never the cache or locks."""

from __future__ import annotations

import shutil

from tasks.core import platforms
from tasks.core.layout import Layout, Variant


def clean_cell(layout: Layout, variant: Variant, platform_key: str) -> None:
    platform = platforms.load(layout.platforms)[platform_key]
    shutil.rmtree(layout.cell_dir(variant, platform_key), ignore_errors=True)
    shutil.rmtree(layout.pydist(variant, platform_key), ignore_errors=True)
    for archive in layout.archives_dir(variant).glob(f"*-{platform.os}-{platform.arch}.tgz*"):
        archive.unlink()
    for emptied in (
        layout.build_dir(variant) / platform_key,
        layout.variant_dir(variant) / "pydist",
        layout.archives_dir(variant),
    ):
        if emptied.is_dir() and not any(emptied.iterdir()):
            emptied.rmdir()
    print(f"cleaned {variant.cell(platform_key)}")
