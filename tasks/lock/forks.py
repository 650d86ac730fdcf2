"""Every platform gets the best version that has a wheel: gaps, forks, and pins without one.

uv's universal resolution checks wheels against environment markers only. runenv checks each
locked version against each platform's tags, floors included (manylinux 2.28, macOS 13.0). A
gap is closed by resolving that platform alone at its floor and pinning its choices under the
platform's marker, so only the packages that must differ fork; the lock says which and why.
A top-level ``==`` pin without a wheel for a platform is an error where strictMissing holds,
naming the nearest versions that have one, and is left off that platform elsewhere; an
unpinned top-level package no version of which has a wheel there is left off it too.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from packaging.requirements import Requirement
from packaging.utils import InvalidWheelFilename, canonicalize_name, parse_wheel_filename

from tasks.errors import LockError
from tasks.lock import lockfile, wheel_coverage
from tasks.lock.compile import Compiler, versions_of
from tasks.lock.lockfile import wheel_filename
from tasks.lock.resolver_errors import no_wheel_name, platform_gap
from tasks.lock.resolver_input import ResolverInput
from tasks.lock.uv import PinWithoutWheel, cause_of, in_parallel, top_level_pins
from tasks.lock.wheel_floor import above_floor, version_tuple
from tasks.model import toml as tomllib
from tasks.model.floors import default_floor, floor_label, raised
from tasks.model.platforms import Platform

# Floors high enough for any wheel published today: a probe there finds the wheels a pin has
# only above the platform's floor.
CEILING_MACOS = "26.0"
CEILING_GLIBC = "2.40"


class WheelForks:
    def __init__(self, compiler: Compiler) -> None:
        self.compiler = compiler
        self.request = compiler.request
        self.platforms = compiler.request.platforms

    @property
    def spec(self) -> ResolverInput:
        return self.request.spec

    def universal(self, temp: Path, previous: Path | None, upgrade: bool) -> dict[str, Any]:
        """The universal lock. A package with no version that has a wheel for a platform is
        left off that platform when it is a top-level package (a pin: unless strictMissing
        holds there), and is an error otherwise."""
        spec = self.spec
        environments = {key: p.environment(spec.python_version) for key, p in self.platforms.items()}
        for _ in range(10):
            try:
                return self.compiler.universal(temp / "universal", previous, upgrade, [])
            except LockError as error:
                found = platform_gap(str(error), environments)
                if found is None or self.request.is_off(*found):
                    raise
                name, key = found
                if pins := top_level_pins(spec.requirements, name):
                    self.tolerate_pins(self.pin_gaps(pins[0], temp), temp)
                    continue
                if name not in spec.roots:
                    raise LockError(
                        f"lock {spec.variant}: {name}, a dependency of the config's packages, has no version with "
                        f"a wheel for {key}: add a skip rule on {key} for the top-level package that needs it, or "
                        f"add {name} to packages.resolution.allowSourceList to ship its sdist"
                    ) from None
                self.request.leave_off(name, key)
        return self.compiler.universal(temp / "universal", previous, upgrade, [])

    def pin_gaps(self, text: str, work: Path) -> list[tuple[wheel_coverage.Gap, str]]:
        """The platforms a top-level pin applies on and has no wheel for."""
        name, version = canonicalize_name(Requirement(text).name), str(wheel_coverage.exact_pin(text))
        gaps = [
            wheel_coverage.Gap(name, version, key)
            for key, platform in self.platforms.items()
            if not self.has_wheel(platform, name, version, work)
        ]
        return wheel_coverage.pinned_gaps(gaps, [text], self.platforms, self.spec.python_version)

    def close_gaps(self, lock: dict[str, Any], work: Path) -> tuple[dict[str, Any], list[str]]:
        """Fork the packages whose locked version has no wheel for some platform."""
        found = self.compiler.wheel_gaps(lock, {canonicalize_name(p["name"]) for p in lock.get("packages", [])})
        if not found:
            return lock, []
        pinned = wheel_coverage.pinned_gaps(found, self.spec.requirements, self.platforms, self.spec.python_version)
        if pinned:
            self.tolerate_pins(pinned, work)
            found = [gap for gap in found if not self.request.is_off(gap.name, gap.platform)]
        forks: list[str] = []
        notes: list[str] = []
        for key in dict.fromkeys(gap.platform for gap in found):
            try:
                platform_lock = self.platform_tolerating(self.platforms[key], work)
            except LockError as error:
                names = sorted({gap.name for gap in found if gap.platform == key})
                notes.append(f"{key}: no wheel for {', '.join(names)} ({cause_of(str(error))[:300]})")
                continue
            forks += wheel_coverage.fork_pins(platform_lock, self.platforms[key])
        if forks or self.request.off:
            lock = self.compiler.universal(work / "universal", None, False, forks)
        return lock, notes

    def platform_tolerating(self, platform: Platform, work: Path) -> dict[str, Any]:
        """One platform alone; a top-level package without any wheel there (at its floor)
        is left off it, as in :meth:`universal`."""
        universal = work / "universal" / "pylock.toml"
        while True:
            try:
                return self.compiler.platform(platform, work / platform.key, universal)
            except LockError as error:
                name = no_wheel_name(str(error)) or (platform_gap(str(error), {platform.key: {}}) or ("",))[0]
                if name not in self.spec.roots or self.request.is_off(name, platform.key):
                    raise
                self.request.leave_off(name, platform.key)

    def tolerate_pins(self, pinned: list[tuple[wheel_coverage.Gap, str]], work: Path) -> None:
        """Top-level pins without a wheel for a platform: an error where strictMissing holds
        there; elsewhere the package is left off that platform, and the lock records why."""
        records = in_parallel(lambda item: self.describe_pin(item[0], work), pinned)
        strict = [
            (text, record)
            for (_, text), record in zip(pinned, records, strict=True)
            if self.spec.strict_on(record.platform)
        ]
        if strict:
            raise PinWithoutWheel(self.pin_message(strict))
        for record in records:
            self.request.leave_off(record.name, record.platform, record)

    def describe_pin(self, gap: wheel_coverage.Gap, work: Path) -> lockfile.Missing:
        """Why a pin has no wheel for a platform, and the nearest versions that have one."""
        platform = self.platforms[gap.platform]
        nearest = self.nearest_with_wheel(platform, gap.name, gap.version, work)
        needs = self.needs_above_floor(platform, gap.name, gap.version, work)
        reason = lockfile.pin_reason(gap.name, gap.version, gap.platform, floor_label(platform), needs)
        return lockfile.Missing(gap.name, gap.platform, gap.version, reason, tuple(nearest))

    def needs_above_floor(self, platform: Platform, name: str, version: str, work: Path) -> str | None:
        """``macOS 14.0`` when *version* has a wheel for *platform* only above its floor."""
        if default_floor(platform) is None:
            return None
        ceiling = raised(platform, CEILING_MACOS if platform.macos_floor else CEILING_GLIBC)
        probe = work / f"ceiling-{name}-{version}-{platform.key}"
        if (
            self.compiler.probe(probe, [f"{name}=={version}"], ceiling, "--format", "pylock.toml", "-o", "pylock.toml")
            is None
        ):
            return None
        lock = tomllib.loads((probe / "pylock.toml").read_text())
        wheels = [wheel for package in lock.get("packages", []) for wheel in package.get("wheels", [])]
        return lowest_need(wheels, platform, self.spec.python_version)

    def pin_message(self, strict: list[tuple[str, lockfile.Missing]]) -> str:
        sources = dict(self.spec.sources)
        lines = [
            f"  - {sources.get(record.name, text)}: {record.reason}; {lockfile.nearest_text(record.nearest)}"
            for text, record in strict
        ]
        return (
            f"lock {self.spec.variant}: top-level pins without a wheel for a platform:\n"
            + "\n".join(lines)
            + "\nPin a version that has one, or add a skip, forceSource, buildWheel or allowSourceList rule for that"
            " platform (packages.skip.<name>.<platform>, packages.platformSpecific.<platform>.resolution)"
        )

    def nearest_with_wheel(self, platform: Platform, name: str, version: str, work: Path) -> list[str]:
        """The closest versions below and above *version* with a wheel for *platform*."""
        found = []
        for bound, side in (("<", "below"), (">", "above")):
            output = self.compiler.probe(
                work / f"nearest-{name}-{platform.key}-{side}", [f"{name}{bound}{version}"], platform
            )
            found += versions_of(output or "")
        return found

    def fork_notes(self, lock: dict[str, Any], work: Path) -> list[str]:
        """Why each forked package differs: its newest version has no wheel for a platform
        (asked of the index, at that platform's floor), or it follows another fork."""
        forked = wheel_coverage.forked_versions(lock, self.platforms, self.spec.python_version)
        asks = [
            (name, key, versions[0][0]) for name, versions in forked.items() for _, keys in versions[1:] for key in keys
        ]
        answers = in_parallel(lambda ask: self.has_wheel(self.platforms[ask[1]], ask[0], ask[2], work), asks)
        lacking = {(name, key) for (name, key, _), has in zip(asks, answers, strict=True) if not has}
        return [
            wheel_coverage.fork_note(name, versions, [key for n, key in sorted(lacking) if n == name])
            for name, versions in forked.items()
        ]

    def has_wheel(self, platform: Platform, name: str, version: str, work: Path) -> bool:
        probe = work / f"has-{name}-{version}-{platform.key}"
        return self.compiler.probe(probe, [f"{name}=={version}"], platform) is not None


def lowest_need(wheels: list[dict[str, Any]], platform: Platform, python_version: str) -> str | None:
    """The lowest OS version above *platform*'s floor that one of *wheels* needs, if any."""
    supported = set(platform.tags(python_version))
    needs: set[str] = set()
    for wheel in wheels:
        try:
            tags = parse_wheel_filename(wheel_filename(wheel.get("name") or wheel.get("url", "")))[-1]
        except InvalidWheelFilename:
            continue
        needs.update(need for tag in tags if (need := above_floor(tag, platform, supported)))
    return min(needs, key=lambda need: version_tuple(need.split()[1])) if needs else None
