"""What a lean base CPython leaves out. Pure: relative paths in, the ones to remove out.

A CPython copied from a machine (pyenv, a distribution) carries its test suite, IDLE, Tk,
a static libpython for embedding and whatever the machine installed into site-packages,
such as a ``.pth`` file that runs at every start. An environment needs none of them:
``build.prune`` (on by default) removes the first four; site-packages is always emptied
except for pip, which consumers use to install the wheelhouse.
"""

from __future__ import annotations

from collections.abc import Iterable
from fnmatch import fnmatch
from pathlib import PurePosixPath

PRUNED_DIRECTORIES = ("test", "idlelib", "tkinter", "turtledemo")
STATIC_LIBPYTHON = "config-*/libpython*.a"
KEPT_IN_SITE_PACKAGES = ("pip", "pip-*.dist-info")


def stdlib_dir(minor: str, windows: bool) -> str:
    return "Lib" if windows else f"lib/python{minor}"


def pruned(paths: Iterable[str], minor: str, windows: bool) -> list[str]:
    """The top-most paths that ``build.prune`` removes: under the standard library, and IDLE's
    launchers in bin/."""
    stdlib = stdlib_dir(minor, windows)
    found = []
    for path in sorted(paths):
        relative = PurePosixPath(path)
        if not windows and relative.parent.as_posix() == "bin" and relative.name.startswith("idle"):
            found.append(path)  # IDLE's launchers go with idlelib
            continue
        try:
            inside = relative.relative_to(stdlib)
        except ValueError:
            continue
        directory = len(inside.parts) == 1 and inside.parts[0] in PRUNED_DIRECTORIES
        if directory or (len(inside.parts) == 2 and fnmatch(inside.as_posix(), STATIC_LIBPYTHON)):
            found.append(path)
    return found


def site_packages_leftovers(entries: Iterable[str]) -> list[str]:
    """Names in the base's site-packages other than pip."""
    return sorted(n for n in entries if not any(fnmatch(n, keep) for keep in KEPT_IN_SITE_PACKAGES))
