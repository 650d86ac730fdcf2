"""What every task creator shares: the checkout's layout, its variants and the platforms.

Only cheap reads happen here (a directory listing, two small JSON files): `doit list`
must stay fast, so no network, subprocess or heavy import.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterator
from functools import cache, wraps
from pathlib import Path
from typing import Any

from tasks.model.layout import Layout, Variant
from tasks.model.platforms import PLATFORM_KEYS
from tasks.plumbing.workspace import discover

# doit loads dodo.py from the directory it runs in (it changes into the dodo file's directory
# first): that is the checkout to build, whichever copy of runenv's code is imported (an
# installed runenv serves any checkout). Paths are declared relative to it, so that
# `doit python-3.12.10/build/config.json` names the same target the task declares.
ROOT = Path.cwd().resolve()
LAYOUT = Layout(Path("."))


def removes_targets(creator: Callable[[], Iterator[dict[str, Any]]]) -> Callable[[], Iterator[dict[str, Any]]]:
    """A creator whose ``clean: True`` tasks remove their targets with one line per removed
    path (doit's own clean prints "removing file" or "cannot remove" lines)."""

    @wraps(creator)
    def described() -> Iterator[dict[str, Any]]:
        for task in creator():
            if task.get("clean") is True:
                task["clean"] = [(remove_paths, [list(task["targets"])])]
            yield task

    return described


def remove_paths(paths: list[Path]) -> None:
    from tasks.plumbing.files import remove_paths as remove

    remove(paths)


@cache
def variants() -> tuple[Variant, ...]:
    return tuple(discover(ROOT))


def cells() -> list[tuple[Variant, str]]:
    """Every variant × platform, variants in name order, platforms in PLATFORM_KEYS order."""
    return [(variant, platform) for variant in variants() for platform in PLATFORM_KEYS]


@cache
def pinned_python_versions() -> frozenset[str]:
    """CPython versions with a pinned interpreter in configs/pythons.json or $RUNENV_PYTHONS."""
    versions: set[str] = set()
    extra = os.environ.get("RUNENV_PYTHONS")
    for path in [LAYOUT.pythons, *([Path(extra)] if extra else [])]:
        try:
            versions.update(json.loads(path.read_text(encoding="utf-8")).get("versions", {}))
        except (OSError, ValueError, AttributeError):
            continue
    return frozenset(versions)


def unpinned_note(variant: Variant) -> str:
    if variant.python_version in pinned_python_versions():
        return ""
    return f" [no pinned CPython {variant.python_version}: add it to configs/pythons.json]"


@cache
def raw_sign_section(variant: Variant) -> dict[str, Any]:
    """``build.sign`` as the merge gives it (the variant's over the shared config's, whole),
    read cheaply at load; {} if unreadable (config validation reports a malformed one)."""
    section: dict[str, Any] = {}
    for path in (LAYOUT.shared_config, LAYOUT.variant_config(variant)):
        try:
            build = json.loads(path.read_text(encoding="utf-8")).get("build", {})
        except (OSError, ValueError, AttributeError, RecursionError):  # reported by config
            continue
        if isinstance(build, dict) and isinstance(build.get("sign"), dict):
            section = build["sign"]
    return section


def signed_cell(variant: Variant, platform: str) -> bool:
    """Whether a cell is signed: a macOS or Windows cell whose OS build.sign names, or whose
    credential variable is set (config validation reports a malformed build.sign)."""
    from tasks.model.signing import SignConfig, signing_wanted

    config = SignConfig.from_build({"sign": raw_sign_section(variant)})
    return signing_wanted(platform.split("-")[0], config, os.environ)
