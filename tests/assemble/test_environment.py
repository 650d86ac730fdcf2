"""Environments end to end: a real CPython (the one running the tests, served on loopback in
python-build-standalone layout), real packages, real doit runs, real archives."""

from __future__ import annotations

import hashlib
import io
import json
import platform as host
import shutil
import subprocess
import tarfile
from pathlib import Path
from typing import Any

import pytest
from packaging.utils import parse_wheel_filename

from tasks.model import platforms
from tasks.model.platforms import host_platform_key
from tasks.plumbing.archive import pack
from tasks.plumbing.cache import sha256_of
from tests.conftest import REPO, DoitRun, StaticServer, add_variant

HOST = host_platform_key(host.system(), host.machine()) or "linux-x64"
PLATFORMS = platforms.load(REPO / "configs/platforms.json")
MINOR = ".".join(host.python_version().split(".")[:2])


def e2e_variant(repo: Path, version: str, suffix: str = "e2e") -> str:
    name = f"{version}-{suffix}"
    directory = add_variant(
        repo,
        name,
        {
            "dependencies": ["markupsafe==3.0.2", "pyyaml==6.0.2"],
            "platformSpecific": {
                HOST: {
                    "copyFiles": [
                        {"from": "extra/bin/", "to": "bin/"},
                        {"from": "extra/site/", "to": "{site-packages}/"},
                    ]
                }
            },
        },
        envVars=["HELLO=world"],
    )
    (directory / "extra/bin").mkdir(parents=True)
    (directory / "extra/site/hello_mod").mkdir(parents=True)
    tool = directory / "extra/bin/hello"
    tool.write_text("#!/usr/bin/env python3\nimport hello_mod\nprint(hello_mod.GREETING)\n")
    tool.chmod(0o755)
    (directory / "extra/site/hello_mod/__init__.py").write_text('GREETING = "hello from copyFiles"\n')
    return name


def pythons_env(machine_python: Any, tmp_path: Path, platform: str = HOST, **entry: Any) -> dict[str, str]:
    return {"RUNENV_PYTHONS": str(machine_python.pythons_file(tmp_path / "pythons.json", platform, **entry))}


def test_end_to_end_environment_runs_after_relocation(
    doit: DoitRun, repo: Path, machine_python: Any, tmp_path: Path
) -> None:
    variant = e2e_variant(repo, machine_python.version)
    built = doit(f"build:{variant}-{HOST}", env=pythons_env(machine_python, tmp_path))
    assert built.returncode == 0, built.stdout + built.stderr
    report = json.loads((repo / f"python-{variant}/build/{HOST}/report.json").read_text())
    assert f"{variant}-{HOST}: {len(report['selected'])} packages, 0 left out, check passed" in built.stdout
    archive = repo / f"python-{variant}/archives/1.0.0-{PLATFORMS[HOST].os}-{PLATFORMS[HOST].arch}.tgz"
    checksum = archive.with_name(archive.name + ".sha256").read_text().split()[0]
    assert checksum == sha256_of(archive)
    unpacked = tmp_path / "unpacked"
    unpacked.mkdir()
    subprocess.run(["tar", "-xzf", str(archive), "-C", str(unpacked)], check=True)
    assert (unpacked / "bin/python").exists() and (unpacked / "bin/python3").exists()
    venv = tmp_path / "venv"
    subprocess.run([str(unpacked / "bin/python3"), "-m", "venv", str(venv)], check=True)
    subprocess.run(
        [
            str(venv / "bin/python"),
            "-m",
            "pip",
            "--isolated",
            "install",
            "-q",
            "--no-index",
            "--find-links",
            str(unpacked / "packages"),
            "-r",
            str(unpacked / "packages/requirements.txt"),
        ],
        check=True,
    )
    imported = subprocess.run(
        [str(venv / "bin/python"), "-c", "import markupsafe, yaml; print(yaml.__version__)"],
        capture_output=True,
        text=True,
        check=True,
    )
    assert imported.stdout.strip() == "6.0.2"
    tool = subprocess.run(
        [str(unpacked / "bin/python3"), str(unpacked / "bin/hello")], capture_output=True, text=True, check=True
    )
    assert tool.stdout.strip() == "hello from copyFiles"
    assert (unpacked / f"lib/python{MINOR}/site-packages/hello_mod/__init__.py").is_file()
    manifest = json.loads((unpacked / "runenv.json").read_text())
    assert manifest["base"]["archiveSha256"] == machine_python.sha256
    assert {p["name"] for p in manifest["packages"]} == {"markupsafe", "pyyaml"}
    check = json.loads((repo / f"python-{variant}/build/{HOST}/check.json").read_text())
    assert check["status"] == "passed" and check["imports"]["failures"] == []
    descriptor = json.loads((repo / f"python-{variant}/dist/tengo/software/main.sw.json").read_text())
    assert descriptor == {
        "name": f"@platforma-open/test.runenv-python-{variant}:main",
        "runEnv": {
            "type": "python",
            "python-version": machine_python.version,
            "envVars": ["HELLO=world"],
            "registry": "platforma-open",
            "binDir": "bin",
            "package": f"software/platforma-open/test.runenv-python-{variant}/main/1.0.0-{{os}}-{{arch}}.tgz",
        },
    }
    assert [
        e
        for e in doit(f"build:{variant}-{HOST}", env=pythons_env(machine_python, tmp_path)).stdout.splitlines()
        if e.startswith(".  ")
    ] == []


def test_two_clean_builds_give_byte_identical_archives(
    doit: DoitRun, repo: Path, machine_python: Any, tmp_path: Path
) -> None:
    variant = e2e_variant(repo, machine_python.version)
    env = pythons_env(machine_python, tmp_path)
    assert doit(f"pack:{variant}-{HOST}", env=env).returncode == 0
    twin = tmp_path / "twin"
    shutil.copytree(repo, twin, ignore=shutil.ignore_patterns(".doit.db*", "build", "pydist", "dist", "archives"))
    twin_run = doit(f"pack:{variant}-{HOST}", env=env, cwd=twin)
    assert twin_run.returncode == 0, twin_run.stdout + twin_run.stderr
    name = f"1.0.0-{PLATFORMS[HOST].os}-{PLATFORMS[HOST].arch}.tgz"
    first, second = (root / f"python-{variant}/archives/{name}" for root in (repo, twin))
    assert sha256_of(first) == sha256_of(second)


def layout_only_archive(work: Path, windows: bool, minor: str) -> Path:
    """A stand-in with the real folder shape of a foreign python-build-standalone archive: those
    interpreters can neither run nor be downloaded on this Linux host."""
    tree = work / "src" / "python"
    files = (
        ["python.exe", "Lib/os.py", "Lib/venv/__init__.py", "Lib/site-packages/README.txt", "DLLs/_ssl.pyd"]
        if windows
        else [
            "bin/python3",
            f"bin/python{minor}",
            f"lib/python{minor}/os.py",
            f"lib/python{minor}/site-packages/README",
        ]
    )
    for name in files:
        (tree / name).parent.mkdir(parents=True, exist_ok=True)
        (tree / name).write_text("layout-only stand-in\n")
    archive = work / "served" / "layout.tar.gz"
    pack(tree.parent, archive, 0, 1)
    return archive


@pytest.mark.parametrize("platform", ["windows-x64", "macosx-aarch64"])
def test_foreign_platform_layout_and_wheel_tags(doit: DoitRun, repo: Path, tmp_path: Path, platform: str) -> None:
    version = "3.12.1"
    archive = layout_only_archive(tmp_path, platform.startswith("windows"), "3.12")
    server = StaticServer(archive.parent)
    try:
        pythons = tmp_path / "pythons.json"
        pythons.write_text(
            json.dumps(
                {
                    "versions": {
                        version: {platform: {"url": f"{server.url}/{archive.name}", "sha256": sha256_of(archive)}}
                    }
                }
            )
        )
        variant = f"{version}-x"
        rule = {"reason": "test: build natively", "buildRequires": ["setuptools"]}
        add_variant(
            repo,
            variant,
            {
                "dependencies": ["markupsafe==3.0.2", "pyyaml==6.0.2", "six==1.17.0"],
                "buildWheel": {"six": {platform: rule}},
            },
        )
        built = doit(f"build:{variant}-{platform}", env={"RUNENV_PYTHONS": str(pythons)})
    finally:
        server.stop()
    assert built.returncode == 0, built.stdout + built.stderr
    root = repo / f"python-{variant}/pydist/{platform}"
    expected = (
        ["bin/python.exe", "bin/Lib/site-packages"]
        if platform == "windows-x64"
        else ["bin/python", "bin/python3", "lib/python3.12/site-packages"]
    )
    assert all((root / name).exists() for name in expected), sorted(p.name for p in root.rglob("*"))
    tags = set(PLATFORMS[platform].tags(version))
    wheels = sorted((root / "packages").glob("*.whl"))
    assert len(wheels) == 2 and all(not parse_wheel_filename(w.name)[-1].isdisjoint(tags) for w in wheels)
    check = json.loads((repo / f"python-{variant}/build/{platform}/check.json").read_text())
    assert (check["status"], check["verification"]) == ("verified-static", "static")
    assert check["static"]["binaries"] >= 2, "markupsafe's and pyyaml's extension modules were read"
    assert check["static"]["aboveFloor"] == [] and check["static"]["incomplete"] is None
    assert f"{variant}-{platform}: check verified-static: " in built.stdout
    manifest = json.loads((root / "runenv.json").read_text())
    assert manifest["needsNativeRunner"] == ["buildWheel six"]
    assert (root / "packages/six-1.17.0.tar.gz").is_file()


def failed_build(doit: DoitRun, repo: Path, variant: str, env: dict[str, str]) -> str:
    result = doit(f"build:{variant}-{HOST}", env=env)
    assert result.returncode != 0
    assert not list((repo / f"python-{variant}").glob("archives/*.tgz")), "no archive is left behind"
    return result.stdout + result.stderr


def test_wrong_base_hash_names_both_digests(doit: DoitRun, repo: Path, machine_python: Any, tmp_path: Path) -> None:
    variant = e2e_variant(repo, machine_python.version)
    output = failed_build(doit, repo, variant, pythons_env(machine_python, tmp_path, sha256="0" * 64))
    assert f"has sha256 {machine_python.sha256}, configs/pythons.json expects {'0' * 64}" in output


def test_archive_with_escaping_paths_is_refused(doit: DoitRun, repo: Path, machine_python: Any, tmp_path: Path) -> None:
    evil = tmp_path / "served" / "evil.tar.gz"
    evil.parent.mkdir()
    with tarfile.open(evil, "w:gz") as tar:
        for name in ("python/bin/python3", "python/../../escape.txt", "/etc/runenv-owned"):
            info = tarfile.TarInfo(name)
            info.size = 2
            tar.addfile(info, io.BytesIO(b"x\n"))
    server = StaticServer(evil.parent)
    try:
        variant = e2e_variant(repo, machine_python.version)
        pythons = tmp_path / "pythons.json"
        pythons.write_text(
            json.dumps(
                {
                    "versions": {
                        machine_python.version: {
                            HOST: {
                                "url": f"{server.url}/evil.tar.gz",
                                "sha256": hashlib.sha256(evil.read_bytes()).hexdigest(),
                            }
                        }
                    }
                }
            )
        )
        output = failed_build(doit, repo, variant, {"RUNENV_PYTHONS": str(pythons)})
    finally:
        server.stop()
    assert (
        "evil.tar.gz: refusing to extract: path 'python/../../escape.txt' climbs out with '..'; "
        "absolute path '/etc/runenv-owned'"
    ) in output
    assert not (tmp_path / "escape.txt").exists()


def test_unreachable_release_host_says_how_to_supply_the_interpreter(
    doit: DoitRun, repo: Path, machine_python: Any, tmp_path: Path
) -> None:
    variant = e2e_variant(repo, machine_python.version)
    pythons = tmp_path / "pythons.json"
    url = "http://127.0.0.1:9/releases/20250529/cpython.tar.gz"
    pythons.write_text(json.dumps({"versions": {machine_python.version: {HOST: {"url": url, "sha256": "0" * 64}}}}))
    output = failed_build(doit, repo, variant, {"RUNENV_PYTHONS": str(pythons), "RUNENV_FETCH_RETRIES": "1"})
    assert f"cannot download the base CPython from {url}" in output
    assert "supply it through $RUNENV_PYTHONS" in output and "set $RUNENV_PYTHON_MIRROR" in output


def test_missing_copy_files_source_is_an_error(doit: DoitRun, repo: Path, machine_python: Any, tmp_path: Path) -> None:
    variant = e2e_variant(repo, machine_python.version)
    assert doit(f"build:{variant}-{HOST}", env=pythons_env(machine_python, tmp_path)).returncode == 0
    assert list((repo / f"python-{variant}").glob("archives/*.tgz")), "a good build first"
    shutil.rmtree(repo / f"python-{variant}/extra/site")
    output = failed_build(doit, repo, variant, pythons_env(machine_python, tmp_path))
    assert (
        f"python-{variant}/config.json: copyFiles from 'extra/site/': python-{variant}/extra/site "
        "does not exist; create it or remove the entry"
    ) in output


def test_local_interpreter_of_the_wrong_version(doit: DoitRun, repo: Path, machine_python: Any, tmp_path: Path) -> None:
    local = tmp_path / "local"
    local.mkdir()
    subprocess.run(["tar", "-xzf", str(machine_python.archive), "-C", str(local)], check=True)
    variant = e2e_variant(repo, "3.10.11", "wrong")
    pythons = tmp_path / "pythons.json"
    pythons.write_text(json.dumps({"versions": {"3.10.11": {HOST: {"path": str(local / "python")}}}}))
    output = failed_build(doit, repo, variant, {"RUNENV_PYTHONS": str(pythons)})
    assert (
        f"{local / 'python'} is CPython {machine_python.version}, but python-{variant} needs 3.10.11; "
        "supply a matching interpreter"
    ) in output


def test_build_wheel_on_the_host_ships_a_wheel(doit: DoitRun, repo: Path, machine_python: Any, tmp_path: Path) -> None:
    variant = f"{machine_python.version}-bw"
    rule = {"reason": "test: build it here", "buildRequires": ["setuptools>=61", "wheel"]}
    add_variant(repo, variant, {"dependencies": ["six==1.17.0"], "buildWheel": {"six": {HOST: rule}}})
    built = doit(f"build:{variant}-{HOST}", env=pythons_env(machine_python, tmp_path))
    assert built.returncode == 0, built.stdout + built.stderr
    packages = repo / f"python-{variant}/pydist/{HOST}/packages"
    assert sorted(p.name for p in packages.iterdir()) == ["requirements.txt", "six-1.17.0-py2.py3-none-any.whl"]
    wheel_hash = sha256_of(packages / "six-1.17.0-py2.py3-none-any.whl")
    assert f"--hash=sha256:{wheel_hash}" in (packages / "requirements.txt").read_text()
    manifest = json.loads((repo / f"python-{variant}/pydist/{HOST}/runenv.json").read_text())
    assert manifest["packages"][0]["file"] == "six-1.17.0-py2.py3-none-any.whl"
    assert manifest["needsNativeRunner"] == []
    assert json.loads((repo / f"python-{variant}/build/{HOST}/check.json").read_text())["status"] == "passed"


def test_a_local_base_is_lean_and_described_by_its_tree(
    doit: DoitRun, repo: Path, machine_python: Any, tmp_path: Path
) -> None:
    """A machine's CPython directory with a test suite, IDLE, a static libpython and
    site-packages leftovers (a .pth that runs at every start): pruned, emptied but for pip,
    recorded by version and tree sha256, never by its path; floor problems are warnings."""
    local = tmp_path / "local"
    local.mkdir()
    subprocess.run(["tar", "-xzf", str(machine_python.archive), "-C", str(local)], check=True)
    stdlib = local / "python" / f"lib/python{MINOR}"
    for name in ("test/test_os.py", "idlelib/idle.py", "turtledemo/demo.py", f"config-{MINOR}-x/libpython{MINOR}.a"):
        (stdlib / name).parent.mkdir(parents=True, exist_ok=True)
        (stdlib / name).write_text("from the source machine\n")
    site = stdlib / "site-packages"
    (site / "pip").mkdir(parents=True)
    (site / "pip/__init__.py").write_text("")
    (site / "leftover.pth").write_text("import sys; print('runs at every start', file=sys.stderr)\n")
    (site / "leftover_pkg").mkdir()
    pythons = tmp_path / "pythons.json"
    pythons.write_text(json.dumps({"versions": {machine_python.version: {HOST: {"path": str(local / "python")}}}}))
    add_variant(repo, f"{machine_python.version}-lean", {"dependencies": ["six==1.17.0"]})
    variant = f"{machine_python.version}-lean"
    done = doit(f"build:{variant}-{HOST}", env={"RUNENV_PYTHONS": str(pythons)})
    assert done.returncode == 0, done.stdout + done.stderr
    manifest = json.loads((repo / f"python-{variant}/pydist/{HOST}/runenv.json").read_text())
    base = manifest["base"]
    planted = {f"lib/python{MINOR}/{name}" for name in ("idlelib", "test", "turtledemo")}
    assert planted | {f"lib/python{MINOR}/config-{MINOR}-x/libpython{MINOR}.a"} <= set(base["pruned"])
    assert all(p in planted or p.endswith(".a") or p.startswith("bin/idle") for p in base["pruned"])
    assert base["sitePackagesRemoved"] == ["leftover.pth", "leftover_pkg"]
    assert base["version"] == machine_python.version and len(base["treeSha256"]) == 64
    assert str(local) not in json.dumps(manifest), "the base is described by its tree, not its path"
    archive = next((repo / f"python-{variant}/archives").glob("*.tgz"))
    with tarfile.open(archive) as tar:
        names = tar.getnames()
    assert not [n for n in names if "/test/" in n or n.endswith(("leftover.pth", ".a")) or "idlelib" in n]
    assert f"lib/python{MINOR}/site-packages/pip/__init__.py" in names
    floor = [w for w in manifest["warnings"] if w.startswith("base: ")]
    assert floor == [line.removeprefix("  WARNING: ") for line in done.stdout.splitlines() if "WARNING: base: " in line]
    assert floor and floor[0].startswith("base: links ") and "which linux-x64's floor does not provide" in floor[0]
