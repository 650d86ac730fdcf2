"""The per-cell build log (``build.enableLogging``): every stage of a cell writes into
``python-<variant>/build/<platform>/build.log`` what it prints, its details, and how it ended."""

from __future__ import annotations

import io
import sys
import time
from collections.abc import Callable
from contextlib import redirect_stdout
from functools import wraps
from pathlib import Path
from typing import Any, TextIO, TypeVar

from tasks.model.layout import Layout, Variant
from tasks.model.settings import Settings
from tasks.plumbing import files

R = TypeVar("R")


class CellLog:
    """Details (and, through :func:`logged_stage`, everything a stage prints), each line with a
    timestamp, appended to build.log when enabled; nothing otherwise."""

    def __init__(self, path: Path, enabled: bool) -> None:
        self.path = path if enabled else None
        if self.path is not None:
            self.path.parent.mkdir(parents=True, exist_ok=True)

    @classmethod
    def of(cls, layout: Layout, variant: Variant, platform: str) -> CellLog:
        merged = files.read_json_if_exists(layout.merged_config(variant)) or {}
        return cls(layout.build_log(variant, platform), Settings.from_merged(merged).enable_logging)

    def detail(self, message: str) -> None:
        if self.path is not None:
            stamp = time.strftime("%Y-%m-%dT%H:%M:%S")
            with self.path.open("a", encoding="utf-8") as log:
                log.writelines(f"{stamp} {line}\n" for line in message.splitlines() or [""])


class Tee(io.TextIOBase):
    """The console, with every complete line also written to the cell's log."""

    def __init__(self, console: TextIO, log: CellLog) -> None:
        self.console, self.log, self.pending = console, log, ""

    def write(self, text: str) -> int:
        self.console.write(text)
        self.pending += text
        *lines, self.pending = self.pending.split("\n")
        for line in lines:
            self.log.detail(line)
        return len(text)

    def flush(self) -> None:
        self.console.flush()

    def end_line(self) -> None:
        """Log what was printed without a final newline."""
        if self.pending:
            self.log.detail(self.pending)
            self.pending = ""


def logged_stage(stage: str) -> Callable[[Callable[..., R]], Callable[..., R]]:
    """A cell stage ``function(layout, variant, platform, …)`` whose output and outcome go to
    the cell's build.log too, when the variant enables logging."""

    def decorate(function: Callable[..., R]) -> Callable[..., R]:
        @wraps(function)
        def run(layout: Layout, variant: Variant, platform: str, *args: Any, **kwargs: Any) -> R:
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
