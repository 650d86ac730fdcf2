"""Issue 12: from build to consumer. Cells published from several machines (runners publish
their own archives, the last job the catalogue), then the data platform's path: npm install
the catalogue from a real npm registry (verdaccio), follow an entrypoint to the variant's
descriptor, download the archive from the S3 registry (SeaweedFS), verify it, unpack it and
run its interpreter with the wheelhouse installed offline. The consumer shares nothing with
the build but the two registries."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import tarfile
from pathlib import Path
from typing import Any

from tasks.model.platforms import PLATFORM_KEYS
from tests.conftest import SeaweedS3, Verdaccio
from tests.publish.conftest import HOST, run

PREFIX = "runenv"


def machine(repo: Path, target: Path, keep: set[str], archives: bool) -> Path:
    """A copy of *repo* as a machine that built only the cells in *keep* (all cells' small
    files, without archives, when *archives* is False: the last job's artifacts)."""
    shutil.copytree(repo, target, symlinks=True)
    for variant_dir in target.glob("python-*"):
        variant = variant_dir.name.removeprefix("python-")
        for platform in PLATFORM_KEYS:
            if f"{variant}-{platform}" not in keep:
                shutil.rmtree(variant_dir / "build" / platform, ignore_errors=True)
                shutil.rmtree(variant_dir / "pydist" / platform, ignore_errors=True)
                for archive in (variant_dir / "archives").glob(f"*-{platform}.tgz*"):
                    archive.unlink()
            elif not archives:
                for archive in (variant_dir / "archives").glob(f"*-{platform}.tgz*"):
                    archive.unlink()
                for item in (variant_dir / "pydist" / platform).iterdir():
                    if item.name != "runenv.json":
                        shutil.rmtree(item) if item.is_dir() and not item.is_symlink() else item.unlink()
    return target


def cells_of(repo: Path) -> list[str]:
    return [f"{p.name.removeprefix('python-')}-{k}" for p in sorted(repo.glob("python-*")) for k in PLATFORM_KEYS]


def publish_from_three_machines(repo: Path, env: dict[str, str], work: Path) -> dict[str, Any]:
    everything = set(cells_of(repo))
    linux = {c for c in everything if c.endswith(HOST)}
    runner_a = machine(repo, work / "runner-a", linux, archives=True)
    runner_b = machine(repo, work / "runner-b", everything - linux, archives=True)
    last = machine(repo, work / "last", everything, archives=False)
    outputs = {}
    outputs["a"] = run(runner_a, env, "publish", "--cells", f"*{HOST}")
    assert outputs["a"].returncode == 0, outputs["a"].stdout + outputs["a"].stderr
    assert "no catalogue here" in outputs["a"].stdout
    catalogued = run(last, env, "catalogue", "--cells", "*")
    assert catalogued.returncode == 0, catalogued.stdout + catalogued.stderr
    early = run(last, env, "publish", "--cells", "*")
    assert early.returncode == 0, early.stdout + early.stderr
    assert "catalogue not published: the registry lacks" in early.stdout
    outputs["b"] = run(runner_b, env, "publish", "--cells", "*")
    assert outputs["b"].returncode == 0, outputs["b"].stdout + outputs["b"].stderr
    for cell in sorted(linux):
        assert f"  not built here: {cell}" in outputs["b"].stdout
    outputs["last"] = run(last, env, "publish", "--cells", "*")
    assert outputs["last"].returncode == 0, outputs["last"].stdout + outputs["last"].stderr
    return outputs


def expand(template: str, platform: str) -> str:
    os_name, arch = platform.split("-")
    return template.replace("{os}", os_name).replace("{arch}", arch)


def test_cells_published_from_three_machines_reach_a_consumer(
    repo_env: tuple[Path, dict[str, str]], s3_server: SeaweedS3, npm_registry: Verdaccio, tmp_path: Path
) -> None:
    repo, env = repo_env
    env.update({"RUNENV_REGISTRY": f"s3://envs/{PREFIX}", **s3_server.env(), **npm_registry.env()})
    outputs = publish_from_three_machines(repo, env, tmp_path)
    token = npm_registry.env()["NPM_TOKEN"]
    assert all(token not in o.stdout + o.stderr for o in outputs.values()), "the npm token is never printed"
    assert "npm: publishing to" in outputs["last"].stdout
    variant = sorted(p.name.removeprefix("python-") for p in repo.glob("python-*"))[0]  # the "-a" variant

    # The consumer: its own directory, the two registries, nothing else.
    consumer = tmp_path / "consumer"
    consumer.mkdir()
    (consumer / "package.json").write_text(json.dumps({"name": "consumer", "private": True}))
    catalogue_name = json.loads((repo / "configs/catalogue.json").read_text())["name"]
    npm_env = {**os.environ, "NPM_CONFIG_USERCONFIG": str(tmp_path / "empty-npmrc"), "NO_UPDATE_NOTIFIER": "1"}
    installed = subprocess.run(
        ["npm", "install", catalogue_name, "--registry", npm_registry.url, "--no-audit", "--no-fund"],
        cwd=consumer,
        env=npm_env,
        capture_output=True,
        text=True,
    )
    assert installed.returncode == 0, installed.stderr
    modules = consumer / "node_modules"
    catalogue = json.loads((modules / catalogue_name / "package.json").read_text())
    reference = catalogue["block-software"]["entrypoints"][variant]["reference"]
    descriptor = json.loads((modules / reference).read_text())
    key = expand(descriptor["runEnv"]["package"], HOST)

    client = s3_server.client()
    archive = tmp_path / "download" / Path(key).name
    archive.parent.mkdir()
    client.download_file("envs", f"{PREFIX}/{key}", str(archive))
    digest = hashlib.sha256(archive.read_bytes()).hexdigest()
    published = client.get_object(Bucket="envs", Key=f"{PREFIX}/{key}.sha256")["Body"].read().decode()
    assert published.split()[0] == digest
    sums = dict(
        reversed(line.split("  ")) for line in (modules / catalogue_name / "dist/SHA256SUMS").read_text().splitlines()
    )
    assert sums[key] == digest

    environment = tmp_path / "env"
    with tarfile.open(archive) as tar:
        tar.extractall(environment, filter="data")
    venv = tmp_path / "venv"
    subprocess.run([str(environment / "bin/python3"), "-m", "venv", str(venv)], check=True)
    subprocess.run(
        [str(venv / "bin/python"), "-m", "pip", "install", "-q", "--no-index", "--find-links",
         str(environment / "packages"), "-r", str(environment / "packages/requirements.txt")],
        check=True,
    )  # fmt: skip
    variables = dict(item.split("=", 1) for item in descriptor["runEnv"]["envVars"])
    assert variables == {"RUNENV_CONSUMER_MARK": "a-1"}
    ran = subprocess.run(
        [str(venv / "bin/python"), "-c", "import os, six; print(six.__version__, os.environ['RUNENV_CONSUMER_MARK'])"],
        env={**os.environ, **variables},
        capture_output=True,
        text=True,
    )
    assert ran.returncode == 0, ran.stderr
    assert ran.stdout.split() == ["1.17.0", "a-1"]


def test_npm_publish_is_idempotent_and_refuses_a_changed_tarball(
    repo_env: tuple[Path, dict[str, str]], npm_registry: Verdaccio, tmp_path: Path
) -> None:
    repo, env = repo_env
    env.update({"RUNENV_REGISTRY": str(tmp_path / "registry"), **npm_registry.env()})
    first = run(repo, env, "publish")
    assert first.returncode == 0, first.stdout + first.stderr
    assert first.stdout.count("  upload @") == 3, first.stdout
    again = run(repo, env, "publish")
    assert again.returncode == 0 and again.stdout.count("  same   @") == 3, again.stdout + again.stderr
    variant = sorted(repo.glob("python-*"))[0]
    package = json.loads((variant / "package.json").read_text())
    package["description"] = "changed without a version bump"
    (variant / "package.json").write_text(json.dumps(package, indent=2))
    refused = run(repo, env, "publish")
    assert refused.returncode != 0
    assert f"{package['name']}@{package['version']} is published with a different tarball" in refused.stdout, (
        refused.stdout + refused.stderr
    )
    assert f"bump the version in {variant.name}/package.json" in refused.stdout
