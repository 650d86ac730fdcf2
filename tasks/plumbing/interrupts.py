"""Ctrl-C: one line, exit status 130, the terminal restored, no temp files left.

Every stage removes its temp files in ``finally`` blocks as the interrupt unwinds, and the
progress bar stops there too. What remains is doit's traceback; this replaces it, for an
interrupt only, with one line (and shows the cursor again should a bar have hidden it).
"""

from __future__ import annotations

import signal
import sys
from types import FrameType, TracebackType

SHOW_CURSOR = "\x1b[?25h"


def one_line_for_interrupts(kind: type[BaseException], value: BaseException, traceback: TracebackType | None) -> None:
    if issubclass(kind, KeyboardInterrupt):
        if sys.stderr.isatty():
            sys.stderr.write(SHOW_CURSOR)
        sys.stderr.write("runenv: interrupted; temp files removed, finished outputs kept\n")
        return
    sys.__excepthook__(kind, value, traceback)


def unwind_once(signum: int, frame: FrameType | None) -> None:
    """Ctrl-C, or SIGTERM (``doit -n N`` ends its workers with it once interrupted): unwind as
    for Ctrl-C, so that ``finally`` blocks remove temp files; a second signal while they run is
    ignored, or it would cut them short (the terminal's SIGINT and doit's SIGTERM both reach
    a worker)."""
    signal.signal(signal.SIGINT, ignore)  # a Python handler: a signal already on its way finds it
    signal.signal(signal.SIGTERM, ignore)  # (SIG_IGN there makes Python raise "ignored due to race")
    raise KeyboardInterrupt


def ignore(signum: int, frame: FrameType | None) -> None:
    """Further interrupts while the first one unwinds: nothing to do."""


def report_interrupts_in_one_line() -> None:
    sys.excepthook = one_line_for_interrupts
    if signal.getsignal(signal.SIGINT) is signal.default_int_handler:  # not where SIGINT is ignored
        signal.signal(signal.SIGINT, unwind_once)
    signal.signal(signal.SIGTERM, unwind_once)
