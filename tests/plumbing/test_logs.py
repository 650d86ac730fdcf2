"""build.enableLogging: a stage's output and outcome go to the cell's build.log."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from tasks.errors import BuildError
from tasks.model.layout import Layout, parse_variant_dir
from tasks.plumbing.stage import cell_stage

PARSED = parse_variant_dir("python-3.12.1-logs")
assert PARSED is not None
VARIANT = PARSED


@cell_stage("demo")
def demo(layout: Layout, variant: object, platform: str, fail: bool = False) -> str:
    print("first line\nsecond line")
    print("no newline at the end", end="")
    if fail:
        raise BuildError("demo: it went wrong")
    return "result"


def layout_with(tmp_path: Path, enabled: bool) -> Layout:
    layout = Layout(tmp_path)
    layout.merged_config(VARIANT).parent.mkdir(parents=True)
    layout.merged_config(VARIANT).write_text(json.dumps({"build": {"enableLogging": enabled}, "packages": {}}))
    return layout


def log_lines(layout: Layout) -> list[str]:
    text = layout.build_log(VARIANT, "linux-x64").read_text()
    return [re.sub(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d ", "", line) for line in text.splitlines()]


def test_a_stage_logs_what_it_prints_and_how_it_ended(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    layout = layout_with(tmp_path, True)
    assert demo(layout, VARIANT, "linux-x64") == "result"
    with pytest.raises(BuildError):
        demo(layout, VARIANT, "linux-x64", fail=True)
    assert log_lines(layout) == [
        "== demo 3.12.1-logs-linux-x64", "first line", "second line", "no newline at the end", "demo done",
        "== demo 3.12.1-logs-linux-x64", "first line", "second line", "no newline at the end",
        "demo failed: demo: it went wrong",
    ]  # fmt: skip
    assert capsys.readouterr().out.count("first line") == 2, "the console still gets everything"


def test_nothing_is_logged_unless_enabled(tmp_path: Path) -> None:
    layout = layout_with(tmp_path, False)
    assert demo(layout, VARIANT, "linux-x64") == "result"
    assert not layout.build_log(VARIANT, "linux-x64").exists()
