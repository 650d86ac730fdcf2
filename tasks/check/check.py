"""The check stage: static verification on every platform, and on the host the import check.

``check.json`` says ``passed`` (imported on this host), ``verified-static`` (a foreign cell
whose static checks passed) or ``failed``; it is written in every case, so that the
catalogue can refuse a failed cell by name. Every failure class has its own line.
"""

from __future__ import annotations

import json
import os
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from tasks.check.failures import CLASS_TITLES, WARNING_CLASSES, Failure, classify, whitelisted
from tasks.check.imports import import_everything, installed_venv
from tasks.check.static import static_check, static_failures
from tasks.config.merged import relative, variant_config
from tasks.errors import BuildError
from tasks.model.envlayout import EnvLayout
from tasks.model.layout import Layout, Variant
from tasks.model.records import CheckRecord
from tasks.model.settings import Settings
from tasks.plumbing import files
from tasks.plumbing.host import is_host, venv_interpreter
from tasks.plumbing.stage import cell_stage

__all__ = ["check_cell", "judge", "snippet", "venv_interpreter"]


def judge(
    found: dict[str, list[Failure]], facts: dict[str, Any], whitelist: dict[str, dict[str, str]]
) -> dict[str, Any]:
    """Classify every failure; genuine ones fail unless the whitelist expects them."""
    provided, optional = set(facts["provided"]), dict(facts["optional"])
    warnings: dict[str, list[str]] = {kind: [] for kind in WARNING_CLASSES}
    failures, used = [], set()
    for wheel, failed in sorted(found.items()):
        for failure in (classify(f, provided, optional) for f in failed):
            if failure.kind != "genuine":
                warnings[failure.kind].append(failure.line())
            elif key := whitelisted(whitelist, wheel, failure):
                used.add(key)
            else:
                failures.append({"wheel": wheel, "module": failure.module, "error": failure.error})
    unused = sorted(f"{p}/{m}" for p, mods in whitelist.items() for m in mods if f"{p}/{m}" not in used)
    return {"failures": failures, "warnings": warnings, "whitelisted": sorted(used), "unusedWhitelist": unused}


def snippet(failures: list[dict[str, str]]) -> str:
    entries: dict[str, dict[str, str]] = {}
    for failure in failures:
        entries.setdefault(failure["wheel"], {})[failure["module"]] = failure["error"].split(":")[0]
    return json.dumps(entries, indent=2)


def check_jobs(settings: Settings) -> int:
    """build.checkJobs, or the core count: 1 imports and reads one thing at a time."""
    return settings.check_jobs or os.cpu_count() or 2


def import_check(layout: Layout, variant: Variant, platform_key: str, timeout: float) -> dict[str, Any]:
    config = variant_config(layout, variant)
    merged, platform = config.merged, config.platforms[platform_key]
    root = layout.pydist(variant, platform_key)
    python = installed_venv(
        root / EnvLayout(platform, variant.python_version).python,
        layout.cell_dir(variant, platform_key) / "check-venv",
        layout.env_manifest(variant, platform_key),
        bool(merged["packages"]["noDeps"]),
        timeout,
    )
    wheels = sorted((root / "packages").glob("*.whl"))
    facts, found = import_everything(python, wheels, timeout, check_jobs(config.settings))
    whitelist_path = layout.whitelist(platform_key)
    whitelist = files.read_json(whitelist_path) if whitelist_path.is_file() else {}
    verdict = judge(found, facts, whitelist)
    for unused in verdict["unusedWhitelist"]:
        print(f"{relative(layout, whitelist_path)}: unused whitelist entry {unused}")
    return {"modules": facts["modules"], "wheels": len(wheels), **verdict}


def summary_lines(cell: str, report: dict[str, Any]) -> list[str]:
    lines = []
    static = report["static"]
    titles = (
        ("unresolved", "unresolved library (warning)"),
        ("driver", "needs a GPU driver (warning)"),
        ("offSearchPath", "library off the search path (warning)"),
    )
    for key, title in titles:
        lines += [f"  {title}: {item}" for item in static[key]]
    for kind, items in report.get("imports", {}).get("warnings", {}).items():
        lines += [f"  {CLASS_TITLES[kind]} (warning): {item.split(': ', 1)[1]}" for item in items]
    return [f"{cell}: check {report['status']}: {static['binaries']} native binaries linked", *lines]


def failure_text(cell: str, report: dict[str, Any], whitelist: Path) -> str:
    lines = [f"  - {problem}" for problem in static_failures(report["static"])]
    imports = report.get("imports", {})
    lines += [
        f"  - genuine failure: {f['wheel']}: import {f['module']}: {f['error']}" for f in imports.get("failures", [])
    ]
    text = f"{cell}: the check failed ({len(lines)} problems):\n" + "\n".join(lines)
    if imports.get("failures"):
        text += f"\nIf expected, add to {whitelist}:\n{snippet(imports['failures'])}"
    return text


@cell_stage("check")
def check_cell(layout: Layout, variant: Variant, platform_key: str) -> None:
    config = variant_config(layout, variant)
    platform, timeout = config.platforms[platform_key], config.settings.timeout  # at the variant's floor
    report_path = layout.check_report(variant, platform_key)
    report_path.unlink(missing_ok=True)
    with ThreadPoolExecutor(max_workers=1) as background:  # the static check overlaps the imports
        static = background.submit(static_check, layout, variant, platform, timeout, check_jobs(config.settings))
        imports = import_check(layout, variant, platform_key, timeout) if is_host(platform) else None
        found = static.result()
    failed = static_failures(found) or (imports or {}).get("failures")
    status = "failed" if failed else ("passed" if imports is not None else "verified-static")
    record = CheckRecord(status, "imported" if imports is not None else "static", found, imports)
    report = record.to_json()
    files.write_json_atomic(report_path, report)
    cell = variant.cell(platform_key)
    for line in summary_lines(cell, report):
        print(line)
    if failed:
        raise BuildError(failure_text(cell, report, layout.whitelist(platform_key)))
