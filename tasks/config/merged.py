"""Read, validate, merge and write a variant's configuration (the config stage's I/O)."""

from __future__ import annotations

import sys
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from tasks.config.env_vars import config_env_var_sources, package_env_vars, union_env_vars
from tasks.config.merge import merge
from tasks.config.package_json import identity_problems
from tasks.config.validate import unused_rule_warnings, validate
from tasks.errors import ConfigError
from tasks.model import jsonio, platforms
from tasks.model.floors import floor_problems
from tasks.model.floors import variant_platforms as with_floors
from tasks.model.layout import Layout, Variant
from tasks.model.settings import Settings
from tasks.plumbing import files


def relative(layout: Layout, path: Path) -> str:
    try:
        return str(path.relative_to(layout.root))
    except ValueError:
        return str(path)


def read_document(layout: Layout, path: Path) -> Any:
    source = relative(layout, path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError([f"{source}: file not found; create it (see README, 'Config reference')"]) from None
    return jsonio.loads(text, source)


def merged_config(layout: Layout, variant: Variant) -> tuple[dict[str, Any], list[str]]:
    """The validated, merged config of *variant* and the warnings found on the way.

    A variant without a config.json uses the shared config alone. Raises ConfigError
    listing every problem of both files at once.
    """
    schema = read_document(layout, layout.schema)
    targets = platforms.load(layout.platforms)
    own_config = layout.variant_config(variant)
    sources = {relative(layout, p): p for p in (layout.shared_config, own_config)}
    docs: dict[str, Any] = {}
    problems: list[str] = []
    for source, path in sources.items():
        if path == own_config and not path.exists():
            docs[source] = {}
            continue
        try:
            docs[source] = read_document(layout, path)
        except ConfigError as exc:
            problems += exc.problems
            continue
        problems += validate(docs[source], source, schema) + floor_problems(docs[source], source, targets)
    if problems:
        raise ConfigError(problems)
    (shared_source, shared), (variant_source, own) = docs.items()
    merged = merge(shared, own)
    merged["envVars"] = descriptor_env_vars(layout, variant, shared, own, merged["envVars"], shared_source)
    merged["variant"] = {
        "name": variant.name,
        "pythonVersion": variant.python_version,
        "suffix": variant.suffix,
    }
    return merged, unused_rule_warnings(own, merged, variant_source)


def descriptor_env_vars(
    layout: Layout, variant: Variant, shared: Any, own: Any, merged: list[str], shared_source: str
) -> list[str]:
    """The config's envVars, then those the variant's package.json keeps (see core.env_vars)."""
    package_path = layout.package_json(variant)
    package_source = relative(layout, package_path)
    present = package_path.is_file()  # needed to pack; locking and selecting go without it
    package = read_document(layout, package_path) if present else {}
    from_package, problems = package_env_vars(package, package_source)
    problems = (identity_problems(package, package_source) if present else []) + problems
    config_files = (shared_source, relative(layout, layout.variant_config(variant)))
    union, conflicts = union_env_vars(
        [*config_env_var_sources(shared, own, merged, config_files), (package_source, from_package)]
    )
    if problems or conflicts:
        raise ConfigError([*problems, *conflicts])
    return union


def write_merged_config(layout: Layout, variant: Variant) -> None:
    """The config stage: validate and merge, then write build/config.json atomically."""
    target = layout.merged_config(variant)
    target.unlink(missing_ok=True)
    merged, warnings = merged_config(layout, variant)
    for warning in warnings:
        print(f"warning: {warning}", file=sys.stderr)
    files.write_json_atomic(target, merged)
    own = layout.variant_config(variant)
    origin = f"and {relative(layout, own)}" if own.is_file() else f"alone ({relative(layout, own)} does not exist)"
    print(f"{relative(layout, target)}: merged from configs/shared-config.json {origin}")


def configured_registries(layout: Layout) -> list[str]:
    """Every registries.additional URL of the shared config and of every variant's config.json."""
    found: list[str] = []
    for path in [layout.shared_config, *sorted(layout.root.glob("python-*/config.json"))]:
        document = files.read_json_if_exists(path)
        registries = document.get("registries", {}) if isinstance(document, dict) else {}
        found += [url for url in registries.get("additional", []) if isinstance(url, str)]
    return list(dict.fromkeys(found))


def read_merged_config(layout: Layout, variant: Variant) -> dict[str, Any]:
    return dict(variant_config(layout, variant).merged)


def variant_platforms(layout: Layout, merged: Mapping[str, Any]) -> dict[str, platforms.Platform]:
    """configs/platforms.json with the floors the variant raises (packages.platformSpecific.<p>.floor)."""
    return with_floors(platforms.load(layout.platforms), merged["packages"])


@dataclass(frozen=True)
class VariantConfig:
    """What every stage of a variant reads of its config, read once: the merged config, the
    typed build settings and the platform table at the variant's floors."""

    merged: Mapping[str, Any]  # build/config.json (read it, never change it)
    settings: Settings
    platforms: Mapping[str, platforms.Platform]

    @property
    def packages(self) -> Mapping[str, Any]:
        return self.merged["packages"]


def variant_config(layout: Layout, variant: Variant) -> VariantConfig:
    """The variant's config; read again only when build/config.json or platforms.json changed."""
    paths = (layout.merged_config(variant), layout.platforms)
    return cached_config(layout, variant, tuple((p.stat().st_mtime_ns, p.stat().st_size) for p in paths))


@lru_cache(maxsize=64)
def cached_config(layout: Layout, variant: Variant, stamps: tuple[tuple[int, int], ...]) -> VariantConfig:
    merged = files.read_json(layout.merged_config(variant))
    return VariantConfig(merged, Settings.from_merged(merged), variant_platforms(layout, merged))
