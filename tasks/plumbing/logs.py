"""The per-cell build log (``build.enableLogging``): every stage of a cell writes into
``python-<variant>/build/<platform>/build.log`` what it prints, its details, and how it ended
(through :func:`tasks.plumbing.stage.cell_stage`)."""

from __future__ import annotations

import io
import time
from pathlib import Path
from typing import TextIO

from tasks.model.layout import Layout, Variant
from tasks.model.settings import Settings
from tasks.plumbing import files


class CellLog:
    """Details (and, through ``cell_stage``, everything a stage prints), each line with a
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
