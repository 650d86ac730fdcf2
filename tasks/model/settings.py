"""A variant's build settings, typed and read once from its merged config. Pure.

Every stage reads ``build.*`` through :class:`Settings`: the defaults live here and nowhere
else (``docs/configuration.md`` documents each key).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from tasks.model.floors import floors_of
from tasks.model.signing import SignConfig

DEFAULT_TIMEOUT = 900.0


@dataclass(frozen=True)
class Settings:
    timeout: float = DEFAULT_TIMEOUT  # seconds bounding each external step
    enable_logging: bool = False  # every stage of a cell writes build/<platform>/build.log
    parallel_downloads: bool | int = True  # true: the default worker count; false: one; a number
    prune: bool = True  # the lean base: no test suite, IDLE, Tk, static libpython
    resolver: str = "uv"  # or "pip-tools" (host platform only)
    check_jobs: int = 0  # top-level packages imported at once by the host check; 0: the core count
    floors: tuple[tuple[str, str], ...] = ()  # (platform key, the floor the variant raises it to)
    sign: SignConfig = field(default_factory=SignConfig)  # build.sign: the OSes whose cells are signed, and how

    @classmethod
    def from_merged(cls, merged: Mapping[str, Any]) -> Settings:
        build = merged.get("build", {})
        return cls(
            timeout=float(build.get("timeout", DEFAULT_TIMEOUT)),
            enable_logging=bool(build.get("enableLogging", False)),
            parallel_downloads=build.get("parallelDownloads", True),
            prune=bool(build.get("prune", True)),
            resolver=str(build.get("resolver", "uv")),
            check_jobs=int(build.get("checkJobs", 0)),
            floors=tuple(sorted(floors_of(merged.get("packages", {})).items())),
            sign=SignConfig.from_build(build),
        )
