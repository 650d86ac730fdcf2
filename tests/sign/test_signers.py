"""The signers on real binaries with a real certificate: apple-platform-py for Mach-O and
osslsigncode for PE, each judged by the tool's own verifier; credentials read from the
environment, with one line per bad input; the notarization request up to Apple's service."""

from __future__ import annotations

import base64
import hashlib
import json
import os
import shutil
import subprocess
import zipfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest

from tasks.errors import BuildError
from tasks.model.signing import DEFAULT_ENTITLEMENTS, Notarization, format_of_head
from tasks.plumbing.binaries import binary_format
from tasks.sign.credentials import P12, open_credential
from tasks.sign.notary import NotaryRequest, notarize_tree, notary_zip
from tasks.sign.signers import MachOSigner, PeSigner, macho_problems, pe_problems
from tests.sign.conftest import SIGNING_TIME, Binaries, Certificate, p12_credential


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_macho_signed_with_hardened_runtime_and_entitlements(
    binaries: Binaries, certificate: Certificate, tmp_path: Path
) -> None:
    import apple_platform

    signer = MachOSigner(p12_credential(certificate, "macos", tmp_path), DEFAULT_ENTITLEMENTS, "com.example.",
                         SIGNING_TIME, None, tmp_path)  # fmt: skip
    for source in (binaries.macho_so, binaries.macho_fat):
        unsigned = {  # as shipped: ad hoc (linker) signatures at most
            binaries.macho_so: ["no cryptographic signature present"],
            binaries.macho_fat: ["@0: Mach-O signature data not found", "@1: no cryptographic signature present"],
        }[source]
        assert macho_problems(source, certificate.subject, DEFAULT_ENTITLEMENTS) == unsigned
        first, second = tmp_path / f"{source.name}.1", tmp_path / f"{source.name}.2"
        signer.sign(source, first, f"com.example.{source.name}")
        signer.sign(source, second, f"com.example.{source.name}")
        assert sha256(first) == sha256(second), "a fixed signing time and no timestamp server: the same bytes"
        assert signer.problems(first) == []
        for entity in apple_platform.read_signature(first):  # every slice of the fat binary
            signature = entity["entity"]["mach_o"]["signature"]
            assert signature["code_directory"]["flags"] == "CodeSignatureFlags(RUNTIME)"
            assert signature["code_directory"]["identifier"] == f"com.example.{source.name}"
            assert {c["subject"] for c in signature["cms"]["certificates"]} == {"CN=runenv test signer, O=runenv tests"}
            plist = "\n".join(signature["entitlements_plist"])
            assert all(f"<key>{name}</key>" in plist for name in DEFAULT_ENTITLEMENTS)
        altered = bytearray(first.read_bytes())
        altered[len(altered) // 4] ^= 0x01  # in the (first slice's) code
        (tmp_path / "altered").write_bytes(bytes(altered))
        problems = signer.problems(tmp_path / "altered")
        assert len(problems) == 1 and "code digest mismatch for entry " in problems[0], problems


def test_pe_signed_with_authenticode(binaries: Binaries, certificate: Certificate, tmp_path: Path) -> None:
    signer = PeSigner(p12_credential(certificate, "windows", tmp_path), SIGNING_TIME, None, tmp_path, 60)
    for source in (binaries.pe_pyd, binaries.pe_exe):
        assert pe_problems(source, signer.credential.chain_pem, 60) == ["no Authenticode signature"]
        first, second = tmp_path / f"1-{source.name}", tmp_path / f"2-{source.name}"
        signer.sign(source, first, "runenv test")
        signer.sign(source, second, "runenv test")
        assert sha256(first) == sha256(second)
        assert signer.problems(first) == []
        verified = subprocess.run(["osslsigncode", "verify", "-CAfile", str(certificate.cert_pem), "-in", str(first)],
                                  capture_output=True, text=True)  # fmt: skip
        assert verified.returncode == 0 and "Signature verification: ok" in verified.stdout
        altered = bytearray(first.read_bytes())
        altered[0x400] ^= 0x01  # in the first section's code
        (tmp_path / "altered.exe").write_bytes(bytes(altered))
        assert signer.problems(tmp_path / "altered.exe") != []


def test_a_binary_is_told_by_its_bytes_not_its_name(binaries: Binaries, tmp_path: Path) -> None:
    unnamed = tmp_path / "tool"
    shutil.copyfile(binaries.macho_fat, unnamed)
    text_so = tmp_path / "libfake.so"
    text_so.write_text("not a binary\n")
    java = tmp_path / "Main.class"
    java.write_bytes(b"\xca\xfe\xba\xbe\x00\x00\x00\x41" + bytes(100))
    dos_text = tmp_path / "notes.dll"
    dos_text.write_bytes(b"MZ is a text here" + bytes(200))
    found = {p.name: binary_format(p) for p in (unnamed, text_so, java, dos_text, binaries.macho_so, binaries.pe_exe)}
    assert found == {"tool": "macho", "libfake.so": None, "Main.class": None, "notes.dll": None,
                     binaries.macho_so.name: "macho", "ninja.exe": "pe"}  # fmt: skip
    assert format_of_head(b"\x7fELF" + bytes(60)) == "elf"


def test_an_openssl3_default_pkcs12_is_rewritten_for_the_signers(
    binaries: Binaries, certificate: Certificate, tmp_path: Path
) -> None:
    opened = p12_credential(certificate, "macos", tmp_path, certificate.p12_aes)
    assert opened.certificate.subject == certificate.subject
    expected = subprocess.run(["openssl", "x509", "-in", str(certificate.cert_pem), "-noout", "-fingerprint",
                               "-sha256"], capture_output=True, text=True, check=True).stdout  # fmt: skip
    assert opened.certificate.sha256 == expected.strip().split("=")[1].replace(":", "").lower()
    signer = MachOSigner(opened, ("com.apple.security.cs.allow-jit",), "", SIGNING_TIME, None, tmp_path)
    signer.sign(binaries.macho_so, tmp_path / "signed.so", "signed.so")
    assert signer.problems(tmp_path / "signed.so") == []


def test_base64_credential_is_accepted(certificate: Certificate, tmp_path: Path) -> None:
    encoded = base64.b64encode(certificate.p12.read_bytes()).decode()
    environ = {"RUNENV_WINDOWS_SIGN_P12": encoded, "RUNENV_WINDOWS_SIGN_PASSWORD": certificate.password}
    opened = open_credential("windows", environ, tmp_path)
    assert isinstance(opened, P12) and opened.certificate.subject == certificate.subject
    assert certificate.password not in repr(opened)


@pytest.mark.parametrize(
    ("environ", "expected"),
    [
        ({}, "RUNENV_MACOS_SIGN_P12 is not set, and build.sign.macos asks for signed macos cells: set it to the path "
             "or base64 of a PKCS#12, with RUNENV_MACOS_SIGN_PASSWORD"),
        ({"RUNENV_MACOS_SIGN_P12": "{p12}"},
         "RUNENV_MACOS_SIGN_PASSWORD is not set: the PKCS#12 in RUNENV_MACOS_SIGN_P12 needs its password"),
        ({"RUNENV_MACOS_SIGN_P12": "{p12}", "RUNENV_MACOS_SIGN_PASSWORD": "wrong"},
         "RUNENV_MACOS_SIGN_PASSWORD does not open the PKCS#12 in RUNENV_MACOS_SIGN_P12 (a wrong password, or not a "
         "PKCS#12)"),
        ({"RUNENV_MACOS_SIGN_P12": "/nonexistent/signer.p12", "RUNENV_MACOS_SIGN_PASSWORD": "x"},
         "RUNENV_MACOS_SIGN_P12: neither a readable file nor base64 text; set it to the path of the PKCS#12 "
         "(.p12/.pfx) or to its base64"),
    ],
)  # fmt: skip
def test_a_bad_credential_is_one_line_naming_the_variable(
    certificate: Certificate, tmp_path: Path, environ: dict[str, str], expected: str
) -> None:
    filled = {key: value.replace("{p12}", str(certificate.p12)) for key, value in environ.items()}
    with pytest.raises(BuildError) as raised:
        open_credential("macos", filled, tmp_path)
    assert str(raised.value) == expected
    assert certificate.password not in str(raised.value)


def test_pkcs11_needs_all_three_variables(tmp_path: Path) -> None:
    with pytest.raises(BuildError) as raised:
        open_credential("windows", {"RUNENV_WINDOWS_SIGN_PKCS11_MODULE": "/usr/lib/pkcs11.so"}, tmp_path)
    assert str(raised.value) == (
        "RUNENV_WINDOWS_SIGN_PKCS11_KEY is not set: signing with a PKCS#11 module needs all of "
        "RUNENV_WINDOWS_SIGN_PKCS11_MODULE, RUNENV_WINDOWS_SIGN_PKCS11_KEY, RUNENV_WINDOWS_SIGN_PKCS11_CERT"
    )


def softhsm_token(work: Path, key_pem: Path) -> tuple[Path, dict[str, str]]:
    """A SoftHSM token (its own config under *work*) holding the certificate's private key."""
    (work / "tokens").mkdir(parents=True)
    config = work / "softhsm2.conf"
    config.write_text(f"directories.tokendir = {work / 'tokens'}\nobjectstore.backend = file\nlog.level = ERROR\n")
    env = {**os.environ, "SOFTHSM2_CONF": str(config)}
    for command in (
        ["softhsm2-util", "--init-token", "--free", "--label", "runenv", "--pin", "1234", "--so-pin", "5678"],
        ["openssl", "pkcs8", "-topk8", "-nocrypt", "-in", str(key_pem), "-out", str(work / "key8.pem")],
        ["softhsm2-util", "--import", str(work / "key8.pem"), "--token", "runenv", "--label", "signer", "--id", "01",
         "--pin", "1234"],
    ):  # fmt: skip
        subprocess.run(command, check=True, capture_output=True, env=env)
    return config, env


def test_a_key_held_in_a_pkcs11_token_signs(
    binaries: Binaries, certificate: Certificate, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    module = Path("/usr/lib/softhsm/libsofthsm2.so")
    assert module.is_file(), "./dev installs softhsm2"
    config, _ = softhsm_token(tmp_path / "hsm", certificate.cert_pem.with_name("key.pem"))
    monkeypatch.setenv("SOFTHSM2_CONF", str(config))
    environ = {
        "RUNENV_WINDOWS_SIGN_PKCS11_MODULE": str(module),
        "RUNENV_WINDOWS_SIGN_PKCS11_KEY": "pkcs11:token=runenv;object=signer;type=private",
        "RUNENV_WINDOWS_SIGN_PKCS11_CERT": str(certificate.cert_pem),
        "RUNENV_WINDOWS_SIGN_PASSWORD": "1234",
    }
    opened = open_credential("windows", environ, tmp_path)
    signer = PeSigner(opened, SIGNING_TIME, None, tmp_path, 60)
    key = environ["RUNENV_WINDOWS_SIGN_PKCS11_KEY"]
    assert signer.key_arguments() == ["-pkcs11module", str(module), "-key", key, "-certs", str(certificate.cert_pem),
                                      "-readpass", str(tmp_path / "password")]  # fmt: skip
    assert (tmp_path / "password").stat().st_mode & 0o777 == 0o600
    signer.sign(binaries.pe_exe, tmp_path / "signed.exe", "runenv test")
    assert signer.problems(tmp_path / "signed.exe") == []
    assert opened.certificate.subject == certificate.subject
    (tmp_path / "w").mkdir()
    wrong = PeSigner(open_credential("windows", {**environ, "RUNENV_WINDOWS_SIGN_PASSWORD": "0000"}, tmp_path / "w"),
                     SIGNING_TIME, None, tmp_path / "w", 60)  # fmt: skip
    with pytest.raises(BuildError) as raised:
        wrong.sign(binaries.pe_exe, tmp_path / "never.exe", "runenv test")
    assert str(raised.value) == (
        f"{binaries.pe_exe}: osslsigncode could not sign it: failed loading private key (engine routines, "
        "ENGINE_load_private_key)"
    )
    assert not (tmp_path / "never.exe").exists()


class RecordingNotary:
    """A Notary that keeps the request and answers as told (Apple's service is out of reach)."""

    def __init__(self, answer: Mapping[str, Any] | Exception) -> None:
        self.answer, self.requests = answer, []  # type: ignore[var-annotated]

    def submit(self, request: NotaryRequest) -> Mapping[str, Any]:
        with zipfile.ZipFile(request.zip_path) as archive:
            self.requests.append((request, archive.namelist()))
        if isinstance(self.answer, Exception):
            raise self.answer
        return self.answer


def signed_tree(root: Path) -> Path:
    for name in ("bin/python3", "lib/libpython3.12.dylib", "lib/python3.12/os.py", "share/man/python.1"):
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(name)
    (root / "bin/python").symlink_to("python3")
    return root


def test_notarization_zips_bin_and_lib_and_records_the_answer(tmp_path: Path) -> None:
    root = signed_tree(tmp_path / "env")
    key = tmp_path / "key.json"
    key.write_text(json.dumps({"issuer_id": "i", "key_id": "k", "private_key": "p"}))
    notary = RecordingNotary({"submission_id": "abc-123", "response": {"status": "Accepted"}})
    work = tmp_path / "work"
    work.mkdir()
    done = notarize_tree(root, work, {"RUNENV_NOTARY_API_KEY": str(key)}, 60, notary)
    assert done == Notarization("accepted", "abc-123", "")
    request, names = notary.requests[0]
    assert (request.api_key_path, request.wait_seconds) == (key, 60)
    assert names == ["bin/python", "bin/python3", "lib/libpython3.12.dylib", "lib/python3.12/os.py"]
    first = hashlib.sha256(request.zip_path.read_bytes()).hexdigest()
    notary_zip(root, tmp_path / "again.zip")
    assert hashlib.sha256((tmp_path / "again.zip").read_bytes()).hexdigest() == first


@pytest.mark.parametrize(
    ("answer", "expected"),
    [
        (RuntimeError("401 Unauthorized: the key is revoked\ndetails"),
         "notarization: the notary service refused or failed: 401 Unauthorized: the key is revoked"),
        ({"submission_id": "abc", "response": {"status": "Invalid"}},
         "notarization: submission abc was invalid; its log: rcodesign notary-log abc"),
        ({"submission_id": "abc", "response": None},
         "notarization: submission abc had no verdict within build.timeout (60 s); raise build.timeout or look it "
         "up with rcodesign notary-wait"),
    ],
)  # fmt: skip
def test_notarization_errors_are_one_line(tmp_path: Path, answer: Any, expected: str) -> None:
    key = tmp_path / "key.json"
    key.write_text(json.dumps({"issuer_id": "i", "key_id": "k", "private_key": "p"}))
    with pytest.raises(BuildError) as raised:
        notarize_tree(signed_tree(tmp_path / "env"), tmp_path, {"RUNENV_NOTARY_API_KEY": str(key)}, 60,
                      RecordingNotary(answer))  # fmt: skip
    assert str(raised.value) == expected


def test_notarization_without_a_key_and_with_a_bad_one(tmp_path: Path) -> None:
    root = signed_tree(tmp_path / "env")
    assert notarize_tree(root, tmp_path, {}, 60, RecordingNotary({})) == Notarization(
        "not notarized", None, "no RUNENV_NOTARY_API_KEY"
    )
    key = tmp_path / "key.json"
    key.write_text(json.dumps({"issuer_id": "i"}))
    with pytest.raises(BuildError) as raised:
        notarize_tree(root, tmp_path, {"RUNENV_NOTARY_API_KEY": str(key)}, 60, RecordingNotary({}))
    assert str(raised.value) == (
        f"RUNENV_NOTARY_API_KEY: {key} lacks key_id, private_key; give the API key file that "
        "`rcodesign encode-app-store-connect-api-key` writes"
    )
