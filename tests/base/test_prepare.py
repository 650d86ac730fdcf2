"""Relocation: RUNPATH rewriting with patchelf, shebang trampolines, and the scan."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tasks.base.prepare import foreign_paths, patchelf, relocate_elf, relocate_shebangs, runpath

LIB_DYNLOAD = Path(sys.base_prefix) / "lib" / "python{}.{}".format(*sys.version_info[:2]) / "lib-dynload"


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    """A small tree with one real ELF extension module copied from the machine's CPython."""
    source = next(LIB_DYNLOAD.glob("_json*.so"))
    root = tmp_path / "env"
    (root / "lib" / "python3.x" / "lib-dynload").mkdir(parents=True)
    (root / "bin").mkdir()
    shutil.copy2(source, root / "lib" / "python3.x" / "lib-dynload" / source.name)
    subprocess.run([patchelf(), "--remove-rpath", str(module(root))], check=True)
    return root


def module(tree: Path) -> Path:
    return next((tree / "lib" / "python3.x" / "lib-dynload").glob("_json*.so"))


def test_scan_flags_an_injected_absolute_runpath(tree: Path) -> None:
    subprocess.run([patchelf(), "--set-rpath", "/opt/buildhost/lib", str(module(tree))], check=True)
    assert foreign_paths(tree, linux=True) == [f"{module(tree).relative_to(tree)} (RUNPATH /opt/buildhost/lib)"]


def test_relocation_makes_runpath_origin_relative(tree: Path) -> None:
    subprocess.run([patchelf(), "--set-rpath", "/opt/buildhost/lib:/usr/local/other", str(module(tree))], check=True)
    assert relocate_elf(tree) == [str(module(tree).relative_to(tree))]
    assert runpath(module(tree)) == ["$ORIGIN/../.."]
    assert foreign_paths(tree, linux=True) == []


def test_absolute_shebangs_become_relocatable_trampolines(tree: Path) -> None:
    script = tree / "bin" / "pip3"
    script.write_text("#!/opt/buildhost/bin/python3.12\nimport sys\nprint(sys.executable)\n")
    (tree / "bin" / "tool").write_text("#!/usr/bin/env python3\nprint('ok')\n")
    assert foreign_paths(tree, linux=True) == ["bin/pip3 (shebang /opt/buildhost/bin/python3.12)"]
    assert relocate_shebangs(tree) == ["bin/pip3"]
    assert script.read_text().startswith("#!/bin/sh\n'''exec' \"$(dirname -- \"$(realpath -- \"$0\")\")\"/'python3.12'")
    assert script.read_text().endswith("import sys\nprint(sys.executable)\n")
    assert foreign_paths(tree, linux=True) == []
