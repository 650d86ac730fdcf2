"""What uv is asked for one variant: the config's requirements, the name and version the VCS
requirements' built metadata gives, and the top-level packages left off a platform, with why."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import replace

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from tasks.errors import LockError
from tasks.lock import build_python, lockfile, wheel_coverage
from tasks.lock.resolver import VcsPackage, project_toml
from tasks.lock.resolver_errors import message, no_wheel_name, platform_gap
from tasks.lock.resolver_input import ResolverInput, not_platform_marker, with_marker
from tasks.lock.uv import EVERY_PACKAGE
from tasks.model.platforms import Platform


class Request:
    def __init__(self, spec: ResolverInput, platforms: Mapping[str, Platform]) -> None:
        self.spec = spec
        self.platforms = platforms
        self.vcs: dict[str, VcsPackage] = {}  # {requirement as written: what its metadata says}
        # {top-level package: platforms} it is left off: its requirement is marked off them
        self.off: dict[str, set[str]] = {}
        # {(top-level package, platform): why its pin is left off there} (strictMissing false)
        self.pins_off: dict[tuple[str, str], lockfile.Missing] = {}

    def leave_off(self, name: str, platform: str, why: lockfile.Missing | None = None) -> None:
        self.off.setdefault(name, set()).add(platform)
        if why is not None:
            self.pins_off[(name, platform)] = why

    def is_off(self, name: str, platform: str) -> bool:
        return platform in self.off.get(name, set())

    def missing(self) -> tuple[lockfile.Missing, ...]:
        """What the lock leaves off a platform: pins without a wheel there, and top-level
        packages no version of which has one."""
        return tuple(
            self.pins_off.get((name, key), lockfile.Missing(name, key))
            for name, keys in sorted(self.off.items())
            for key in sorted(keys)
        )

    def effective(self, spec: ResolverInput | None = None) -> ResolverInput:
        """*spec* (the variant's, by default) with each top-level requirement marked off the
        platforms it is left off."""
        spec = spec or self.spec
        if not self.off:
            return spec
        requirements = []
        for text in spec.requirements:
            name = canonicalize_name(Requirement(text).name)
            for key in sorted(self.off.get(name, ())):
                text = with_marker(text, f"({not_platform_marker(self.platforms[key])})")
            requirements.append(text)
        return replace(spec, requirements=tuple(requirements))

    def project(self, environments: tuple[str, ...], spec: ResolverInput | None = None) -> str:
        """The pyproject.toml uv resolves."""
        return project_toml(self.effective(spec), environments, self.vcs)

    def exempt(self, platform: str | None = None) -> frozenset[str]:
        """Packages that may be built from source: VCS requirements and those a source rule
        covers (on *platform*, or on any platform)."""
        spec = self.spec
        allowed = (
            spec.source_allowed_by_platform.get(platform, frozenset()) if platform else spec.source_allowed_anywhere
        )
        return allowed | {package.name for package in self.vcs.values()}

    def only_binary(self, names: Iterable[str], python: str | None, platform: str | None = None) -> list[str]:
        """uv's --only-binary arguments: every package, unless a package a source rule exempts
        takes part and there is an interpreter to build it on."""
        exempt = self.exempt(platform)
        if wheel_coverage.ALL in exempt:
            return []
        if not exempt & set(names) or python is None:
            return ["--only-binary", EVERY_PACKAGE]
        return [arg for name in sorted(set(names) - exempt) for arg in ("--only-binary", name)]

    def package_without_wheel(self, text: str) -> str | None:
        """The package a failed --only-binary resolution found no wheel of, if that was why."""
        environments = {key: p.environment(self.spec.python_version) for key, p in self.platforms.items()}
        return no_wheel_name(text) or (platform_gap(text, environments) or (None,))[0]

    def failed(self, error: LockError, python: str | None) -> LockError:
        """A resolution error as one message naming the config key."""
        spec, text = self.spec, str(error)
        name = no_wheel_name(text)
        if name and python is None and name in self.exempt():
            return LockError(build_python.missing_message(spec.variant, spec.python_version, name))
        return LockError(message(spec.variant, text, dict(spec.sources), list(spec.index_plan.mirrored.values())))
