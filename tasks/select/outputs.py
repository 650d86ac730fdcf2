"""What the select stage writes for one cell, rendered from a Selection. Pure."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from tasks.lock import lockfile
from tasks.model.records import LeftOut, Selected, SelectReport
from tasks.select.selection import Selection

# Placeholder for the hash of a source archive made from a VCS commit at fetch time.
VCS_HASH = "made-from-vcs-at-fetch"


def artifact_table(artifact: Selected) -> dict[str, Any]:
    table: dict[str, Any] = {"name": artifact.file, "url": artifact.url}
    if artifact.size is not None:
        table["size"] = artifact.size
    table["hashes"] = {"sha256": artifact.sha256}
    return table


def cell_lock(universal: Mapping[str, Any], selection: Selection, environment_marker: str) -> dict[str, Any]:
    """A valid PEP 751 lock holding exactly the chosen artifact of each selected package."""
    by_name = {p["name"]: p for p in universal.get("packages", [])}
    selected = {a.name for a in selection.selected}
    packages = []
    for artifact in selection.selected:
        source = by_name.get(artifact.name, {})
        package: dict[str, Any] = {"name": artifact.name, "version": artifact.version}
        if "index" in source:
            package["index"] = source["index"]
        dependencies = [d for d in source.get("dependencies", []) if d["name"] in selected]
        if dependencies:
            package["dependencies"] = dependencies
        if artifact.kind == "wheel":
            package["wheels"] = [artifact_table(artifact)]
        elif artifact.kind == "vcs":
            package["vcs"] = source["vcs"]
        else:
            package["sdist"] = artifact_table(artifact)
        packages.append(package)
    runenv = universal.get("tool", {}).get("runenv", {})
    return {
        "lock-version": "1.0",
        "environments": [environment_marker],
        "requires-python": universal.get("requires-python"),
        "created-by": "runenv",
        "packages": packages,
        "tool": {
            "runenv": {
                "variant": runenv.get("variant"),
                "platform": selection.platform,
                "input-hash": runenv.get("input-hash"),
                "excluded": [{"name": e.name, "version": e.version, "reason": e.reason} for e in selection.excluded],
            }
        },
    }


def render_cell_lock(lock: Mapping[str, Any], selection: Selection) -> str:
    header = [f" runenv: {selection.platform} lock, selected from the variant's universal pylock.toml"]
    header += [f" excluded: {e.name} {e.version}: {e.reason}" for e in selection.excluded] or [" excluded: none"]
    return lockfile.render(lock, header)


def requirements_txt(selection: Selection, no_deps: list[str]) -> str:
    lines = [
        f"# runenv: offline requirements for {selection.platform}; install with",
        "#   pip install --no-index --find-links <env>/packages -r <env>/packages/requirements.txt",
    ]
    if no_deps:
        lines.append(f"# and add --no-deps: noDeps packages ({', '.join(no_deps)}) come without their dependencies")
    lines += [f"# excluded: {e.name} {e.version}: {e.reason}" for e in selection.excluded]
    for artifact in selection.selected:
        lines.append(f"{artifact.name}=={artifact.version} \\\n    --hash=sha256:{artifact.sha256 or VCS_HASH}")
    return "\n".join(lines) + "\n"


def pin_source_archives(requirements: str, digests: Mapping[str, str]) -> str:
    """requirements.txt with the hash of each source archive the fetch stage made from a VCS commit."""
    for name, digest in digests.items():
        line = re.compile(rf"^({re.escape(name)}==\S+ \\\n\s+--hash=sha256:){re.escape(VCS_HASH)}$", re.MULTILINE)
        requirements = line.sub(rf"\g<1>{digest}", requirements)
    return requirements


def missing_lines(cell: str, missing: tuple[LeftOut, ...]) -> list[str]:
    """Console lines for top-level dependencies a cell ships without."""
    return [
        f"  MISSING top-level dependency {' '.join(filter(None, (m.name, m.version)))} on {cell}: "
        f"{m.reason.removeprefix('missing: ')}"
        for m in missing
    ]


def report(selection: Selection, variant: str, input_hash: str | None, notes: list[str]) -> SelectReport:
    return SelectReport(
        variant,
        selection.platform,
        input_hash,
        selection.selected,
        selection.excluded,
        selection.missing_top_level,
        selection.warnings,
        tuple(notes),
    )


def summary(selection: Selection, variant: str) -> list[str]:
    sources = sum(a.kind != "wheel" for a in selection.selected)
    lines = [
        f"{variant}-{selection.platform}: {len(selection.selected)} packages selected ({sources} as source), "
        f"{len(selection.excluded)} skipped"
    ]
    lines += [f"  skipped {e.name} {e.version}: {e.reason}" for e in selection.excluded]
    cell = f"{variant}-{selection.platform}"
    return lines + missing_lines(cell, selection.missing_top_level) + list(selection.warnings)
