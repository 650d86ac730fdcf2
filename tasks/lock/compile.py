"""The resolutions a lock is made of: the universal one, one platform's at its floor, and
single-question probes (does this version have a wheel there?)."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

from packaging.utils import canonicalize_name

from tasks.errors import LockError
from tasks.lock import wheel_coverage
from tasks.lock.request import Request
from tasks.lock.resolver_input import ResolverInput
from tasks.lock.uv import EVERY_PACKAGE, Uv, names_in, probe_args
from tasks.model import toml as tomllib
from tasks.model.platforms import Platform, floor_env


class Compiler:
    def __init__(self, uv: Uv, request: Request) -> None:
        self.uv = uv
        self.request = request

    @property
    def spec(self) -> ResolverInput:
        return self.request.spec

    def universal(
        self, work: Path, previous: Path | None, upgrade: bool, forks: list[str], spec: ResolverInput | None = None
    ) -> dict[str, Any]:
        """The universal lock (of *spec*: the variant's, or one restricted to a platform).
        Which packages a source rule exempts from --only-binary matters only when one of them
        takes part; when the names known beforehand (roots, a previous lock) hold none, one run
        with --only-binary :all: settles it, else one more run does."""
        spec = spec or self.spec
        work.mkdir(parents=True, exist_ok=True)
        (work / "pyproject.toml").write_text(self.request.project(spec.environments, spec))
        (work / "forks.txt").write_text("".join(f"{line}\n" for line in forks))
        output = work / "pylock.toml"
        if previous is not None and previous.is_file() and not upgrade and previous != output:
            shutil.copyfile(previous, output)
        known = set(spec.roots) | names_in(output)
        args = ["pyproject.toml", "--universal", "--python-version", spec.python_version, "--no-header", "-q"]
        args += ["-c", "forks.txt", "--format", "pylock.toml", "-o", "pylock.toml", *(["--upgrade"] if upgrade else [])]
        exempt = self.request.exempt()
        for _ in range(4):
            only_binary = self.request.only_binary(known, self.uv.python)
            try:
                self.uv.compile([*args, *only_binary], work, f"lock {spec.variant}")
            except LockError as error:
                needed = self.request.package_without_wheel(str(error))
                if EVERY_PACKAGE not in only_binary or needed not in exempt - known:
                    raise
                known.add(str(needed))
                continue
            lock = tomllib.loads(output.read_text())
            found: set[str] = {canonicalize_name(p["name"]) for p in lock.get("packages", [])}
            if (EVERY_PACKAGE in only_binary and not found & exempt) or not self.wheel_gaps(lock, found - known):
                return lock  # an --only-binary run over the new names would choose the same
            known |= found
        return tomllib.loads(output.read_text())

    def wheel_gaps(self, lock: dict[str, Any], names: set[str]) -> list[wheel_coverage.Gap]:
        """Gaps among *names*: locked versions without a wheel for a platform they must ship on."""
        if not names:
            return []
        platforms = self.request.platforms
        allowed = {key: self.request.exempt(key) for key in platforms}
        found = wheel_coverage.gaps(lock, platforms, self.spec.python_version, allowed)
        return [gap for gap in found if gap.name in names]

    def platform(self, platform: Platform, work: Path, universal: Path) -> dict[str, Any]:
        """One platform alone, at its floor, preferring the universal lock's versions."""
        work.mkdir(parents=True, exist_ok=True)
        (work / "pyproject.toml").write_text(self.request.project(()))
        shutil.copyfile(universal, work / "pylock.toml")
        args = [*self.platform_args(platform), "--format", "pylock.toml", "-o", "pylock.toml"]
        names = names_in(universal) | set(self.spec.roots)
        only_binary = self.request.only_binary(names, self.uv.python, platform.key)
        self.uv.compile(
            [*args, *only_binary], work, f"lock {self.spec.variant} for {platform.key}", floor_env(platform)
        )
        return tomllib.loads((work / "pylock.toml").read_text())

    def platform_args(self, platform: Platform) -> list[str]:
        spec = self.spec
        return ["pyproject.toml", "--python-platform", platform.uv_platform, "--python-version", spec.python_version,
                "--no-header", "-q"]  # fmt: skip

    def probe(
        self, work: Path, requirements: list[str], platform: Platform, *extra: str, deps: bool = False
    ) -> str | None:
        """uv's answer to *requirements* alone on *platform* (wheels only, at its floor), or
        None when there is none; in *work*, where extra arguments may write a pylock.toml."""
        work.mkdir(parents=True, exist_ok=True)
        (work / "requirements.in").write_text("".join(f"{line}\n" for line in requirements))
        args = [arg for arg in probe_args(self.spec, platform) if deps is False or arg != "--no-deps"]
        try:
            return self.uv.compile([*args, *extra], work, f"lock {self.spec.variant}", floor_env(platform))
        except LockError:
            return None


def versions_of(output: str, name: str | None = None) -> list[str]:
    """The versions in uv's ``name==version`` lines (of *name* only, when given)."""
    return [
        line.split("==", 1)[1].split()[0]
        for line in output.splitlines()
        if "==" in line and (name is None or line.startswith(f"{name}=="))
    ]
