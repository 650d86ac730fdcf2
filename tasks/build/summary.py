"""What `doit build` prints for each finished cell: packages, archive, and what it lacks."""

from __future__ import annotations

from tasks.model.layout import Layout, Variant
from tasks.model.records import CheckRecord, SelectReport
from tasks.plumbing import files
from tasks.select.outputs import missing_lines


def print_cell_summary(layout: Layout, variant: Variant, platform: str) -> None:
    """One line for the cell, then every top-level dependency it ships without and every warning."""
    report = SelectReport.from_json(files.read_json(layout.cell_report(variant, platform)))
    check = CheckRecord.from_json(files.read_json(layout.check_report(variant, platform)))
    cell = variant.cell(platform)
    print(f"{cell}: {len(report.selected)} packages, {len(report.skipped)} left out, check {check.status}")
    for line in missing_lines(cell, report.missing_top_level):
        print(line)
    for warning in report.warnings:
        print(f"  {warning}")
