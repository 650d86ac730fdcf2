"""The shape of a built environment, its archive name and its descriptor. Pure.

Linux and macOS: the interpreter tree at the root (``bin/``, ``lib/pythonX.Y/``). Windows:
the whole interpreter under ``bin/`` (``bin/python.exe``, ``bin/Lib/site-packages``), because
the descriptor's ``binDir`` is ``bin``. ``packages/`` and ``runenv.json`` sit at the root.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import PurePosixPath
from typing import Any

from tasks.model.paths import UnsafeComponent, component
from tasks.model.platforms import Platform, major_minor

SITE_PACKAGES = "{site-packages}"


@dataclass(frozen=True)
class EnvLayout:
    platform: Platform
    python_version: str

    @property
    def minor(self) -> str:
        return major_minor(self.python_version)

    @property
    def interpreter_root(self) -> str:
        """Where the python-build-standalone ``python/`` folder's contents go."""
        return "bin" if self.platform.is_windows else ""

    @property
    def site_packages(self) -> str:
        if self.platform.is_windows:
            return "bin/Lib/site-packages"
        return f"lib/python{self.minor}/site-packages"

    @property
    def python(self) -> str:
        return "bin/python.exe" if self.platform.is_windows else "bin/python3"

    def required_files(self) -> list[str]:
        if self.platform.is_windows:
            return ["bin/python.exe", "bin/Lib/venv/__init__.py"]
        return ["bin/python", "bin/python3", f"lib/python{self.minor}/os.py"]

    def copy_target(self, to: str) -> str:
        """A copyFiles ``to`` with ``{site-packages}`` resolved for this layout."""
        resolved = to.replace(SITE_PACKAGES, self.site_packages)
        return str(PurePosixPath(resolved)) if resolved not in ("", ".") else ""


def archive_name(version: str, platform: Platform) -> str:
    """How the platform's registry stores an environment: ``<version>-<os>-<arch>.tgz``."""
    return component(f"{component(version, 'version')}-{platform.os}-{platform.arch}.tgz", "archive name")


def package_path(package_name: str) -> str:
    """``@scope/name`` → ``scope/name``, the registry path of a package (each part one component)."""
    parts = package_name.removeprefix("@").split("/")
    if len(parts) > 2:
        raise UnsafeComponent(f"package name {package_name!r} has more than one scope")
    return "/".join(component(part, "package name part") for part in parts)


def descriptor(package: Mapping[str, Any], python_version: str, env_vars: list[str]) -> dict[str, Any]:
    """``dist/tengo/software/main.sw.json``, in the format the data platform's backend reads."""
    artifact = package["block-software"]["entrypoints"]["main"]["environment"]["artifact"]
    return {
        "name": f"{package['name']}:main",
        "runEnv": {
            "type": "python",
            "python-version": python_version,
            "envVars": list(env_vars),
            "registry": artifact["registry"],
            "package": f"software/{package_path(package['name'])}/main/{package['version']}-{{os}}-{{arch}}.tgz",
            "binDir": artifact.get("binDir", "bin"),
        },
    }
