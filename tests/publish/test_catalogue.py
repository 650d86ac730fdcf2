"""The catalogue's package.json and index (pure)."""

from __future__ import annotations

from tasks.model.records import CheckRecord, EnvManifest
from tasks.publish.catalogue import Cell, catalogue_package, index

PACKAGE = {"name": "@org/runenv-python-3.12.10-atls", "version": "1.2.0"}


def test_entrypoints_are_bare_variant_names() -> None:
    package = catalogue_package({"name": "@org/catalogue", "version": "2.0.0"}, {"3.12.10-atls": PACKAGE})
    assert package["block-software"]["entrypoints"] == {
        "3.12.10-atls": {"reference": "@org/runenv-python-3.12.10-atls/dist/tengo/software/main.sw.json"}
    }
    assert package["files"] == ["dist/"]
    assert package["dependencies"] == {"@org/runenv-python-3.12.10-atls": "1.2.0"}


def test_index_carries_warnings_and_missing_top_level_dependencies() -> None:
    missing = [{"name": "kalign-python", "version": "3.6.0", "reason": "missing: needs macOS 14.0"}]
    manifest = EnvManifest.from_json(
        {
            "variant": "3.12.10-atls",
            "pythonVersion": "3.12.10",
            "platform": "macosx-x64",
            "base": {},
            "lockHash": "h",
            "packages": [],
            "skipped": [],
            "missingTopLevel": missing,
            "warnings": ["WARNING: jinja2 requires markupsafe, which skip removes"],
            "floor": {"macos": "14.0"},
        }
    )
    check = CheckRecord("verified-static", "static", {})
    cell = Cell("3.12.10-atls", "macosx-x64", PACKAGE, "1.2.0-macosx-x64.tgz", 1, "0" * 64, manifest, check)
    (entry,) = index([cell])["cells"]
    assert entry["missingTopLevel"] == missing
    assert entry["floor"] == {"macos": "14.0"}, "a consumer knows the environment needs macOS 14"
    assert entry["warnings"] == ["WARNING: jinja2 requires markupsafe, which skip removes"]
