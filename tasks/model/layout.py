"""Where every input and output of a variant × platform cell lives. Pure path arithmetic."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from tasks.model.platforms import major_minor

VARIANT_DIR = re.compile(r"^python-(?P<version>\d+\.\d+\.\d+)(?:-(?P<suffix>[a-z0-9][a-z0-9._-]*))?$")


@dataclass(frozen=True)
class Variant:
    """``python-3.12.10-atls/`` is variant ``3.12.10-atls`` on base CPython ``3.12.10``."""

    name: str
    python_version: str
    suffix: str | None

    @property
    def dirname(self) -> str:
        return f"python-{self.name}"

    @property
    def minor(self) -> str:
        """``3.12`` for CPython ``3.12.10``."""
        return major_minor(self.python_version)

    def cell(self, platform: str) -> str:
        """The subtask name of this variant on one platform, e.g. ``3.12.10-linux-x64``."""
        return f"{self.name}-{platform}"


def parse_variant_dir(dirname: str) -> Variant | None:
    """The variant a directory name stands for, or None when the name is not a variant's."""
    match = VARIANT_DIR.match(dirname)
    if match is None:
        return None
    version, suffix = match["version"], match["suffix"]
    name = f"{version}-{suffix}" if suffix else version
    return Variant(name=name, python_version=version, suffix=suffix)


@dataclass(frozen=True)
class Layout:
    root: Path

    # -- repository inputs --
    @property
    def configs(self) -> Path:
        return self.root / "configs"

    @property
    def shared_config(self) -> Path:
        return self.configs / "shared-config.json"

    @property
    def schema(self) -> Path:
        return self.configs / "schema" / "config.schema.json"

    @property
    def pythons_schema(self) -> Path:
        return self.configs / "schema" / "pythons.schema.json"

    @property
    def platforms(self) -> Path:
        return self.configs / "platforms.json"

    @property
    def pythons(self) -> Path:
        return self.configs / "pythons.json"

    @property
    def catalogue_config(self) -> Path:
        return self.configs / "catalogue.json"

    @property
    def catalogue_package(self) -> Path:
        return self.root / "catalogue" / "package.json"

    @property
    def catalogue_dist(self) -> Path:
        return self.root / "catalogue" / "dist"

    def whitelist(self, platform: str) -> Path:
        return self.configs / "checker-whitelists" / f"{platform}.json"

    def variant_dir(self, variant: Variant) -> Path:
        return self.root / variant.dirname

    def variant_config(self, variant: Variant) -> Path:
        return self.variant_dir(variant) / "config.json"

    def package_json(self, variant: Variant) -> Path:
        return self.variant_dir(variant) / "package.json"

    def lock(self, variant: Variant) -> Path:
        """The committed universal PEP 751 lock of a variant."""
        return self.variant_dir(variant) / "pylock.toml"

    # -- per-variant outputs --
    def build_dir(self, variant: Variant) -> Path:
        return self.variant_dir(variant) / "build"

    def merged_config(self, variant: Variant) -> Path:
        return self.build_dir(variant) / "config.json"

    def dist_dir(self, variant: Variant) -> Path:
        """The npm package's ``files``: only the descriptor lives here."""
        return self.variant_dir(variant) / "dist"

    def archives_dir(self, variant: Variant) -> Path:
        """The environment archives, published to the binary registry (not to npm)."""
        return self.variant_dir(variant) / "archives"

    # -- per-cell outputs --
    def cell_dir(self, variant: Variant, platform: str) -> Path:
        return self.build_dir(variant) / platform

    def cell_lock(self, variant: Variant, platform: str) -> Path:
        return self.cell_dir(variant, platform) / "pylock.toml"

    def cell_requirements(self, variant: Variant, platform: str) -> Path:
        return self.cell_dir(variant, platform) / "requirements.txt"

    def cell_report(self, variant: Variant, platform: str) -> Path:
        return self.cell_dir(variant, platform) / "report.json"

    def fetch_manifest(self, variant: Variant, platform: str) -> Path:
        return self.cell_dir(variant, platform) / "fetch.json"

    def base_tree(self, variant: Variant, platform: str) -> Path:
        return self.cell_dir(variant, platform) / "base"

    def base_record(self, variant: Variant, platform: str) -> Path:
        return self.cell_dir(variant, platform) / "base.json"

    def base_files(self, variant: Variant, platform: str) -> Path:
        """{path in the base tree: sha256}, hashed once by base and trusted by assemble's record."""
        return self.cell_dir(variant, platform) / "base-files.json"

    def wheelhouse_record(self, variant: Variant, platform: str) -> Path:
        """The wheelhouse's file stats when pack last verified every hash."""
        return self.cell_dir(variant, platform) / "wheelhouse-verified.json"

    def signing_chain(self, variant: Variant, platform: str) -> Path:
        """The certificates a Windows cell was signed with (public), for verifying it."""
        return self.cell_dir(variant, platform) / "signing-chain.pem"

    def check_report(self, variant: Variant, platform: str) -> Path:
        return self.cell_dir(variant, platform) / "check.json"

    def archive_record(self, variant: Variant, platform: str) -> Path:
        """The packed archive's name, sha256 and size: enough to catalogue and publish the
        cell on a machine that has only the cell's small files, not the archive."""
        return self.cell_dir(variant, platform) / "archive.json"

    def env_manifest(self, variant: Variant, platform: str) -> Path:
        return self.pydist(variant, platform) / "runenv.json"

    def env_tree(self, variant: Variant, platform: str) -> Path:
        """Every entry assemble laid into pydist/<platform>/, which pack checks before packing."""
        return self.cell_dir(variant, platform) / "tree.json"

    def archive(self, variant: Variant, archive_name: str) -> Path:
        return self.archives_dir(variant) / archive_name

    def descriptor(self, variant: Variant) -> Path:
        return self.dist_dir(variant) / "tengo" / "software" / "main.sw.json"

    def build_log(self, variant: Variant, platform: str) -> Path:
        return self.cell_dir(variant, platform) / "build.log"

    def pydist(self, variant: Variant, platform: str) -> Path:
        return self.variant_dir(variant) / "pydist" / platform

    def wheelhouse(self, variant: Variant, platform: str) -> Path:
        return self.pydist(variant, platform) / "packages"
