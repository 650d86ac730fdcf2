"""Read, validate, merge and write a variant's configuration (the config stage's I/O)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from tasks.adapters import files
from tasks.core import jsonio
from tasks.core.layout import Layout, Variant
from tasks.core.merge import merge
from tasks.core.validate import unused_rule_warnings, validate
from tasks.errors import ConfigError


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

    Raises ConfigError listing every problem of both files at once.
    """
    schema = read_document(layout, layout.schema)
    sources = {relative(layout, p): p for p in (layout.shared_config, layout.variant_config(variant))}
    docs: dict[str, Any] = {}
    problems: list[str] = []
    for source, path in sources.items():
        try:
            docs[source] = read_document(layout, path)
        except ConfigError as exc:
            problems += exc.problems
            continue
        problems += validate(docs[source], source, schema)
    if problems:
        raise ConfigError(problems)
    (_, shared), (variant_source, own) = docs.items()
    merged = merge(shared, own)
    merged["variant"] = {
        "name": variant.name,
        "pythonVersion": variant.python_version,
        "suffix": variant.suffix,
    }
    return merged, unused_rule_warnings(own, merged, variant_source)


def write_merged_config(layout: Layout, variant: Variant) -> None:
    """The config stage: validate and merge, then write build/config.json atomically."""
    target = layout.merged_config(variant)
    target.unlink(missing_ok=True)
    merged, warnings = merged_config(layout, variant)
    for warning in warnings:
        print(f"warning: {warning}", file=sys.stderr)
    files.write_json_atomic(target, merged)
    print(
        f"{relative(layout, target)}: merged from configs/shared-config.json and "
        f"{relative(layout, layout.variant_config(variant))}"
    )


def read_merged_config(layout: Layout, variant: Variant) -> dict[str, Any]:
    data: dict[str, Any] = files.read_json(layout.merged_config(variant))
    return data
