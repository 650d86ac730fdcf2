"""build.resolver pip-tools: host platform only, with the same per-platform outputs."""

from __future__ import annotations

import platform
import sys
from pathlib import Path

from tasks.model import toml
from tasks.model.platforms import PLATFORM_KEYS, host_platform_key
from tests.conftest import DoitRun, add_variant

VARIANT = "{}.{}.{}-pt".format(*sys.version_info[:3])


def test_pip_tools_locks_the_host_and_refuses_foreign_platforms(doit: DoitRun, repo: Path) -> None:
    host = host_platform_key(platform.system(), platform.machine())
    assert host is not None
    foreign = next(key for key in PLATFORM_KEYS if key != host)
    add_variant(repo, VARIANT, {"dependencies": ["markupsafe==3.0.2", "six==1.17.0"]}, build={"resolver": "pip-tools"})
    built = doit(f"fetch:{VARIANT}-{host}")
    assert built.returncode == 0, built.stdout + built.stderr
    universal = toml.loads((repo / f"python-{VARIANT}/pylock.toml").read_text())
    assert universal["tool"]["runenv"]["resolver"] == "pip-tools"
    assert len(universal["environments"]) == 1
    packages = toml.loads((repo / f"python-{VARIANT}/build/{host}/pylock.toml").read_text())["packages"]
    assert [(p["name"], p["version"]) for p in packages] == [("markupsafe", "3.0.2"), ("six", "1.17.0")]
    wheelhouse = {p.name for p in (repo / f"python-{VARIANT}/pydist/{host}/packages").iterdir()}
    assert {p["wheels"][0]["name"] for p in packages} | {"requirements.txt"} == wheelhouse
    refused = doit(f"select:{VARIANT}-{foreign}")
    assert refused.returncode != 0
    assert (
        f"the lock does not cover {foreign}: build.resolver pip-tools resolves for the host platform only: "
        "pip evaluates environment markers against the interpreter it runs in, even with --platform "
        "(pip issue 11664)"
    ) in refused.stdout + refused.stderr
