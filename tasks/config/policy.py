"""The resolution policy of one variant on one platform, from its merged config. Pure."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from tasks.config.merge import merge_resolution


@dataclass(frozen=True)
class Policy:
    skip: dict[str, str]
    force_source: dict[str, str]
    build_wheel: dict[str, dict[str, Any]]
    only_binary: frozenset[str]
    allow_source: frozenset[str]
    allow_source_all: bool
    strict_missing: bool
    # A kept package that requires a skipped one is an error unless strictMissing is false.
    skipped_dependency_is_error: bool = True

    def sdist_allowed(self, name: str) -> bool:
        if name in self.only_binary:
            return False
        return self.allow_source_all or name in self.allow_source or self.prefers_sdist(name)

    def prefers_sdist(self, name: str) -> bool:
        return name in self.force_source or name in self.build_wheel


PACKAGE_ROOT = "{packageRoot}"


def with_package_root(rule: Mapping[str, Any], package_root: str) -> dict[str, Any]:
    """A buildWheel rule with ``{packageRoot}`` in configSettings and buildRequires replaced by
    the variant directory's absolute path; configSettings as ordered ``(key, value)`` pairs."""
    settings = rule.get("configSettings", [])
    pairs = settings.items() if isinstance(settings, Mapping) else (item.split("=", 1) for item in settings)
    return {
        **rule,
        "configSettings": [(key, value.replace(PACKAGE_ROOT, package_root)) for key, value in pairs],
        "buildRequires": [text.replace(PACKAGE_ROOT, package_root) for text in rule.get("buildRequires", [])],
    }


def reasons(rules: Mapping[str, Mapping[str, Any]], platform: str) -> dict[str, str]:
    return {name: by_platform[platform]["reason"] for name, by_platform in rules.items() if platform in by_platform}


def policy_for(packages: Mapping[str, Any], platform: str) -> Policy:
    """Generic resolution settings overlaid with ``platformSpecific.<platform>.resolution``."""
    specific = packages.get("platformSpecific", {}).get(platform, {}).get("resolution")
    resolution = merge_resolution(packages.get("resolution"), specific)
    force_no_binary = {name: "resolution.forceNoBinaryList" for name in resolution.get("forceNoBinaryList", [])}
    return Policy(
        skip=reasons(packages.get("skip", {}), platform),
        force_source={**force_no_binary, **reasons(packages.get("forceSource", {}), platform)},
        build_wheel={
            name: by_platform[platform]
            for name, by_platform in packages.get("buildWheel", {}).items()
            if platform in by_platform
        },
        only_binary=frozenset(resolution.get("onlyBinaryList", [])),
        allow_source=frozenset(resolution.get("allowSourceList", [])),
        allow_source_all=bool(resolution.get("allowSourceAll", False)),
        strict_missing=bool(resolution.get("strictMissing", False)),
        skipped_dependency_is_error=resolution.get("strictMissing") is not False,
    )
