"""Every stage function a task names lazily (``"module:function"``, imported only when the
task runs, so that `doit list` stays fast) exists: a rename cannot break one silently."""

from __future__ import annotations

import importlib
import re

from tests.conftest import REPO

TARGET = re.compile(r"""["'](tasks(?:\.\w+)+):(\w+)["']""")


def named_targets() -> set[tuple[str, str]]:
    return {
        (match[1], match[2]) for path in (REPO / "tasks").rglob("*.py") for match in TARGET.finditer(path.read_text())
    }


def test_every_named_stage_function_imports() -> None:
    targets = named_targets()
    assert len(targets) >= 15, sorted(targets)
    missing = [f"{module}:{name}" for module, name in sorted(targets)
               if not callable(getattr(importlib.import_module(module), name, None))]  # fmt: skip
    assert missing == []


def test_the_doit_plugins_import() -> None:
    text = (REPO / "pyproject.toml").read_text()
    plugins = re.findall(r'^\w+ = "(tasks[\w.]+):(\w+)"$', text, re.MULTILINE)
    assert [name for _, name in plugins] == ["CellList", "QuietClean", "CellInfo"]
    assert all(hasattr(importlib.import_module(module), name) for module, name in plugins)
