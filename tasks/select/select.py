"""The select stage: one artifact per package for one cell, from the variant's universal lock."""

from __future__ import annotations

from typing import Any

from packaging.pylock import PylockValidationError
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from tasks.config.merged import VariantConfig, relative, variant_config
from tasks.config.policy import policy_for
from tasks.errors import LockError
from tasks.lock.audit import audit
from tasks.lock.lock import read_lock
from tasks.lock.resolver_input import environment_marker, resolver_input
from tasks.model.layout import Layout, Variant
from tasks.plumbing import files
from tasks.plumbing.logs import CellLog
from tasks.plumbing.stage import cell_stage
from tasks.select import outputs as cell_outputs
from tasks.select.selection import select


@cell_stage("select")
def select_cell(layout: Layout, variant: Variant, platform_key: str) -> None:
    """Choose one artifact per package for one platform and write the cell's lock,
    requirements.txt and report.json."""
    config = variant_config(layout, variant)
    merged, platform = config.merged, config.platforms[platform_key]
    for path in (
        layout.cell_lock(variant, platform_key),
        layout.cell_requirements(variant, platform_key),
        layout.cell_report(variant, platform_key),
    ):
        path.unlink(missing_ok=True)
    universal = read_lock(layout.lock(variant))
    trust(layout, variant, universal, config)
    try:
        selection = select(universal, platform, variant.python_version, policy_for(merged["packages"], platform_key))
    except PylockValidationError as error:
        raise LockError(f"{relative(layout, layout.lock(variant))}: {error}; {REDO.format(variant.name)}") from None
    marker = environment_marker(platform, variant.python_version)
    cell_lock = cell_outputs.cell_lock(universal, selection, marker)
    runenv = universal.get("tool", {}).get("runenv", {})
    notes = [
        *runenv.get("notes", []),
        *(f"registry {url} was left out when locking" for url in runenv.get("left-out-registries", [])),
    ]
    files.write_text_atomic(
        layout.cell_lock(variant, platform_key), cell_outputs.render_cell_lock(cell_lock, selection)
    )
    files.write_text_atomic(
        layout.cell_requirements(variant, platform_key),
        cell_outputs.requirements_txt(selection, merged["packages"]["noDeps"]),
    )
    files.write_json_atomic(
        layout.cell_report(variant, platform_key),
        cell_outputs.report(selection, variant.name, runenv.get("input-hash"), notes).to_json(),
    )
    log = CellLog.of(layout, variant, platform_key)
    for line in cell_outputs.summary(selection, variant.name) + [f"  note: {n}" for n in notes]:
        print(line)
    for artifact in selection.selected:
        log.detail(f"select {artifact.name} {artifact.version}: {artifact.kind} {artifact.file}")


REDO = "the lock does not match the config (edited by hand?): run doit upgrade:{} to re-resolve it"


def trust(layout: Layout, variant: Variant, universal: dict[str, Any], config: VariantConfig) -> None:
    """Refuse a lock whose entries do not parse, or that does not cover the config, one line each."""
    spec = resolver_input(config.merged, config.platforms, {})
    sources = dict(spec.sources)
    keyed = [
        (sources.get(canonicalize_name(Requirement(t).name), "packages.dependencies"), t) for t in spec.requirements
    ]
    source = relative(layout, layout.lock(variant))
    problems = audit(universal, source, keyed, config.platforms, variant.python_version)
    if problems:
        raise LockError("\n".join(f"{problem}; {REDO.format(variant.name)}" for problem in problems))
