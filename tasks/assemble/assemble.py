"""The assemble stage: interpreter, wheelhouse and copyFiles into pydist/<platform>/."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

from tasks import BUILDER_VERSION
from tasks.assemble.build_wheels import apply_build_wheels
from tasks.assemble.copy_files import copy_entry, interpreter_files
from tasks.assemble.parts import write_sbom
from tasks.base.prepare import foreign_paths, remove_archives
from tasks.config.merged import relative, variant_config
from tasks.config.policy import with_package_root
from tasks.errors import BuildError
from tasks.model.envlayout import EnvLayout
from tasks.model.floors import floor_record
from tasks.model.layout import Layout, Variant
from tasks.model.records import EnvManifest, EnvPackage, EnvTree, Fetched, FetchRecord, Selected, SelectReport
from tasks.plumbing import files
from tasks.plumbing.host import is_host
from tasks.plumbing.stage import cell_stage
from tasks.plumbing.tree import record_tree


def copy_entries(merged: dict[str, Any], platform: str) -> list[dict[str, str]]:
    packages = merged["packages"]
    return [*packages["copyFiles"], *packages["platformSpecific"].get(platform, {}).get("copyFiles", [])]


def copy_one(
    layout: Layout, variant: Variant, entry: dict[str, str], root: Path, env: EnvLayout, protected: set[str]
) -> None:
    label = f"{relative(layout, layout.variant_config(variant))}: copyFiles from {entry['from']!r}"
    source = layout.variant_dir(variant) / entry["from"]
    if not source.exists():
        raise BuildError(f"{label}: {relative(layout, source)} does not exist; create it or remove the entry")
    target = Path(env.copy_target(entry["to"]))
    if not source.is_dir() and entry["to"].endswith("/"):
        target = target / source.name
    copy_entry(layout.variant_dir(variant), entry["from"], target, root, protected, label)


def link_tree(source: Path, target: Path) -> None:
    """The base tree into the environment as hard links (a copy across filesystems): the base
    stage already made it a private copy, so the interpreter's bytes are written once."""
    shutil.copytree(source, target, symlinks=True, dirs_exist_ok=True, copy_function=files.link_or_copy)


def clear_except_wheelhouse(root: Path) -> None:
    root.mkdir(parents=True, exist_ok=True)
    for child in root.iterdir():
        if child.name == "packages":
            continue
        files.remove_path(child)


def manifest(
    layout: Layout,
    variant: Variant,
    platform: str,
    merged: dict[str, Any],
    built: dict[str, dict[str, str]],
    native: list[str],
) -> EnvManifest:
    base = files.read_json(layout.base_record(variant, platform))
    report = SelectReport.from_json(files.read_json(layout.cell_report(variant, platform)))
    # Source archives made from a VCS commit have their digest only once fetched.
    fetched = FetchRecord.from_json(files.read_json(layout.fetch_manifest(variant, platform))).by_file()
    packages = tuple(env_package(s, fetched.get(s.file), built.get(s.name, {})) for s in report.selected)
    return EnvManifest(
        variant=variant.name,
        python_version=variant.python_version,
        platform=platform,
        base={
            "version": base["version"],
            "treeSha256": base["treeSha256"],
            "archiveUrl": base["url"],
            "archiveSha256": base["sha256"],
            "pruned": base["pruned"],
            "sitePackagesRemoved": base["sitePackagesRemoved"],
        },
        lock_hash=report.input_hash,
        floor=floor_record(variant_config(layout, variant).platforms[platform]),
        packages=packages,
        skipped=report.skipped,
        missing_top_level=report.missing_top_level,
        warnings=(*report.warnings, *base["warnings"]),
        needs_native_runner=tuple(f"buildWheel {name}" for name in native),
        env_vars=tuple(merged["envVars"]),
        builder_version=BUILDER_VERSION,
    )


def env_package(selected: Selected, fetched: Fetched | None, built: dict[str, Any]) -> EnvPackage:
    """A wheelhouse file as runenv.json lists it: as fetched (or made from a VCS commit), or the
    wheel a buildWheel rule built from it."""
    sha256, size = (fetched.sha256, fetched.size) if fetched else (selected.sha256, selected.size)
    core = {"file": selected.file, "sha256": sha256, "size": size} | built
    extra = {k: v for k, v in built.items() if k not in ("file", "sha256", "size")}
    return EnvPackage(selected.name, selected.version, core["file"], core["sha256"], core["size"], extra)


def build_wheels(
    layout: Layout, variant: Variant, platform_key: str, merged: dict[str, Any], root: Path, env: EnvLayout
) -> tuple[list[str], dict[str, dict[str, str]]]:
    package_root = str(layout.variant_dir(variant).resolve())
    rules = {
        name: with_package_root(by_platform[platform_key], package_root)
        for name, by_platform in merged["packages"]["buildWheel"].items()
        if platform_key in by_platform
    }
    python = root / env.python if is_host(env.platform) else None
    return apply_build_wheels(
        python,
        root / "packages",
        SelectReport.from_json(files.read_json(layout.cell_report(variant, platform_key))),
        rules,
        layout.cell_dir(variant, platform_key) / "wheels.json",
        variant_config(layout, variant).settings.timeout,
    )


@cell_stage("assemble")
def assemble_cell(layout: Layout, variant: Variant, platform_key: str) -> None:
    """The assemble stage: lay out the cell's environment."""
    lay_out(layout, variant, platform_key)


def lay_out(layout: Layout, variant: Variant, platform_key: str) -> None:
    """Lay out pydist/<platform>/ around the fetched wheelhouse; runenv.json is written last,
    then the record of every entry laid (build/<platform>/tree.json)."""
    config = variant_config(layout, variant)
    merged, platform = dict(config.merged), config.platforms[platform_key]
    env = EnvLayout(platform, variant.python_version)
    root = layout.pydist(variant, platform_key)
    remove_archives(layout, variant, platform)
    layout.env_tree(variant, platform_key).unlink(missing_ok=True)
    clear_except_wheelhouse(root)
    link_tree(layout.base_tree(variant, platform_key), root / env.interpreter_root)
    protected = interpreter_files(layout.base_tree(variant, platform_key), env.interpreter_root)
    for entry in copy_entries(merged, platform_key):
        copy_one(layout, variant, entry, root, env, protected)
    missing = [name for name in env.required_files() if not (root / name).exists()]
    if missing:
        raise BuildError(
            f"{relative(layout, root)}: the interpreter layout lacks {', '.join(missing)}; "
            "is the base archive a python-build-standalone install_only archive?"
        )
    if not platform.is_windows and (offending := foreign_paths(root, platform.os == "linux")):
        raise BuildError(
            f"{relative(layout, root)}: absolute paths of the build machine remain in:\n"
            + "\n".join(f"  - {item}" for item in offending)
        )
    native, built = build_wheels(layout, variant, platform_key, merged, root, env)
    record = manifest(layout, variant, platform_key, merged, built, native)
    files.write_json_atomic(layout.env_manifest(variant, platform_key), record.to_json())
    write_sbom(layout, variant, platform_key, record)
    known = {f"packages/{package.file}": package.sha256 for package in record.packages}
    prefix = f"{env.interpreter_root}/" if env.interpreter_root else ""
    base = files.read_json_if_exists(layout.base_files(variant, platform_key)) or {}
    known |= {prefix + path: digest for path, digest in base.items() if (root / (prefix + path)).is_file()}
    files.write_json_atomic(layout.env_tree(variant, platform_key), EnvTree(record_tree(root, known)).to_json())
    for name in native:
        print(
            f"{variant.cell(platform_key)}: buildWheel {name} needs a native {platform.os} {platform.arch} runner; "
            "the sdist ships meanwhile"
        )
    print(f"{variant.cell(platform_key)}: assembled {relative(layout, root)}")
