"""Running ``uv pip compile`` for a variant: the universal resolution and one platform's.

Every package that no source rule covers is resolved ``--only-binary``: nothing is built on
the host to learn its metadata, and uv picks, for each target environment, a version that has
a wheel there. Builds a source rule allows run on an interpreter of the variant's minor
version, or not at all.
"""

from __future__ import annotations

import os
import re
import shutil
import sys
from collections.abc import Callable, Iterable, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import replace
from itertools import pairwise
from pathlib import Path
from typing import Any, TypeVar

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from tasks.errors import LockError
from tasks.lock import build_python, wheel_coverage
from tasks.lock.resolver import VcsPackage, default_index_args, project_toml
from tasks.lock.resolver_errors import message, no_wheel_name, platform_gap
from tasks.lock.resolver_input import ResolverInput, not_platform_marker, with_marker
from tasks.model import toml as tomllib
from tasks.model.platforms import Platform, floor_env
from tasks.model.requirements import vcs_url
from tasks.plumbing.commands import run_command, uv_binary

EVERY_PACKAGE = ":all:"
T = TypeVar("T")
R = TypeVar("R")


class PinWithoutWheel(LockError):
    """A top-level ``==`` pin has no wheel for a platform its requirement applies on."""


class UvRunner:
    def __init__(self, platforms: Mapping[str, Platform], timeout: float) -> None:
        self.platforms = platforms
        self.timeout = timeout
        self.vcs: dict[str, VcsPackage] = {}
        # builds run on the variant's minor version, or not at all; the interpreter is looked
        # for beside the first resolution, which is --only-binary :all: unless a source rule
        # applies to a package known beforehand
        self.python_lookup: Future[str | None] | None = None
        # {top-level package: platforms} where no version has a wheel: its requirement is
        # marked off those platforms, and it is reported missing there
        self.tolerated: dict[str, set[str]] = {}
        # {(top-level package, platform): why its pin is left off there} (strictMissing false)
        self.pins_off: dict[tuple[str, str], wheel_coverage.Missing] = {}

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

    def run_uv(self, args: list[str], cwd: Path, step: str, env: Mapping[str, str] | None = None) -> str:
        binary_only = any(a == "--only-binary" and b == EVERY_PACKAGE for a, b in pairwise(args))
        command = [
            uv_binary(),
            "pip",
            "compile",
            *args,
            "--python",
            sys.executable if binary_only else self.python or sys.executable,
            "--no-python-downloads",
            *default_index_args(),
        ]
        done = run_command(
            command, step, self.timeout, cwd=cwd, env={**os.environ, **(env or {})}, check=False,
            error=LockError, described="uv pip compile",
        )  # fmt: skip
        if done.returncode != 0:
            raise LockError(f"{step}: uv pip compile failed:\n{done.stderr.strip()}")
        return done.stdout

    def effective(self, spec: ResolverInput) -> ResolverInput:
        """*spec* with each tolerated top-level requirement marked off its platforms."""
        if not self.tolerated:
            return spec
        requirements = []
        for text in spec.requirements:
            name = canonicalize_name(Requirement(text).name)
            for key in sorted(self.tolerated.get(name, ())):
                text = with_marker(text, f"({not_platform_marker(self.platforms[key])})")
            requirements.append(text)
        return replace(spec, requirements=tuple(requirements))

    def exempt(self, spec: ResolverInput, platform: str | None = None) -> frozenset[str]:
        """Packages that may be built from source: VCS requirements and those a source rule
        covers (on *platform*, or on any platform)."""
        allowed = (
            spec.source_allowed_by_platform.get(platform, frozenset()) if platform else spec.source_allowed_anywhere
        )
        return allowed | {package.name for package in self.vcs.values()}

    def only_binary(self, spec: ResolverInput, names: Iterable[str], platform: str | None = None) -> list[str]:
        exempt = self.exempt(spec, platform)
        if wheel_coverage.ALL in exempt:
            return []
        if not exempt & set(names) or self.python is None:
            return ["--only-binary", EVERY_PACKAGE]
        return [arg for name in sorted(set(names) - exempt) for arg in ("--only-binary", name)]

    def package_without_wheel(self, spec: ResolverInput, text: str) -> str | None:
        """The package a failed --only-binary resolution found no wheel of, if that was why."""
        environments = {key: p.environment(spec.python_version) for key, p in self.platforms.items()}
        return no_wheel_name(text) or (platform_gap(text, environments) or (None,))[0]

    def failed(self, spec: ResolverInput, error: LockError) -> LockError:
        """A resolution error as one message naming the config key."""
        text = str(error)
        name = no_wheel_name(text)
        if name and self.python is None and name in self.exempt(spec):
            return LockError(build_python.missing_message(spec.variant, spec.python_version, name))
        return LockError(message(spec.variant, text, dict(spec.sources), list(spec.index_plan.mirrored.values())))

    def compile_universal(
        self, spec: ResolverInput, work: Path, previous: Path | None, upgrade: bool, forks: list[str]
    ) -> dict[str, Any]:
        """The universal lock. Which packages a source rule exempts from --only-binary matters
        only when one of them takes part; when the names known beforehand (roots, a previous
        lock) hold none, one run with --only-binary :all: settles it, else one more run does."""
        work.mkdir(parents=True, exist_ok=True)
        (work / "pyproject.toml").write_text(project_toml(self.effective(spec), spec.environments, self.vcs))
        (work / "forks.txt").write_text("".join(f"{line}\n" for line in forks))
        output = work / "pylock.toml"
        if previous is not None and previous.is_file() and not upgrade and previous != output:
            shutil.copyfile(previous, output)
        known = set(spec.roots) | names_in(output)
        args = ["pyproject.toml", "--universal", "--python-version", spec.python_version, "--no-header", "-q"]
        args += ["-c", "forks.txt", "--format", "pylock.toml", "-o", "pylock.toml"]
        upgrading = ["--upgrade"] if upgrade else []
        for _ in range(4):
            only_binary = self.only_binary(spec, known)
            try:
                self.run_uv([*args, *upgrading, *only_binary], work, f"lock {spec.variant}")
            except LockError as error:
                needed = self.package_without_wheel(spec, str(error))
                if EVERY_PACKAGE not in only_binary or needed not in self.exempt(spec) - known:
                    raise
                known.add(str(needed))
                continue
            lock = tomllib.loads(output.read_text())
            found: set[str] = {canonicalize_name(p["name"]) for p in lock.get("packages", [])}
            if EVERY_PACKAGE in only_binary and not found & self.exempt(spec):
                return lock
            if not self.wheel_gaps(spec, lock, found - known):
                return lock  # an --only-binary run over the new names would choose the same
            known |= found
        return tomllib.loads(output.read_text())

    def wheel_gaps(self, spec: ResolverInput, lock: dict[str, Any], names: set[str]) -> list[wheel_coverage.Gap]:
        """Gaps among *names*: locked versions without a wheel for a platform they must ship on."""
        if not names:
            return []
        allowed = {key: self.exempt(spec, key) for key in self.platforms}
        return [g for g in wheel_coverage.gaps(lock, self.platforms, spec.python_version, allowed) if g.name in names]

    def compile_platform(self, spec: ResolverInput, platform: Platform, work: Path, universal: Path) -> dict[str, Any]:
        """One platform alone, at its floor, preferring the universal lock's versions."""
        work.mkdir(parents=True, exist_ok=True)
        (work / "pyproject.toml").write_text(project_toml(self.effective(spec), (), self.vcs))
        shutil.copyfile(universal, work / "pylock.toml")
        args = [*self.platform_args(spec, platform), "--format", "pylock.toml", "-o", "pylock.toml"]
        names = names_in(universal) | set(spec.roots)
        step = f"lock {spec.variant} for {platform.key}"
        self.run_uv([*args, *self.only_binary(spec, names, platform.key)], work, step, floor_env(platform))
        return tomllib.loads((work / "pylock.toml").read_text())

    def platform_args(self, spec: ResolverInput, platform: Platform) -> list[str]:
        return [
            "pyproject.toml",
            "--python-platform",
            platform.uv_platform,
            "--python-version",
            spec.python_version,
            "--no-header",
            "-q",
        ]


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
