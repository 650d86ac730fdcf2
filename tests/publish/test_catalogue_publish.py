"""Catalogue, publishing (a real S3 server, SeaweedFS, and a directory registry), clean and matrix.

Two test variants are built for all five platforms: the host cell on the machine's own CPython,
the four foreign cells on layout-only stand-ins with the real folder shape of
python-build-standalone archives (those interpreters can neither run nor be downloaded here).
"""

from __future__ import annotations

import hashlib
import json
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
import yaml

from tasks.model.platforms import PLATFORM_KEYS
from tasks.plumbing.cache import sha256_of
from tests.conftest import REPO, SeaweedS3, add_variant, executed
from tests.publish.conftest import HOST, run


def variants_of(repo: Path) -> list[str]:
    return sorted(p.name.removeprefix("python-") for p in repo.glob("python-*"))


def test_catalogue_lists_every_built_cell(repo_env: tuple[Path, dict[str, str]]) -> None:
    repo, env = repo_env
    done = run(repo, env, "catalogue")
    assert done.returncode == 0, done.stdout + done.stderr
    index = json.loads((repo / "catalogue/dist/index.json").read_text())
    assert len(index["cells"]) == 10
    for cell in index["cells"]:
        variant_dir = repo / f"python-{cell['variant']}"
        archive = variant_dir / "archives" / Path(cell["archive"]).name
        assert (cell["size"], cell["sha256"]) == (archive.stat().st_size, sha256_of(archive))
        manifest = json.loads((variant_dir / f"pydist/{cell['platform']}/runenv.json").read_text())
        assert (cell["lockHash"], cell["packageCount"]) == (manifest["lockHash"], 1)
        assert cell["check"] == ("passed" if cell["platform"] == HOST else "verified-static")
        assert cell["verification"] == ("imported" if cell["platform"] == HOST else "static")
        sbom = archive.with_name(archive.name.removesuffix(".tgz") + ".cdx.json")
        assert cell["sbom"] == {"path": cell["archive"].removesuffix(".tgz") + ".cdx.json", "sha256": sha256_of(sbom)}
        assert cell["signing"] == {"signed": False}
    unverified = {(u["variant"], u["platform"]) for u in index["notVerifiedOnThisHost"]}
    assert unverified == {(v, p) for v in variants_of(repo) for p in PLATFORM_KEYS if p != HOST}
    package = json.loads((repo / "catalogue/package.json").read_text())
    assert sorted(package["block-software"]["entrypoints"]) == variants_of(repo), "bare variant names"
    for variant in variants_of(repo):
        copy = repo / f"catalogue/dist/tengo/software/{variant}.sw.json"
        assert copy.read_text() == (repo / f"python-{variant}/dist/tengo/software/main.sw.json").read_text()
    sums = (repo / "catalogue/dist/SHA256SUMS").read_text().splitlines()
    assert len(sums) == 22 and all(len(line.split("  ")[0]) == 64 for line in sums), "10 archives, 10 SBOMs, 2 .sw"


def registry_objects(kind: str, repo: Path, s3: SeaweedS3 | None) -> dict[str, str]:
    """{key: sha256 of the stored bytes} of everything in the registry."""
    if kind == "file":
        root = repo / ".registry"
        return {p.relative_to(root).as_posix(): sha256_of(p) for p in root.rglob("*") if p.is_file()}
    assert s3 is not None
    client = s3.client()
    keys = [o["Key"] for o in client.list_objects_v2(Bucket="envs").get("Contents", [])]
    return {
        k.removeprefix("runenv/"): hashlib.sha256(client.get_object(Bucket="envs", Key=k)["Body"].read()).hexdigest()
        for k in keys
    }


@pytest.mark.parametrize("kind", ["file", "s3"])
def test_publish_is_complete_idempotent_and_immutable(
    repo_env: tuple[Path, dict[str, str]], kind: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    repo, env = repo_env
    s3 = request.getfixturevalue("s3_server") if kind == "s3" else None
    env.update({"RUNENV_REGISTRY": "s3://envs/runenv", **s3.env()} if s3 else {})
    first = run(repo, env, "publish")
    assert first.returncode == 0, first.stdout + first.stderr
    stored = registry_objects(kind, repo, s3)
    index = json.loads((repo / "catalogue/dist/index.json").read_text())
    for cell in index["cells"]:
        assert stored[cell["archive"]] == cell["sha256"]
        assert stored[cell["archive"] + ".sha256"] == sha256_of(
            repo / f"python-{cell['variant']}/archives/{Path(cell['archive']).name}.sha256"
        )
    assert stored["catalogue/dist/index.json"] == sha256_of(repo / "catalogue/dist/index.json")
    for line in (repo / "catalogue/dist/SHA256SUMS").read_text().splitlines():
        digest, key = line.split("  ")
        assert stored[key] == digest
    if s3:
        host_cell = next(c for c in index["cells"] if c["platform"] == HOST)
        assert host_cell["size"] > 8 * 1024 * 1024
        head = s3.client().head_object(Bucket="envs", Key=f"runenv/{host_cell['archive']}")
        assert "-" in head["ETag"], "archives over 8 MB go up as multipart uploads"
    again = run(repo, env, "publish")
    assert "published: 0 uploaded" in again.stdout, again.stdout + again.stderr
    archive_key = index["cells"][0]["archive"]
    local = repo / f"python-{index['cells'][0]['variant']}/archives/{Path(archive_key).name}"
    original = local.read_bytes()
    local.write_bytes(original + b"tampered")
    refused = run(repo, env, "publish")
    assert refused.returncode != 0
    assert f"{Path(archive_key).name}: sha256 {hashlib.sha256(original + b'tampered').hexdigest()} is not what " in (
        refused.stdout
    ), "an archive changed after pack is never uploaded"
    # another build of the same version (its own records agree with it): the registry refuses it
    tampered = hashlib.sha256(original + b"tampered").hexdigest()
    record = repo / f"python-{index['cells'][0]['variant']}/build/{index['cells'][0]['platform']}/archive.json"
    record.write_text(json.dumps({**json.loads(record.read_text()), "sha256": tampered}))
    local.with_name(local.name + ".sha256").write_text(f"{tampered}  {local.name}\n")
    conflict = run(repo, env, "publish")
    assert conflict.returncode != 0
    assert (
        f"{archive_key}: registry has sha256 {index['cells'][0]['sha256']}, this build has "
        f"{hashlib.sha256(original + b'tampered').hexdigest()}"
    ) in conflict.stdout + conflict.stderr
    assert registry_objects(kind, repo, s3)[archive_key] == index["cells"][0]["sha256"]
    if s3:
        for output in (first, again, conflict):
            assert SeaweedS3.SECRET not in output.stdout + output.stderr


def test_publish_survives_the_store_dying_midway(repo_env: tuple[Path, dict[str, str]], s3_server: SeaweedS3) -> None:
    repo, env = repo_env
    env.update({"RUNENV_REGISTRY": "s3://envs/runenv", "RUNENV_PUBLISH_ATTEMPTS": "2", **s3_server.env()})
    assert run(repo, env, "catalogue").returncode == 0
    client = s3_server.client()
    publishing = subprocess.Popen(
        [sys.executable, "-m", "doit", "publish"],
        cwd=repo,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    deadline = time.monotonic() + 60
    while not client.list_objects_v2(Bucket="envs").get("KeyCount") and time.monotonic() < deadline:
        time.sleep(0.05)
    s3_server.stop()
    output, _ = publishing.communicate(timeout=300)
    assert publishing.returncode != 0, output
    s3_server.start()

    def index_references_only_present_archives() -> bool:
        """True when an index is published; then every archive it names is there, intact."""
        store = s3_server.client()
        keys = {o["Key"] for o in store.list_objects_v2(Bucket="envs").get("Contents", [])}
        if "runenv/catalogue/dist/index.json" not in keys:
            return False
        published = json.loads(store.get_object(Bucket="envs", Key="runenv/catalogue/dist/index.json")["Body"].read())
        for cell in published["cells"]:
            body = store.get_object(Bucket="envs", Key=f"runenv/{cell['archive']}")["Body"].read()
            assert hashlib.sha256(body).hexdigest() == cell["sha256"], cell["archive"]
        return True

    assert not index_references_only_present_archives(), "the index goes last: not published yet"
    rerun = run(repo, env, "publish")
    assert rerun.returncode == 0, rerun.stdout + rerun.stderr
    assert index_references_only_present_archives()


def test_clean_one_cell_leaves_the_others_and_the_cache(repo_env: tuple[Path, dict[str, str]]) -> None:
    repo, env = repo_env
    cache_before = sorted(Path(env["RUNENV_CACHE_DIR"]).rglob("*"))
    variant_a, variant_b = variants_of(repo)
    done = run(repo, env, "clean", f"build:{variant_a}-{HOST}")
    assert done.returncode == 0, done.stdout + done.stderr
    assert not (repo / f"python-{variant_a}/build/{HOST}").exists()
    assert not (repo / f"python-{variant_a}/pydist/{HOST}").exists()
    assert not list((repo / f"python-{variant_a}/archives").glob("*-linux-x64.tgz*"))
    assert (repo / f"python-{variant_a}/pydist/windows-x64/runenv.json").is_file()
    assert (repo / f"python-{variant_b}/pydist/{HOST}/runenv.json").is_file()
    assert (repo / f"python-{variant_a}/pylock.toml").is_file(), "locks are sources, never cleaned"
    assert sorted(Path(env["RUNENV_CACHE_DIR"]).rglob("*")) == cache_before
    assert run(repo, env, "catalogue").returncode == 0
    everything = run(repo, env, "clean")
    assert everything.returncode == 0, everything.stdout + everything.stderr
    assert not list(repo.glob("python-*/pydist")) and not list(repo.glob("python-*/archives/*.tgz"))
    assert not (repo / "catalogue/dist").exists() and not (repo / "catalogue/package.json").exists()
    assert sorted(Path(env["RUNENV_CACHE_DIR"]).rglob("*")) == cache_before
    rebuilt = run(repo, env, f"build:{variant_a}-{HOST}")
    assert rebuilt.returncode == 0 and f"pack:{variant_a}-{HOST}" in executed(rebuilt)


def test_matrix_fits_the_workflow(repo_env: tuple[Path, dict[str, str]]) -> None:
    repo, env = repo_env
    add_variant(
        repo,
        "3.12.10-bw",
        {"dependencies": ["six==1.17.0"], "buildWheel": {"six": {"macosx-aarch64": {"reason": "native build"}}}},
    )
    done = run(repo, env, "matrix")
    assert done.returncode == 0, done.stdout + done.stderr
    include = json.loads((repo / "matrix.json").read_text())["include"]
    assert [job["runner"] for job in include] == [
        "ubuntu-24.04",
        "ubuntu-24.04-arm",
        "macos-13",
        "macos-14",
        "windows-2022",
    ]
    linux, mac_arm = include[0]["targets"].split(), include[3]["targets"].split()
    assert "build:3.12.10-bw-linux-x64" in linux and "pack:3.12.10-bw-windows-x64" in linux
    assert "pack:3.12.10-bw-macosx-aarch64" not in linux
    assert "build:3.12.10-bw-macosx-aarch64" in mac_arm and all(
        t.startswith("check:") for t in mac_arm if "3.12.10-bw" not in t
    )
    workflow_path = REPO / ".github/workflows/build.yml"
    workflow = yaml.safe_load(workflow_path.read_text())
    used = set(re.findall(r"\$\{\{[^}]*?\bmatrix\.([a-z_]+)", workflow_path.read_text()))
    assert used == {"name", "runner", "platform", "targets"}
    assert all(used <= set(job) for job in include)
    assert workflow["jobs"]["cells"]["strategy"]["matrix"] == "${{ fromJSON(needs.plan.outputs.matrix) }}"
    schema_check = subprocess.run(
        [
            str(Path(sys.executable).with_name("check-jsonschema")),
            "--builtin-schema",
            "vendor.github-workflows",
            str(workflow_path),
        ],
        capture_output=True,
        text=True,
    )
    assert schema_check.returncode == 0, schema_check.stdout + schema_check.stderr


def test_directory_publish_killed_midway_completes_on_rerun(repo_env: tuple[Path, dict[str, str]]) -> None:
    repo, env = repo_env
    assert run(repo, env, "catalogue").returncode == 0
    registry = repo / ".registry"
    publishing = subprocess.Popen(
        [sys.executable, "-m", "doit", "publish"],
        cwd=repo,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 60
    while not any(p.is_file() for p in registry.rglob("*.tgz")) and time.monotonic() < deadline:
        time.sleep(0.01)
    publishing.kill()
    publishing.wait()
    assert not (registry / "catalogue/dist/index.json").exists(), "the index goes last"
    rerun = run(repo, env, "publish")
    assert rerun.returncode == 0, rerun.stdout + rerun.stderr
    published = json.loads((registry / "catalogue/dist/index.json").read_text())
    assert all(sha256_of(registry / cell["archive"]) == cell["sha256"] for cell in published["cells"])
    assert not [p for p in registry.rglob(".*") if p.is_file()], "no temp files left as objects"


def test_new_variant_creates_a_validated_variant(repo_env: tuple[Path, dict[str, str]]) -> None:
    repo, env = repo_env
    refused = run(repo, env, "new_variant", "--name", "3.99.0-custom")
    assert refused.returncode != 0
    assert "configs/pythons.json pins no CPython 3.99.0: add it first, or pass --allow-unpinned" in refused.stdout
    assert not (repo / "python-3.99.0-custom").exists()
    created = run(repo, env, "new_variant", "--name", "3.12.10-custom")
    assert created.returncode == 0, created.stdout + created.stderr
    config = json.loads((repo / "python-3.12.10-custom/config.json").read_text())
    package = json.loads((repo / "python-3.12.10-custom/package.json").read_text())
    assert config["$schema"] == "../configs/schema/config.schema.json"
    assert package["name"] == "@platforma-open/milaboratories.runenv-python-3.12.10-custom"
    artifact = package["block-software"]["entrypoints"]["main"]["environment"]["artifact"]
    assert (artifact["python-version"], artifact["binDir"]) == ("3.12.10", "bin")
    assert run(repo, env, "config:3.12.10-custom").returncode == 0
    assert "build:3.12.10-custom-windows-x64" in run(repo, env, "list", "--all").stdout
    unpinned = run(repo, env, "new_variant", "--name", "3.99.0-custom", "--allow-unpinned")
    assert unpinned.returncode == 0 and (repo / "python-3.99.0-custom/config.json").is_file()


FORMAT = json.loads((REPO / "tests/fixtures/npm-package-format.json").read_text())
TYPES = {"string": str, "object": dict, "array": list}


def instantiate(shape: Any, pairs: list[tuple[str, str]]) -> Any:
    """The fixture's shape with '<variant>' and '<variant package>' spelled out for each variant."""
    if isinstance(shape, str):
        return shape
    if isinstance(shape, list):
        return [
            item.replace("<variant>", variant) if isinstance(item, str) else instantiate(item, pairs)
            for item in shape
            for variant, _ in (pairs if isinstance(item, str) and "<variant>" in item else [("", "")])
        ]
    concrete: dict[str, Any] = {}
    for key, value in shape.items():
        if "<variant" not in key:
            concrete[key] = instantiate(value, pairs)
            continue
        for variant, package in pairs:
            text = json.dumps({key: value}).replace("<variant package>", package).replace("<variant>", variant)
            concrete.update(json.loads(text))
    return concrete


def shape_problems(shape: Any, value: Any, path: str) -> list[str]:
    if isinstance(shape, dict):
        if not isinstance(value, dict):
            return [f"{path}: expected an object, got {value!r}"]
        return [p for key, sub in shape.items() for p in shape_problems(sub, value.get(key), f"{path}.{key}")]
    if isinstance(shape, str) and shape in TYPES:
        return [] if isinstance(value, TYPES[shape]) else [f"{path}: expected a {shape}, got {value!r}"]
    return [] if shape == value else [f"{path}: expected {shape!r}, got {value!r}"]


def npm_pack_files(directory: Path) -> list[str]:
    done = subprocess.run(
        ["npm", "pack", "--dry-run", "--json", "--ignore-scripts"], cwd=directory, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    return sorted(entry["path"] for entry in json.loads(done.stdout)[0]["files"])


@pytest.mark.skipif(shutil.which("npm") is None, reason="npm comes from Debian's nodejs/npm packages (./dev)")
def test_npm_packages_match_the_seed_format(repo_env: tuple[Path, dict[str, str]]) -> None:
    repo, env = repo_env
    assert run(repo, env, "catalogue").returncode == 0
    variants = variants_of(repo)
    pairs = [(v, json.loads((repo / f"python-{v}/package.json").read_text())["name"]) for v in variants]
    for variant, _ in pairs:
        directory = repo / f"python-{variant}"
        assert npm_pack_files(directory) == sorted(FORMAT["variant"]["files"]), "only the descriptor is published"
        for name in ("package.json", "dist/tengo/software/main.sw.json"):
            document = json.loads((directory / name).read_text())
            assert shape_problems(FORMAT["variant"][name], document, name) == []
    expected = instantiate(FORMAT["catalogue"], pairs)
    assert npm_pack_files(repo / "catalogue") == sorted(expected["files"] + expected["runenvFiles"])
    package = json.loads((repo / "catalogue/package.json").read_text())
    assert shape_problems(expected["package.json"], package, "package.json") == []
    assert sorted(package["block-software"]["entrypoints"]) == variants, "bare variant names, nothing else"


class FaultyS3Proxy:
    """Forwards S3 requests to SeaweedFS on loopback, answering the first *failures* uploads
    (PUT requests) with HTTP 500 instead, as a store under load does."""

    def __init__(self, upstream: str, failures: int) -> None:
        import http.client
        import threading
        from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
        from urllib.parse import urlparse

        target = urlparse(upstream)
        state = {"left": failures, "failed": 0}
        lock = threading.Lock()

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def forward(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                with lock:
                    fail = self.command == "PUT" and state["left"] != 0
                    if fail:
                        state["left"] -= 1
                        state["failed"] += 1
                if fail:
                    error = b"<Error><Code>InternalError</Code><Message>injected</Message></Error>"
                    self.send_response(500)
                    self.send_header("Content-Length", str(len(error)))
                    self.end_headers()
                    self.wfile.write(error)
                    return
                connection = http.client.HTTPConnection(str(target.hostname), target.port, timeout=60)
                connection.request(self.command, self.path, body=body, headers=dict(self.headers))
                answer = connection.getresponse()
                data = answer.read()
                self.send_response(answer.status)
                for name, value in answer.getheaders():
                    if name.lower() not in ("content-length", "transfer-encoding", "connection"):
                        self.send_header(name, value)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)
                connection.close()

            do_GET = do_PUT = do_POST = do_HEAD = do_DELETE = forward

            def log_message(self, *args: object) -> None:
                pass

        self.state = state
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.httpd.server_port}"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def stop(self) -> None:
        self.httpd.shutdown()


def test_s3_5xx_during_upload_is_retried_then_one_clear_line(
    repo_env: tuple[Path, dict[str, str]], s3_server: SeaweedS3
) -> None:
    repo, env = repo_env
    assert run(repo, env, "catalogue").returncode == 0
    flaky = FaultyS3Proxy(s3_server.endpoint, failures=3)
    env.update({**s3_server.env(), "RUNENV_REGISTRY": "s3://envs/runenv", "AWS_ENDPOINT_URL": flaky.url})
    retried = run(repo, env, "publish")
    flaky.stop()
    assert retried.returncode == 0, retried.stdout + retried.stderr
    assert flaky.state["failed"] == 3, "botocore retried the uploads the store refused"
    index = json.loads((repo / "catalogue/dist/index.json").read_text())
    stored = registry_objects("s3", repo, s3_server)
    assert all(stored[cell["archive"]] == cell["sha256"] for cell in index["cells"])
    broken = FaultyS3Proxy(s3_server.endpoint, failures=-1)
    env.update({"AWS_ENDPOINT_URL": broken.url, "RUNENV_PUBLISH_ATTEMPTS": "2"})
    (repo / "catalogue/dist/SHA256SUMS").write_text("changed\n")  # a catalogue file to upload again
    failed = run(repo, env, "publish")
    broken.stop()
    assert failed.returncode != 0
    assert "uploading catalogue/dist/SHA256SUMS: " in failed.stdout and "InternalError" in failed.stdout
    assert "Traceback" not in failed.stdout + failed.stderr
    assert SeaweedS3.SECRET not in failed.stdout + failed.stderr


def test_list_info_clean_and_matrix_speak_plainly(repo_env: tuple[Path, dict[str, str]]) -> None:
    repo, env = repo_env
    variant_a, variant_b = variants_of(repo)
    copied = run(repo, env, "list").stdout.splitlines()
    assert copied[1].split()[1:] == ["stale"] * 5, "a copied wheelhouse is verified again before packing"
    assert run(repo, env, "build").returncode == 0
    table = run(repo, env, "list").stdout.splitlines()
    assert table[0].split() == ["variant", "linux-x64", "linux-arm64", "macos-x64", "macos-arm64", "win-x64"]
    assert [line.split() for line in table[1:3]] == [[v] + ["built"] * 5 for v in (variant_a, variant_b)]
    assert table[3].startswith("signing: ") and table[4] == "" and max(len(line) for line in table[:4]) <= 80
    info = run(repo, env, "info", f"build:{variant_a}-{HOST}")
    assert info.returncode == 0, info.stdout + info.stderr
    config = repo / f"python-{variant_b}/config.json"
    document = json.loads(config.read_text())
    document["packages"]["dependencies"].append("markupsafe==3.0.2")
    config.write_text(json.dumps(document))
    stale = run(repo, env, "list").stdout.splitlines()
    assert stale[2].split() == [variant_b] + ["stale"] * 5 and stale[1].split() == [variant_a] + ["built"] * 5
    stale_info = run(repo, env, "info", f"build:{variant_b}-{HOST}")
    assert stale_info.returncode == 1, "the build task's own inputs are unchanged, but an earlier stage's are not"
    assert f"cell {variant_b}-{HOST}: stale\n  would rerun config:{variant_b}:\n" in stale_info.stdout
    assert f"cell {variant_a}-{HOST}: built\n" in info.stdout
    cleaned = run(repo, env, "clean", f"build:{variant_a}-{HOST}")
    assert cleaned.returncode == 0, cleaned.stdout + cleaned.stderr
    lines = cleaned.stdout.splitlines()
    assert lines and all(line.startswith("removed python-") for line in lines), lines
    assert f"removed python-{variant_a}/pydist/{HOST}" in lines
    again = run(repo, env, "clean", f"build:{variant_a}-{HOST}")
    assert again.returncode == 0 and again.stdout == "", again.stdout
    matrix = run(repo, env, "matrix")
    jobs = len(json.loads((repo / "matrix.json").read_text())["include"])
    assert matrix.stdout.splitlines()[-1] == f"wrote matrix.json ({jobs} jobs)"
