"""The catalogue: which variants and cells exist, where their files live in the registry. Pure."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from tasks.model.envlayout import package_path
from tasks.model.records import CheckRecord, EnvManifest, sbom_name
from tasks.model.signing import index_entry


@dataclass(frozen=True)
class Cell:
    variant: str
    platform: str
    package: Mapping[str, Any]  # the variant's package.json
    archive_name: str
    size: int
    sha256: str
    manifest: EnvManifest  # pydist/<platform>/runenv.json
    check: CheckRecord  # build/<platform>/check.json
    sbom_sha256: str | None = None

    @property
    def archive_key(self) -> str:
        return f"software/{package_path(self.package['name'])}/main/{self.archive_name}"

    @property
    def sbom_key(self) -> str:
        return f"software/{package_path(self.package['name'])}/main/{sbom_name(self.archive_name)}"


def descriptor_key(package: Mapping[str, Any]) -> str:
    return f"software/{package_path(package['name'])}/main/{package['version']}.sw.json"


def catalogue_package(meta: Mapping[str, Any], packages: Mapping[str, Mapping[str, Any]]) -> dict[str, Any]:
    """catalogue/package.json from the discovered variants: {variant: package.json}.

    Entrypoints are keyed by the bare variant name: consumers reference ``<catalogue>:3.12.10-atls``.
    """
    entrypoints = {
        variant: {"reference": f"{package['name']}/dist/tengo/software/main.sw.json"}
        for variant, package in sorted(packages.items())
    }
    return {
        "name": meta["name"],
        "version": meta["version"],
        "description": meta.get("description", ""),
        "block-software": {"entrypoints": entrypoints},
        "files": ["dist/"],
        "dependencies": {package["name"]: package["version"] for _, package in sorted(packages.items())},
    }


def unverified_reasons(cell: Cell) -> list[str]:
    reasons = []
    if cell.check.status == "verified-static":
        reasons.append(
            f"verified statically only (linkage, minimum OS, completeness); import it on a {cell.platform} runner"
        )
    elif cell.check.status != "passed":
        reasons.append("not checked")
    reasons += [f"{item}: needs a native {cell.platform} runner" for item in cell.manifest.needs_native_runner]
    return reasons


def index(cells: Sequence[Cell]) -> dict[str, Any]:
    """catalogue/dist/index.json: every cell, and the ones this host could not fully verify."""
    entries = [
        {
            "variant": cell.variant,
            "platform": cell.platform,
            "archive": cell.archive_key,
            "size": cell.size,
            "sha256": cell.sha256,
            "pythonVersion": cell.manifest.python_version,
            "lockHash": cell.manifest.lock_hash,
            "floor": dict(cell.manifest.floor),
            "packageCount": len(cell.manifest.packages),
            "skipped": [e.to_json() for e in cell.manifest.skipped],
            "missingTopLevel": [e.to_json() for e in cell.manifest.missing_top_level],
            "warnings": list(cell.manifest.warnings),
            "check": cell.check.status,
            "verification": cell.check.verification,
            "sbom": {"path": cell.sbom_key, "sha256": cell.sbom_sha256} if cell.sbom_sha256 else None,
            "signing": index_entry(cell.manifest.signing.to_json() if cell.manifest.signing else None),
        }
        for cell in cells
    ]
    unverified = [
        {"variant": cell.variant, "platform": cell.platform, "reasons": reasons}
        for cell in cells
        if (reasons := unverified_reasons(cell))
    ]
    return {"cells": entries, "notVerifiedOnThisHost": unverified}


def sha256sums(entries: Sequence[tuple[str, str]]) -> str:
    """``<sha256>  <registry key>`` lines, sorted by key."""
    return "".join(f"{digest}  {key}\n" for key, digest in sorted(entries))
