"""`doit new_variant`: a new python-<X.Y.Z>[-suffix]/ with a validated config.json and package.json."""

from __future__ import annotations

import shutil

from tasks.base.prepare import load_pins
from tasks.config.merged import merged_config
from tasks.errors import ConfigError
from tasks.model.layout import Layout, parse_variant_dir
from tasks.model.platforms import PLATFORM_KEYS
from tasks.plumbing import files


def package_for(name: str, python_version: str) -> dict[str, object]:
    artifact = {
        "type": "environment",
        "runtime": "python",
        "registry": "platforma-open",
        "python-version": python_version,
        "roots": {p: f"./pydist/{p}" for p in PLATFORM_KEYS},
        "binDir": "bin",
    }
    return {
        "name": f"@platforma-open/milaboratories.runenv-python-{name}",
        "version": "1.0.0",
        "description": f"Python {python_version} run environment ({name})",
        "files": ["dist/"],
        "block-software": {"entrypoints": {"main": {"environment": {"artifact": artifact}}}},
    }


def new_variant(layout: Layout, name: str, allow_unpinned: bool = False) -> None:
    variant = parse_variant_dir(f"python-{name}")
    if not name or variant is None:
        raise ConfigError([f"new_variant --name {name!r}: write X.Y.Z or X.Y.Z-suffix, e.g. 3.13.0-custom"])
    directory = layout.variant_dir(variant)
    if directory.exists():
        raise ConfigError([f"{directory.name}/ already exists"])
    if variant.python_version not in load_pins(layout) and not allow_unpinned:
        raise ConfigError(
            [
                f"configs/pythons.json pins no CPython {variant.python_version}: add it first, or "
                "pass --allow-unpinned and supply the interpreter through $RUNENV_PYTHONS"
            ]
        )
    try:
        files.write_json_atomic(
            layout.variant_config(variant), {"$schema": "../configs/schema/config.schema.json", "packages": {}}
        )
        files.write_json_atomic(layout.package_json(variant), package_for(variant.name, variant.python_version))
        merged_config(layout, variant)
    except BaseException:
        shutil.rmtree(directory, ignore_errors=True)
        raise
    print(
        f"created {directory.name}/ (config.json, package.json); it inherits configs/shared-config.json. "
        f"Add dependencies, then `doit lock:{variant.name}`"
    )
