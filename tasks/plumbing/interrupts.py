"""Ctrl-C: one line, exit status 130, the terminal restored, no temp files left.

Every stage removes its temp files in ``finally`` blocks as the interrupt unwinds, and the
progress bar stops there too. What remains is doit's traceback; this replaces it, for an
interrupt only, with one line (and shows the cursor again should a bar have hidden it).
"""

from __future__ import annotations

import sys
from types import TracebackType

SHOW_CURSOR = "\x1b[?25h"


def one_line_for_interrupts(kind: type[BaseException], value: BaseException, traceback: TracebackType | None) -> None:
    if issubclass(kind, KeyboardInterrupt):
        if sys.stderr.isatty():
            sys.stderr.write(SHOW_CURSOR)
        sys.stderr.write("runenv: interrupted; temp files removed, finished outputs kept\n")
        return
    sys.__excepthook__(kind, value, traceback)


def report_interrupts_in_one_line() -> None:
    sys.excepthook = one_line_for_interrupts
