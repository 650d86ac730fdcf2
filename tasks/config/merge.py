"""Merge ``configs/shared-config.json`` with one ``python-<variant>/config.json``.

Pure: dicts in, a new dict out. The rules, one function each, are documented in the
README's merge table and tested rule by rule in ``tests/config/test_merge.py``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from packaging.utils import canonicalize_name

from tasks.model.requirements import normalise

Json = dict[str, Any]

PER_PLATFORM_RULES = ("skip", "forceSource", "buildWheel")
RESOLUTION_FLAGS = ("allowSourceAll", "strictMissing")
RESOLUTION_LISTS = ("allowSourceList", "forceNoBinaryList", "onlyBinaryList")


def unique(items: Iterable[Any]) -> list[Any]:
    """Items in first-seen order with repeats removed (items may be dicts)."""
    kept: list[Any] = []
    for item in items:
        if item not in kept:
            kept.append(item)
    return kept


def union_names(*lists: Iterable[str] | None) -> list[str]:
    """Union of package-name lists as PEP 503 canonical names, first-seen order."""
    return unique(canonicalize_name(name) for names in lists for name in names or [])


def merge_dependencies(shared: list[str] | None, variant: list[str] | None) -> list[str]:
    """The variant list replaces the shared list when present; bare VCS URLs become ``name @ url``."""
    return [normalise(text) for text in (variant if variant is not None else shared or [])]


def normalise_rule(rule: Any) -> Any:
    """One form per rule: a plain reason string becomes ``{"reason": …}``, and buildWheel's
    ``configSettings`` become an ordered list of ``"key=value"`` strings (keys may repeat)."""
    if isinstance(rule, str):
        return {"reason": rule}
    settings = rule.get("configSettings")
    if isinstance(settings, Mapping):
        return {**rule, "configSettings": [f"{key}={value}" for key, value in settings.items()]}
    return dict(rule)


def merge_overrides(shared: Mapping[str, str] | None, variant: Mapping[str, str] | None) -> Json:
    """Per package (canonical name), the variant's pin wins."""
    merged: Json = {}
    for source in (shared or {}, variant or {}):
        for name, version in source.items():
            merged[canonicalize_name(name)] = version
    return merged


def merge_per_platform(shared: Mapping[str, Any] | None, variant: Mapping[str, Any] | None) -> Json:
    """Merge {package: {platform: rule}} per package and per platform; a variant null cancels."""
    merged: dict[str, Json] = {}
    for source in (shared or {}, variant or {}):
        for name, platforms in source.items():
            rules = merged.setdefault(canonicalize_name(name), {})
            for platform, rule in platforms.items():
                if rule is None:
                    rules.pop(platform, None)
                else:
                    rules[platform] = normalise_rule(rule)
    return {name: rules for name, rules in merged.items() if rules}


def merge_resolution(shared: Mapping[str, Any] | None, variant: Mapping[str, Any] | None) -> Json:
    """Booleans: the variant overrides. Lists: union of canonical names."""
    shared, variant = shared or {}, variant or {}
    merged: Json = {}
    for flag in RESOLUTION_FLAGS:
        if flag in variant:
            merged[flag] = variant[flag]
        elif flag in shared:
            merged[flag] = shared[flag]
    for key in RESOLUTION_LISTS:
        if key in shared or key in variant:
            merged[key] = union_names(shared.get(key), variant.get(key))
    return merged


def merge_platform_specific(shared: Mapping[str, Any] | None, variant: Mapping[str, Any] | None) -> Json:
    """Per platform: dependencies and copyFiles appended and de-duplicated; resolution merged;
    the variant's floor replaces the shared one."""
    shared, variant = shared or {}, variant or {}
    merged: Json = {}
    for platform in unique([*shared, *variant]):
        ours, theirs = shared.get(platform, {}), variant.get(platform, {})
        entry: Json = {}
        if "dependencies" in ours or "dependencies" in theirs:
            texts = [*ours.get("dependencies", []), *theirs.get("dependencies", [])]
            entry["dependencies"] = unique(normalise(text) for text in texts)
        if "copyFiles" in ours or "copyFiles" in theirs:
            entry["copyFiles"] = unique([*ours.get("copyFiles", []), *theirs.get("copyFiles", [])])
        if "resolution" in ours or "resolution" in theirs:
            entry["resolution"] = merge_resolution(ours.get("resolution"), theirs.get("resolution"))
        if "floor" in ours or "floor" in theirs:
            entry["floor"] = theirs.get("floor", ours.get("floor"))
        merged[platform] = entry
    return merged


def merge_env_vars(shared: list[str] | None, variant: list[str] | None) -> list[str]:
    """NAME=value pairs; a variant pair replaces the shared pair of the same NAME in place."""
    by_name: dict[str, str] = {}
    for pair in [*(shared or []), *(variant or [])]:
        by_name[pair.split("=", 1)[0]] = pair
    return list(by_name.values())


def merge_packages(shared: Mapping[str, Any], variant: Mapping[str, Any]) -> Json:
    merged: Json = {
        "dependencies": merge_dependencies(shared.get("dependencies"), variant.get("dependencies")),
        "overrides": merge_overrides(shared.get("overrides"), variant.get("overrides")),
        "copyFiles": [*shared.get("copyFiles", []), *variant.get("copyFiles", [])],
        "noDeps": union_names(shared.get("noDeps"), variant.get("noDeps")),
        "resolution": merge_resolution(shared.get("resolution"), variant.get("resolution")),
        "platformSpecific": merge_platform_specific(shared.get("platformSpecific"), variant.get("platformSpecific")),
    }
    for rule in PER_PLATFORM_RULES:
        merged[rule] = merge_per_platform(shared.get(rule), variant.get(rule))
    return merged


def merge(shared: Mapping[str, Any], variant: Mapping[str, Any]) -> Json:
    """The merged configuration of one variant. ``$schema`` keys are not carried over."""
    shared_registries = shared.get("registries", {})
    variant_registries = variant.get("registries", {})
    return {
        "registries": {
            "additional": unique([*shared_registries.get("additional", []), *variant_registries.get("additional", [])])
        },
        "packages": merge_packages(shared.get("packages", {}), variant.get("packages", {})),
        "build": {**shared.get("build", {}), **variant.get("build", {})},
        "envVars": merge_env_vars(shared.get("envVars"), variant.get("envVars")),
    }
