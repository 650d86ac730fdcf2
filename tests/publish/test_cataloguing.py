"""A cell whose check failed (or never ran) is never catalogued."""

from __future__ import annotations

import pytest

from tasks.errors import BuildError
from tasks.model.records import CheckRecord, EnvManifest
from tasks.publish.catalogue import Cell
from tasks.publish.cataloguing import refuse_unchecked

PACKAGE = {"name": "@org/runenv-python-3.12.10", "version": "1.0.0"}


def cell(platform: str, status: str | None) -> Cell:
    check = CheckRecord(status or "missing", "static", {})
    manifest = EnvManifest("3.12.10", "3.12.10", platform, {}, "h", {}, (), (), (), (), (), (), "0.1.0")
    return Cell("3.12.10", platform, PACKAGE, f"1.0.0-{platform}.tgz", 1, "0" * 64, manifest, check)


def test_only_passed_and_statically_verified_cells_are_catalogued() -> None:
    refuse_unchecked([cell("linux-x64", "passed"), cell("windows-x64", "verified-static")])
    with pytest.raises(BuildError) as caught:
        refuse_unchecked([cell("linux-x64", "failed"), cell("macosx-x64", None), cell("windows-x64", "passed")])
    assert str(caught.value) == (
        "refusing to catalogue cells that did not pass their check:\n"
        "  - 3.12.10-linux-x64: check failed\n"
        "  - 3.12.10-macosx-x64: check missing"
    )
