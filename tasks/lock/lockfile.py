"""The universal PEP 751 lock of a variant: finishing the resolver's output and rendering it.

Pure: dicts in, a dict or TOML text out. The lock keeps only wheels that some target
platform can install, records each package's dependencies (PEP 751 ``dependencies``) and
keeps runenv's metadata under ``[tool.runenv]``, including the hash of the resolver input.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import tomlkit
from packaging.requirements import Requirement
from packaging.tags import Tag
from packaging.utils import InvalidWheelFilename, canonicalize_name, parse_wheel_filename

from tasks.lock.resolver_input import ResolverInput
from tasks.model import toml as tomllib

PACKAGE_KEY_ORDER = (
    "name",
    "version",
    "marker",
    "requires-python",
    "index",
    "dependencies",
    "vcs",
    "directory",
    "archive",
    "sdist",
    "wheels",
)


NO_VERSION_HAS_ONE = "no version has a wheel for this platform (at its floor)"


@dataclass(frozen=True)
class Missing:
    """A top-level package the lock leaves off one platform: no version of it has a wheel
    there, or (under strictMissing false) its ``==`` pin has none."""

    name: str
    platform: str
    version: str = ""  # the pinned version, for a pin
    reason: str = NO_VERSION_HAS_ONE
    nearest: tuple[str, ...] = ()  # the closest versions that have a wheel there

    def to_toml(self) -> dict[str, Any]:
        table: dict[str, Any] = {"platform": self.platform}
        if self.version:
            table["version"] = self.version
        table["reason"] = self.reason
        if self.nearest:
            table["nearest"] = list(self.nearest)
        return table

    @classmethod
    def from_toml(cls, name: str, table: Mapping[str, Any]) -> Missing:
        return cls(
            name,
            str(table["platform"]),
            str(table.get("version", "")),
            str(table.get("reason", NO_VERSION_HAS_ONE)),
            tuple(str(v) for v in table.get("nearest", [])),
        )


def no_wheel_records(lock: Mapping[str, Any]) -> list[Missing]:
    """The ``no-wheel`` records of a lock (``[tool.runenv.no-wheel]``)."""
    table = lock.get("tool", {}).get("runenv", {}).get("no-wheel", {})
    return [Missing.from_toml(name, entry) for name, entries in table.items() for entry in entries]


def pin_reason(name: str, version: str, platform: str, floor: str, needs: str | None) -> str:
    """Why a pin has no wheel for *platform*: none at all, or one only above the floor."""
    if needs:
        return (
            f"{name}=={version} has a wheel for {platform} only above its floor ({needs}, the floor is {floor}); "
            f"raise it with packages.platformSpecific.{platform}.floor"
        )
    return f"{name}=={version} has no wheel for {platform} ({floor})"


def nearest_text(nearest: Sequence[str]) -> str:
    return f"nearest versions with one: {', '.join(nearest)}" if nearest else "no version has one at this floor"


def wheel_filename(url_or_name: str) -> str:
    return url_or_name.rsplit("/", 1)[-1].split("#", 1)[0].split("?", 1)[0]


def wheel_fits(wheel: Mapping[str, Any], supported: set[Tag]) -> bool:
    name = wheel.get("name") or wheel_filename(wheel.get("url") or wheel.get("path", ""))
    try:
        tags = parse_wheel_filename(name)[-1]
    except InvalidWheelFilename:
        return True
    return not tags.isdisjoint(supported)


def finish_lock(
    raw: Mapping[str, Any],
    spec: ResolverInput,
    dependencies: Mapping[tuple[str, str], list[dict[str, str]]],
    supported_tags: Iterable[Tag],
    notes: Iterable[str],
    builder_version: str,
    renamed: Mapping[str, str] | None = None,
    missing: Iterable[Missing] = (),
) -> dict[str, Any]:
    """The lock runenv commits, from the resolver's raw lock. *dependencies* holds each
    (name, version) entry's PEP 751 dependencies; *renamed* maps a configured requirement to
    the one resolved (a VCS requirement named by its built metadata)."""
    supported = set(supported_tags)
    packages = []
    for raw_package in raw.get("packages", []):
        package = dict(raw_package)
        if "wheels" in package:
            package["wheels"] = [w for w in package["wheels"] if wheel_fits(w, supported)]
            if not package["wheels"]:
                del package["wheels"]
        children = dependencies.get((canonicalize_name(package["name"]), str(package.get("version", ""))), [])
        if children:
            package["dependencies"] = children
        packages.append(
            {key: package[key] for key in PACKAGE_KEY_ORDER if key in package}
            | {k: v for k, v in package.items() if k not in PACKAGE_KEY_ORDER}
        )
    return {
        "lock-version": "1.0",
        "environments": list(raw.get("environments") or spec.environments),
        "requires-python": f"=={spec.python_version}",
        "created-by": "runenv",
        "packages": packages,
        "tool": {"runenv": runenv_table(spec, notes, builder_version, renamed or {}) | no_wheel_table(missing)},
    }


def runenv_table(
    spec: ResolverInput, notes: Iterable[str], builder_version: str, renamed: Mapping[str, str]
) -> dict[str, Any]:
    """``[tool.runenv]``: the resolver input's hash and what was resolved against."""
    plan = spec.index_plan
    requirements = [renamed.get(text, text) for text in spec.requirements]
    return {
        "input-hash": spec.input_hash,
        "variant": spec.variant,
        "resolver": spec.resolver,
        "builder-version": builder_version,
        "requirements": requirements,
        "roots": list(dict.fromkeys(canonicalize_name(Requirement(text).name) for text in requirements)),
        "indexes": list(plan.indexes),
        "mirrored-registries": dict(plan.mirrored),
        "left-out-registries": list(plan.left_out),
        "notes": list(notes),
    }


def no_wheel_table(missing: Iterable[Missing]) -> dict[str, Any]:
    """``no-wheel``: top-level packages left off some platforms, each platform with the
    reason (no version has a wheel, or the pin has none) and the nearest versions with one."""
    table: dict[str, list[dict[str, Any]]] = {}
    for record in sorted(missing, key=lambda m: (m.name, m.platform)):
        table.setdefault(record.name, []).append(record.to_toml())
    return {"no-wheel": table} if table else {}


def input_hash_of(text: str) -> str | None:
    """The resolver-input hash a lock records, or None for a missing or foreign lock."""
    try:
        return tomllib.loads(text).get("tool", {}).get("runenv", {}).get("input-hash")
    except tomllib.TOMLDecodeError:
        return None


def inline(table: Mapping[str, Any]) -> Any:
    result = tomlkit.inline_table()
    for key, value in table.items():
        result[key] = inline(value) if isinstance(value, Mapping) else value
    return result


def render_package(package: Mapping[str, Any]) -> Any:
    table = tomlkit.table()
    for key, value in package.items():
        if isinstance(value, list) and value and isinstance(value[0], Mapping):
            array = tomlkit.array()
            array.extend(inline(item) for item in value)
            array.multiline(len(value) > 1)
            table[key] = array
        elif isinstance(value, Mapping):
            table[key] = inline(value)
        else:
            table[key] = value
    return table


def render(lock: Mapping[str, Any], header: Iterable[str] = ()) -> str:
    """PEP 751 TOML: top-level keys, ``[[packages]]`` tables, then ``[tool.*]``."""
    document = tomlkit.document()
    for line in header:
        document.add(tomlkit.comment(line))
    for key, value in lock.items():
        if key not in ("packages", "tool"):
            document[key] = value
    packages = tomlkit.aot()
    for package in lock.get("packages", []):
        packages.append(render_package(package))
    document["packages"] = packages
    if "tool" in lock:
        document["tool"] = lock["tool"]
    return tomlkit.dumps(document)
