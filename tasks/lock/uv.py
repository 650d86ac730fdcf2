"""Running ``uv pip compile`` for a variant, and the small helpers every uv call shares.

Every package that no source rule covers is resolved ``--only-binary``: nothing is built on
the host to learn its metadata, and uv picks, for each target environment, a version that has
a wheel there. Builds a source rule allows run on an interpreter of the variant's minor
version, or not at all: :class:`Uv` looks for that interpreter beside the first resolution.
"""

from __future__ import annotations

import os
import re
import sys
from collections.abc import Callable, Iterable, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from itertools import pairwise
from pathlib import Path
from typing import TypeVar

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from tasks.errors import LockError
from tasks.lock import build_python, wheel_coverage
from tasks.lock.resolver import default_index_args
from tasks.lock.resolver_input import ResolverInput
from tasks.model import toml as tomllib
from tasks.model.platforms import Platform
from tasks.model.requirements import vcs_url
from tasks.plumbing.commands import run_command, uv_binary

EVERY_PACKAGE = ":all:"
T = TypeVar("T")
R = TypeVar("R")


class PinWithoutWheel(LockError):
    """A top-level ``==`` pin has no wheel for a platform where strictMissing holds."""


class Uv:
    """``uv pip compile`` with the variant's timeout, on the interpreter builds run on."""

    def __init__(self, timeout: float) -> None:
        self.timeout = timeout
        # builds run on the variant's minor version, or not at all; the interpreter is looked
        # for beside the first resolution, which is --only-binary :all: unless a source rule
        # applies to a package known beforehand
        self.python_lookup: Future[str | None] | None = None

    def look_for_build_python(self, spec: ResolverInput) -> None:
        """Start looking for the interpreter builds run on, when the config allows any build."""
        may_build = spec.source_allowed_anywhere or any(vcs_url(text) for text in spec.requirements)
        if may_build:
            uv_binary()  # found here first: the lookup thread and the resolution both need it
            pool = ThreadPoolExecutor(max_workers=1)
            self.python_lookup = pool.submit(build_python.build_python, spec.python_version)
            pool.shutdown(wait=False)  # the lookup runs on; `python` waits for it when needed

    @property
    def python(self) -> str | None:
        """The interpreter sdist builds run on, or None: builds are off."""
        return self.python_lookup.result() if self.python_lookup is not None else None

    def compile(self, args: list[str], cwd: Path, step: str, env: Mapping[str, str] | None = None) -> str:
        """uv's output; a failure is a LockError holding uv's whole message."""
        binary_only = any(a == "--only-binary" and b == EVERY_PACKAGE for a, b in pairwise(args))
        python = sys.executable if binary_only else self.python or sys.executable
        command = [uv_binary(), "pip", "compile", *args, "--python", python, "--no-python-downloads"]
        done = run_command(
            [*command, *default_index_args()], step, self.timeout, cwd=cwd, env={**os.environ, **(env or {})},
            check=False, error=LockError, described="uv pip compile",
        )  # fmt: skip
        if done.returncode != 0:
            raise LockError(f"{step}: uv pip compile failed:\n{done.stderr.strip()}")
        return str(done.stdout)


def in_parallel(function: Callable[[T], R], items: list[T]) -> list[R]:
    """*function* over *items* on threads (each runs a uv process), results in order."""
    if len(items) < 2:
        return [function(item) for item in items]
    with ThreadPoolExecutor(max_workers=min(len(items), 8)) as pool:
        return list(pool.map(function, items))


def probe_args(spec: ResolverInput, platform: Platform) -> list[str]:
    """uv arguments that ask which wheel one requirement has for *platform* (its floor)."""
    return [
        "requirements.in",
        "--no-deps",
        "--only-binary",
        EVERY_PACKAGE,
        "--no-header",
        "-q",
        "--python-platform",
        platform.uv_platform,
        "--python-version",
        spec.python_version,
        *(arg for url in spec.index_plan.indexes for arg in ("--index", url)),
    ]


def top_level_pins(requirements: Iterable[str], name: str) -> list[str]:
    return [t for t in requirements if canonicalize_name(Requirement(t).name) == name and wheel_coverage.exact_pin(t)]


def names_in(lock_path: Path) -> set[str]:
    if not lock_path.is_file():
        return set()
    try:
        return {canonicalize_name(p["name"]) for p in tomllib.loads(lock_path.read_text()).get("packages", [])}
    except (tomllib.TOMLDecodeError, KeyError):
        return set()


def cause_of(text: str) -> str:
    """uv's first cause line, without its marker expressions (``pkg{platform_machine != …}``):
    they run to hundreds of characters; the full text goes to the lock's log."""
    lines = text.splitlines()
    cause = next((line.strip() for line in lines if "cause" in line), lines[0] if lines else text)
    return re.sub(r"\{[^{}]*\}", "", cause)
