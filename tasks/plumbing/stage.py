"""What every stage of a cell shares: stale records invalidated while it runs, and its log."""

from __future__ import annotations

import sys
from collections.abc import Callable
from contextlib import redirect_stdout
from functools import wraps
from typing import Any, TypeVar

from tasks.model.layout import Layout, Variant
from tasks.plumbing.logs import CellLog, Tee

R = TypeVar("R")
OWN_RECORDS = ("check", "pack")


def cell_stage(stage: str) -> Callable[[Callable[..., R]], Callable[..., R]]:
    """A cell stage ``function(layout, variant, platform, …)``: while it runs, the records a
    failed rebuild would leave stale (archive.json and check.json, which catalogue and publish
    read) are gone; its output and outcome go to the cell's build.log too, when enabled."""

    def decorate(function: Callable[..., R]) -> Callable[..., R]:
        @wraps(function)
        def run(layout: Layout, variant: Variant, platform: str, *args: Any, **kwargs: Any) -> R:
            if stage not in OWN_RECORDS:  # check and pack, which run side by side, each drop only their own
                layout.archive_record(variant, platform).unlink(missing_ok=True)
                layout.check_report(variant, platform).unlink(missing_ok=True)
            log = CellLog.of(layout, variant, platform)
            if log.path is None:
                return function(layout, variant, platform, *args, **kwargs)
            log.detail(f"== {stage} {variant.cell(platform)}")
            tee = Tee(sys.stdout, log)
            try:
                with redirect_stdout(tee):
                    result = function(layout, variant, platform, *args, **kwargs)
            except BaseException as error:
                tee.end_line()
                log.detail(f"{stage} failed: {error}" if str(error) else f"{stage} stopped ({type(error).__name__})")
                raise
            tee.end_line()
            log.detail(f"{stage} done")
            return result

        return run

    return decorate
