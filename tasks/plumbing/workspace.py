"""Discover the variants of a checkout: every ``python-<X.Y.Z>[-suffix]/`` with a package.json
or a config.json (a variant without config.json uses the shared config alone)."""

from __future__ import annotations

import sys
from pathlib import Path

from tasks.model.layout import Variant, parse_variant_dir


def discover(root: Path) -> list[Variant]:
    """Variants sorted by name. A ``python-*`` directory with a config.json whose name is not
    a variant's is reported on stderr, not silently ignored."""
    variants = []
    directories = {path.parent for name in ("package.json", "config.json") for path in root.glob(f"python-*/{name}")}
    for directory in sorted(directories):
        variant = parse_variant_dir(directory.name)
        if variant is None:
            print(
                f"runenv: warning: {directory.name}/ is not a variant directory name; "
                "use python-<X.Y.Z>[-suffix]/, e.g. python-3.12.10-atls/",
                file=sys.stderr,
            )
            continue
        variants.append(variant)
    return variants
