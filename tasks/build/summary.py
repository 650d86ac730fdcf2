"""What `doit build` prints for each finished cell: packages, archive, and what it lacks."""

from __future__ import annotations

from tasks.model.layout import Layout, Variant
from tasks.plumbing import files
from tasks.select.outputs import missing_lines


def print_cell_summary(layout: Layout, variant: Variant, platform: str) -> None:
    """One line for the cell, then every top-level dependency it ships without and every warning."""
    report = files.read_json(layout.cell_report(variant, platform))
    check = files.read_json(layout.check_report(variant, platform))
    cell = variant.cell(platform)
    print(
        f"{cell}: {len(report['selected'])} packages, {len(report['skipped'])} left out, "
        f"check {check.get('status', 'not run')}"
    )
    for line in missing_lines(cell, report.get("missingTopLevel", [])):
        print(line)
    for warning in report.get("warnings", []):
        print(f"  {warning}")
