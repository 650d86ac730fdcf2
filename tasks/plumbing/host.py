"""The machine runenv runs on. Never consulted for what a target needs (targets are explicit
data in configs/platforms.json); only for where native steps can run: an interpreter of the
target's platform runs only on a host of that platform (the import check, a wheel build)."""

from __future__ import annotations

import os
import platform as host
from pathlib import Path

from tasks.model.platforms import Platform, host_platform_key


def is_host(platform: Platform) -> bool:
    """Whether *platform*'s binaries run on this machine."""
    return host_platform_key(host.system(), host.machine()) == platform.key


def venv_interpreter(venv: Path) -> Path:
    """A venv's interpreter: Scripts/python.exe on a Windows runner, bin/python elsewhere."""
    return venv / "Scripts" / "python.exe" if os.name == "nt" else venv / "bin" / "python"
