"""Signed macOS and Windows cells, built by doit on layout-only stand-in bases whose binaries
are real (from the committed real wheels), with a throwaway certificate made by openssl:
signed, packed, unpacked and every binary verified by the signing tool's own verifier; the
bill of materials validated; a binary altered after signing fails the check; a bad
credential is one line and leaves no archive; an unsigned build signs nothing."""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
import sys
import tarfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tasks.assemble.sbom import validation_error
from tasks.model.signing import DEFAULT_ENTITLEMENTS
from tasks.plumbing.archive import pack
from tasks.plumbing.cache import sha256_of
from tests.conftest import StaticServer, add_variant, copy_repo, isolated_env
from tests.sign.conftest import Binaries, Certificate

pytestmark = pytest.mark.network

VERSION = "3.12.1"
VARIANT = f"{VERSION}-signed"
MAC, WIN = "macosx-aarch64", "windows-x64"
MAC_BINARIES = ["bin/python3", "lib/python3.12/lib-dynload/_speedups.cpython-312-darwin.so", "tools/ninja"]
WIN_BINARIES = ["bin/DLLs/_speedups.cp312-win_amd64.pyd", "bin/python.exe", "tools/ninja.exe"]  # bin/: the interpreter


def stand_in(work: Path, binaries: Binaries, windows: bool) -> Path:
    """A python-build-standalone-shaped tree holding real binaries, and a text file named .so/.dll."""
    tree = work / ("win" if windows else "mac") / "python"
    texts = (["Lib/venv/__init__.py", "Lib/site-packages/README", "DLLs/notes.dll"] if windows else
             ["lib/python3.12/os.py", "lib/python3.12/site-packages/README", "lib/libnotes.so"])  # fmt: skip
    copies = ({"python.exe": binaries.pe_exe, "DLLs/_speedups.cp312-win_amd64.pyd": binaries.pe_pyd} if windows else
              {"bin/python3": binaries.macho_fat, MAC_BINARIES[1]: binaries.macho_so})  # fmt: skip
    for name in texts:
        (tree / name).parent.mkdir(parents=True, exist_ok=True)
        (tree / name).write_text("layout-only stand-in\n")
    for name, source in copies.items():
        (tree / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source, tree / name)
        (tree / name).chmod(0o755)
    archive = work / "served" / f"{tree.parent.name}.tar.gz"
    pack(tree.parent, archive, 0, 1)
    return archive


def signing_env(certificate: Certificate) -> dict[str, str]:
    p12, password = str(certificate.p12), certificate.password
    return {"RUNENV_MACOS_SIGN_P12": p12, "RUNENV_MACOS_SIGN_PASSWORD": password,
            "RUNENV_WINDOWS_SIGN_P12": p12, "RUNENV_WINDOWS_SIGN_PASSWORD": password}  # fmt: skip


@pytest.fixture(scope="module")
def setup(
    tmp_path_factory: pytest.TempPathFactory, binaries: Binaries, certificate: Certificate
) -> Iterator[dict[str, Any]]:
    """A repository with one variant asking for signed macOS and Windows cells, its stand-in
    bases served on loopback, and the environment of its doit runs."""
    work = tmp_path_factory.mktemp("signed")
    archives = {MAC: stand_in(work, binaries, False), WIN: stand_in(work, binaries, True)}
    server = StaticServer(work / "served")
    entries = {p: {"url": f"{server.url}/{a.name}", "sha256": sha256_of(a)} for p, a in archives.items()}
    (work / "pythons.json").write_text(json.dumps({"versions": {VERSION: entries}}))
    repo = copy_repo(work / "repo")
    for variant in repo.glob("python-*"):
        shutil.rmtree(variant)
    copies = {MAC: [{"from": "tools/ninja", "to": "tools/"}], WIN: [{"from": "tools/ninja.exe", "to": "tools/"}]}
    packages = {"dependencies": ["markupsafe==3.0.2"],
                "platformSpecific": {p: {"copyFiles": c} for p, c in copies.items()}}  # fmt: skip
    sign = {"macos": {"identifierPrefix": "com.example.runenv"}, "windows": {}}
    directory = add_variant(repo, VARIANT, packages, build={"sign": sign})
    (directory / "tools").mkdir()
    shutil.copyfile(binaries.macho_fat, directory / "tools/ninja")
    shutil.copyfile(binaries.pe_exe, directory / "tools/ninja.exe")
    env = {**isolated_env(repo, work / "cache"), "RUNENV_PYTHONS": str(work / "pythons.json")}
    yield {"work": work, "repo": repo, "env": env}
    server.stop()


def variant_only(setup: dict[str, Any], target: Path) -> Path:
    """A fresh repository copy holding only the signed variant's sources (no outputs)."""
    repo = copy_repo(target)
    for variant in repo.glob("python-*"):
        shutil.rmtree(variant)
    shutil.copytree(setup["repo"] / f"python-{VARIANT}", repo / f"python-{VARIANT}",
                    ignore=shutil.ignore_patterns("build", "pydist", "archives", "dist"))  # fmt: skip
    return repo


def doit(repo: Path, env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "doit", *args], cwd=repo, env=env, capture_output=True, text=True,
                          timeout=900)  # fmt: skip


def build_signed(repo: Path, env: dict[str, str], certificate: Certificate) -> subprocess.CompletedProcess[str]:
    done = doit(
        repo, {**env, **signing_env(certificate)}, "-n", "2", f"build:{VARIANT}-{MAC}", f"build:{VARIANT}-{WIN}"
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return done


def unpacked(repo: Path, platform: str, target: Path) -> Path:
    archive = next(
        (repo / f"python-{VARIANT}/archives").glob(f"*-{'macosx-aarch64' if 'mac' in platform else 'windows-x64'}.tgz")
    )
    with tarfile.open(archive) as tar:
        tar.extractall(target, filter="data")
    return target


def test_signed_cells_ship_verified_binaries_and_a_valid_sbom(
    setup: dict[str, Any], certificate: Certificate, binaries: Binaries, tmp_path: Path
) -> None:
    import apple_platform

    repo, env = setup["repo"], setup["env"]
    done = build_signed(repo, env, certificate)
    assert f"{VARIANT}-{MAC}: signed 3 binaries as {certificate.subject}" in done.stdout
    assert f"{VARIANT}-{WIN}: signed 3 binaries as {certificate.subject}" in done.stdout
    assert done.stdout.count(f"{VARIANT}-{MAC}: not notarized (no RUNENV_NOTARY_API_KEY)") == 1
    mac = unpacked(repo, MAC, tmp_path / "mac")
    for name in MAC_BINARIES:
        assert apple_platform.verify_macho(mac / name) == [], name
        for entity in apple_platform.read_signature(mac / name):
            signature = entity["entity"]["mach_o"]["signature"]
            assert signature["code_directory"]["flags"] == "CodeSignatureFlags(RUNTIME)"
            assert signature["code_directory"]["identifier"] == f"com.example.runenv.{name.rsplit('/', 1)[1]}"
            assert {c["subject"] for c in signature["cms"]["certificates"]} == {"CN=runenv test signer, O=runenv tests"}
            assert all(f"<key>{e}</key>" in "\n".join(signature["entitlements_plist"]) for e in DEFAULT_ENTITLEMENTS)
    assert (mac / "lib/libnotes.so").read_text() == "layout-only stand-in\n", "not a Mach-O: left as it is"
    win = unpacked(repo, WIN, tmp_path / "win")
    for name in WIN_BINARIES:
        verified = subprocess.run(["osslsigncode", "verify", "-CAfile", str(certificate.cert_pem), "-in",
                                   str(win / name)], capture_output=True, text=True)  # fmt: skip
        assert verified.returncode == 0 and "Signature verification: ok" in verified.stdout, name
    manifest = json.loads((mac / "runenv.json").read_text())
    wheel = manifest["packages"][0]
    assert sha256_of(mac / "packages" / wheel["file"]) == wheel["sha256"], "wheels are not opened"
    signing = manifest["signing"]
    fingerprint = subprocess.run(["openssl", "x509", "-in", str(certificate.cert_pem), "-noout", "-fingerprint",
                                  "-sha256"], capture_output=True, text=True, check=True).stdout  # fmt: skip
    assert signing["certificate"] == {"subject": certificate.subject,
                                      "sha256": fingerprint.strip().split("=")[1].replace(":", "").lower()}  # fmt: skip
    assert (signing["binaries"], signing["entitlements"], signing["notarization"]["status"]) == (
        3,
        list(DEFAULT_ENTITLEMENTS),
        "not notarized",
    )
    sbom_text = (mac / "runenv.cdx.json").read_text()
    assert validation_error(sbom_text) is None
    sbom = json.loads(sbom_text)
    parts = {c["name"]: c for c in sbom["components"]}
    assert parts["markupsafe"]["purl"] == f"pkg:pypi/markupsafe@3.0.2?file_name={wheel['file']}"
    assert parts["markupsafe"]["hashes"] == [{"alg": "SHA-256", "content": wheel["sha256"]}]
    assert parts["tools/ninja"]["hashes"][0]["content"] == sha256_of(binaries.macho_fat)
    assert parts["cpython"]["version"] == VERSION
    assert {"name": "runenv:signing:subject", "value": certificate.subject} in sbom["properties"]
    beside = next((repo / f"python-{VARIANT}/archives").glob("*-macosx-aarch64.cdx.json"))
    assert beside.read_text() == sbom_text


def test_two_clean_signed_builds_give_identical_archives(
    setup: dict[str, Any], certificate: Certificate, tmp_path: Path
) -> None:
    digests = []
    for name in ("first", "second"):
        repo = variant_only(setup, tmp_path / name)
        env = {**setup["env"], "RUNENV_CACHE_DIR": str(tmp_path / f"cache-{name}")}
        build_signed(repo, env, certificate)
        digests.append(sorted(sha256_of(a) for a in (repo / f"python-{VARIANT}/archives").glob("*.tgz")))
    assert digests[0] == digests[1] and len(digests[0]) == 2


def test_a_binary_altered_after_signing_fails_the_check(setup: dict[str, Any], certificate: Certificate) -> None:
    repo, env = setup["repo"], {**setup["env"], **signing_env(certificate)}
    build_signed(repo, setup["env"], certificate)
    target = repo / f"python-{VARIANT}/pydist/{WIN}/bin/DLLs/_speedups.cp312-win_amd64.pyd"
    altered = bytearray(target.read_bytes())
    altered[0x400] ^= 0x01
    target.write_bytes(bytes(altered))
    assert doit(repo, env, "forget", f"check:{VARIANT}-{WIN}").returncode == 0
    failed = doit(repo, env, f"check:{VARIANT}-{WIN}")
    assert failed.returncode != 0
    assert "  - not validly signed: bin/DLLs/_speedups.cp312-win_amd64.pyd: " in failed.stdout + failed.stderr
    assert "Traceback" not in failed.stdout + failed.stderr
    assert doit(repo, env, "forget", f"assemble:{VARIANT}-{WIN}").returncode == 0  # leave it whole for the others
    assert doit(repo, env, f"build:{VARIANT}-{WIN}").returncode == 0


def test_a_missing_password_is_one_line_and_leaves_no_archive(
    setup: dict[str, Any], certificate: Certificate, tmp_path: Path
) -> None:
    repo = variant_only(setup, tmp_path / "repo")
    env = {**setup["env"], "RUNENV_MACOS_SIGN_P12": str(certificate.p12)}
    failed = doit(repo, env, f"build:{VARIANT}-{MAC}")
    output = failed.stdout + failed.stderr
    assert failed.returncode != 0 and "Traceback" not in output
    assert "RUNENV_MACOS_SIGN_PASSWORD is not set: the PKCS#12 in RUNENV_MACOS_SIGN_P12 needs its password" in output
    assert not list((repo / f"python-{VARIANT}").glob("archives/*.tgz"))


def test_an_unsigned_build_signs_nothing(
    setup: dict[str, Any], binaries: Binaries, certificate: Certificate, tmp_path: Path
) -> None:
    repo = variant_only(setup, tmp_path / "repo")
    config_path = repo / f"python-{VARIANT}/config.json"
    config = json.loads(config_path.read_text())
    del config["build"]["sign"]
    config_path.write_text(json.dumps(config))
    listed = doit(repo, setup["env"], "list")
    assert "signing: macos-x64, macos-arm64, win-x64 unsigned everywhere (docs/signing.md)" in listed.stdout
    done = doit(repo, setup["env"], f"build:{VARIANT}-{MAC}")
    assert done.returncode == 0, done.stdout + done.stderr
    assert f"sign:{VARIANT}" not in done.stdout and "binaries as" not in done.stdout
    mac = unpacked(repo, MAC, tmp_path / "mac")
    assert "signing" not in json.loads((mac / "runenv.json").read_text())
    assert hashlib.sha256((mac / "bin/python3").read_bytes()).hexdigest() == sha256_of(binaries.macho_fat)
    asked = doit(repo, {**setup["env"], "RUNENV_MACOS_SIGN_P12": str(certificate.p12)}, f"build:{VARIANT}-{MAC}")
    assert asked.returncode != 0 and "RUNENV_MACOS_SIGN_PASSWORD is not set" in asked.stdout + asked.stderr
    assert not list((repo / f"python-{VARIANT}/archives").glob("*-macosx-aarch64.*")), "no unsigned archive is left"
