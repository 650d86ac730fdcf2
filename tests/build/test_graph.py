"""The doit task graph, exercised by real doit runs in temp copies of the repository."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

from tasks.model.platforms import PLATFORM_KEYS
from tests.conftest import DoitRun, add_variant, executed

VARIANTS = ("3.10.11", "3.12.10", "3.12.10-atls")


def test_list_shows_every_cell_and_stage(doit: DoitRun) -> None:
    listed = [line.split()[0] for line in doit("list", "--all").stdout.splitlines()]
    builds = {name for name in listed if name.startswith("build:")}
    assert builds == {f"build:{v}-{p}" for v in VARIANTS for p in PLATFORM_KEYS}
    assert {f"config:{v}" for v in VARIANTS} <= set(listed)
    stages = ("lock", "select", "fetch", "base", "assemble", "check", "pack", "descriptor")
    assert {"build", "catalogue", "publish", "matrix", "new_variant", "clear_cache", *stages} <= set(listed)


def test_second_build_does_nothing(doit: DoitRun, repo: Path, machine_python: Any, tmp_path: Path) -> None:
    variant = f"{machine_python.version}-mini"
    add_variant(repo, variant, {"dependencies": ["six==1.17.0"]})
    env = {"RUNENV_PYTHONS": str(machine_python.pythons_file(tmp_path / "pythons.json", "linux-x64"))}
    first = doit(f"build:{variant}-linux-x64", env=env)
    assert first.returncode == 0, first.stdout + first.stderr
    stages = ("config", "lock", "select", "fetch", "base", "assemble", "check", "pack")
    assert {f"{stage}:{variant}-linux-x64" for stage in stages[2:]} <= set(executed(first))
    second = doit(f"build:{variant}-linux-x64", env=env)
    assert second.returncode == 0, second.stderr
    assert executed(second) == []


def test_shared_config_change_reruns_every_variant(doit: DoitRun, repo: Path) -> None:
    assert doit("config").returncode == 0
    shared = repo / "configs/shared-config.json"
    doc = json.loads(shared.read_text())
    doc["build"]["timeout"] = 60
    shared.write_text(json.dumps(doc))
    rerun = doit("config")
    assert sorted(executed(rerun)) == [f"config:{v}" for v in VARIANTS]
    merged = json.loads((repo / "python-3.12.10/build/config.json").read_text())
    assert merged["build"]["timeout"] == 60


def test_variant_config_change_reruns_only_that_variant(doit: DoitRun, repo: Path) -> None:
    assert doit("config").returncode == 0
    config = repo / "python-3.10.11/config.json"
    doc = json.loads(config.read_text())
    doc["packages"]["overrides"] = {"seaborn": "0.12.1"}
    config.write_text(json.dumps(doc))
    assert executed(doit("config")) == ["config:3.10.11"]


def test_invalid_config_fails_and_leaves_no_output(doit: DoitRun, repo: Path) -> None:
    assert doit("config:3.12.10").returncode == 0
    config = repo / "python-3.12.10/config.json"
    doc = json.loads(config.read_text())
    doc["packages"]["skip"] = {"cudf-cu12": {"macos": {"reason": "r"}}}
    doc["build"] = {"timeout": "soon"}
    config.write_text(json.dumps(doc))
    failed = doit("config:3.12.10")
    assert failed.returncode != 0
    output = failed.stdout + failed.stderr
    assert "2 configuration problems:" in output
    assert "python-3.12.10/config.json: $.build.timeout: expected number, got string" in output
    assert "python-3.12.10/config.json: $.packages.skip.cudf-cu12.macos: unknown platform 'macos'" in output
    assert not (repo / "python-3.12.10/build/config.json").exists()


def test_malformed_json_reports_line_and_column(doit: DoitRun, repo: Path) -> None:
    (repo / "python-3.10.11/config.json").write_text('{\n  "packages": {\n    "dependencies": [}\n}\n')
    failed = doit("config:3.10.11")
    assert failed.returncode != 0
    assert "python-3.10.11/config.json:3:22: invalid JSON: Expecting value" in failed.stdout + failed.stderr


def test_target_file_path_runs_its_task(doit: DoitRun, repo: Path) -> None:
    ran = doit("python-3.12.10-atls/build/config.json")
    assert ran.returncode == 0, ran.stderr
    assert executed(ran) == ["config:3.12.10-atls"]


def test_new_variant_directory_is_discovered(doit: DoitRun, repo: Path) -> None:
    (repo / "python-3.12.1-mini").mkdir()
    (repo / "python-3.12.1-mini/config.json").write_text('{"packages": {"dependencies": ["six==1.17.0"]}}')
    (repo / "python-3.99.0").mkdir()
    (repo / "python-3.99.0/config.json").write_text("{}")
    listed = doit("list", "--all")
    assert listed.returncode == 0, listed.stderr
    assert "build:3.12.1-mini-windows-x64" in listed.stdout
    assert "[no pinned CPython 3.99.0: add it to configs/pythons.json]" in listed.stdout
    built = doit("config:3.12.1-mini")
    assert built.returncode == 0, built.stderr
    merged = json.loads((repo / "python-3.12.1-mini/build/config.json").read_text())
    assert merged["variant"] == {"name": "3.12.1-mini", "pythonVersion": "3.12.1", "suffix": "mini"}
    assert merged["packages"]["dependencies"] == ["six==1.17.0"]


def test_listing_tasks_does_no_heavy_imports(repo: Path) -> None:
    probe = (
        "import sys, dodo\n"
        "for name in dir(dodo):\n"
        "    if name.startswith('task_'):\n"
        "        list(getattr(dodo, name)() or [])\n"
        "heavy = {'jsonschema', 'requests', 'boto3', 'tomlkit', 'zlib_ng', 'rich'} & set(sys.modules)\n"
        "print(sorted(heavy))\n"
    )
    done = subprocess.run([sys.executable, "-c", probe], cwd=repo, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"
