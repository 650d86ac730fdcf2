"""buildWheel: turn a shipped sdist into a wheel with the built interpreter (host only).

``buildRequires`` go into a throwaway venv of the built interpreter, nowhere else; the wheel
is built there without build isolation, stored in the cache under its own hash, and recorded
in ``build/<platform>/wheels.json`` against the sdist's hash, so re-assembling reuses it.
The environment then ships the wheel instead of the sdist, and requirements.txt pins its hash.
"""

from __future__ import annotations

import re
import shutil
import tempfile
from pathlib import Path
from typing import Any

from tasks.errors import BuildError
from tasks.model.records import SelectReport
from tasks.plumbing import files
from tasks.plumbing.cache import Cache, sha256_of
from tasks.plumbing.commands import run_command
from tasks.plumbing.files import link_or_copy
from tasks.plumbing.host import venv_interpreter


def build_one(python: Path, sdist: Path, rule: dict[str, Any], timeout: float, temp: Path) -> Path:
    """Build *sdist* into a wheel under *temp*; returns the wheel's path (caller copies it)."""
    step = f"buildWheel {sdist.name}"
    venv = temp / "venv"
    run_command([python, "-m", "venv", venv], step, timeout)
    pip = [str(venv_interpreter(venv)), "-m", "pip", "--isolated"]
    requires = list(rule.get("buildRequires", []))
    if requires:
        run_command([*pip, "install", "-q", *requires], step, timeout)
    settings = [f"--config-settings={key}={value}" for key, value in rule.get("configSettings", [])]
    out = temp / "out"
    run_command([*pip, "wheel", "-q", "--no-deps", "--no-build-isolation", *settings, "-w", out, sdist], step, timeout)
    wheels = sorted(out.glob("*.whl"))
    if len(wheels) != 1:
        raise BuildError(f"{step}: pip wheel made {len(wheels)} wheels, expected one")
    return wheels[0]


def repin(requirements: str, name: str, digest: str) -> str:
    """Point *name*'s ``--hash`` in a hashed requirements file at the built wheel."""
    pattern = re.compile(rf"^({re.escape(name)}==\S+ \\\n\s+--hash=sha256:)[0-9a-f]{{64}}", re.MULTILINE)
    return pattern.sub(lambda m: m.group(1) + digest, requirements)


def wheel_for(
    python: Path, sdist: Path, rule: dict[str, Any], timeout: float, cache: Cache, known: dict[str, str] | None
) -> tuple[Path, dict[str, str]]:
    """The cached wheel built earlier from this sdist, or a new build stored in the cache."""
    if known and (cached := cache.verified(known["sha256"])[0]) is not None:
        return cached, known
    temp = Path(tempfile.mkdtemp(prefix="runenv-wheel-"))
    try:
        wheel = build_one(python, sdist, rule, timeout, temp)
        built = {"file": wheel.name, "sha256": sha256_of(wheel)}
        return cache.commit(wheel, built["sha256"]), built
    finally:
        shutil.rmtree(temp, ignore_errors=True)


def apply_build_wheels(
    python: Path | None,
    packages: Path,
    report: SelectReport,
    rules: dict[str, Any],
    record_path: Path,
    timeout: float,
) -> tuple[list[str], dict[str, dict[str, str]]]:
    """Ship a wheel for every buildWheel sdist: returns (names still needing a native runner,
    {name: built wheel}). Without a runnable *python* (a foreign platform) the sdists stay."""
    wanted = [s for s in report.selected if s.build_wheel]
    if python is None:
        return [s.name for s in wanted], {}
    if not wanted:
        return [], {}
    record: dict[str, Any] = files.read_json(record_path) if record_path.is_file() else {}
    cache, shipped = Cache(), {}
    requirements = (packages / "requirements.txt").read_text(encoding="utf-8")
    for selected in wanted:
        cached, built = wheel_for(
            python, packages / selected.file, rules[selected.name], timeout, cache, record.get(selected.sha256)
        )
        record[selected.sha256] = built
        link_or_copy(cached, packages / built["file"])
        (packages / selected.file).unlink(missing_ok=True)
        requirements = repin(requirements, selected.name, built["sha256"])
        shipped[selected.name] = built
        print(f"  buildWheel {selected.name}: {built['file']}")
    files.write_text_atomic(packages / "requirements.txt", requirements)
    files.write_json_atomic(record_path, record)
    return [], shipped
