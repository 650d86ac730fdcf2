"""The per-cell build log (``build.enableLogging``) beside the console summary."""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import TextIO


class CellLog:
    """Summary lines go to the console; every line, with a timestamp, to build.log when enabled."""

    def __init__(self, path: Path, enabled: bool, console: TextIO | None = None) -> None:
        self.path = path if enabled else None
        self.console = console or sys.stdout
        if self.path is not None:
            self.path.parent.mkdir(parents=True, exist_ok=True)

    def detail(self, message: str) -> None:
        if self.path is not None:
            stamp = time.strftime("%Y-%m-%dT%H:%M:%S")
            with self.path.open("a", encoding="utf-8") as log:
                log.write(f"{stamp} {message}\n")

    def summary(self, message: str) -> None:
        print(message, file=self.console, flush=True)
        self.detail(message)
