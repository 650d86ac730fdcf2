"""Fixtures of the signing tests: a throwaway code-signing certificate made with openssl, and
real Mach-O and PE binaries taken from real wheels of the default package index, committed
under tests/fixtures/wheels/ (pinned by sha256 here) so that these tests need no network.

- markupsafe 3.0.2: a thin arm64 Mach-O ``.so`` and a ``win_amd64`` ``.pyd``;
- ninja 1.11.1.1: a universal2 (fat) Mach-O executable and a ``win_amd64`` ``.exe``.
"""

from __future__ import annotations

import hashlib
import subprocess
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

WHEELS = Path(__file__).resolve().parents[1] / "fixtures" / "wheels"
NINJA_MAC = (
    "ninja-1.11.1.1-py2.py3-none-macosx_10_9_universal2.macosx_10_9_x86_64.macosx_11_0_arm64.macosx_11_0_universal2.whl"
)
PINNED = {  # wheel: (its sha256, the member taken)
    "MarkupSafe-3.0.2-cp312-cp312-macosx_11_0_arm64.whl": (
        "846ade7b71e3536c4e56b386c2a47adf5741d2d8b94ec9dc3e92e5e1ee1e2225",
        "markupsafe/_speedups.cpython-312-darwin.so",
    ),
    NINJA_MAC: ("376889c76d87b95b5719fdd61dd7db193aa7fd4432e5d52d2e44e4c497bdbbee", "ninja/data/bin/ninja"),
    "MarkupSafe-3.0.2-cp312-cp312-win_amd64.whl": (
        "8e06879fc22a25ca47312fbe7c8264eb0b662f6db27cb2d3bbbc74b1df4b9b87",
        "markupsafe/_speedups.cp312-win_amd64.pyd",
    ),
    "ninja-1.11.1.1-py2.py3-none-win_amd64.whl": (
        "95da904130bfa02ea74ff9c0116b4ad266174fafb1c707aa50212bc7859aebf1",
        "ninja/data/bin/ninja.exe",
    ),
}
PASSWORD = "runenv-test-password"
SIGNING_TIME = 1735689600  # 2025-01-01, as an archive mtime


@dataclass(frozen=True)
class Binaries:
    macho_so: Path  # markupsafe's arm64 extension (linker-signed, ad hoc)
    macho_fat: Path  # ninja's universal2 executable
    pe_pyd: Path
    pe_exe: Path


@dataclass(frozen=True)
class Certificate:
    p12: Path  # legacy encryption (what the macOS signer reads)
    p12_aes: Path  # OpenSSL 3's default encryption
    cert_pem: Path
    subject: str
    password: str = PASSWORD


def extract(wheel: str, target: Path) -> Path:
    digest, member = PINNED[wheel]
    data = (WHEELS / wheel).read_bytes()
    assert hashlib.sha256(data).hexdigest() == digest, f"{wheel}: not the pinned wheel"
    with zipfile.ZipFile(WHEELS / wheel) as archive:
        out = target / member.rsplit("/", 1)[-1]
        out.write_bytes(archive.read(member))
    return out


@pytest.fixture(scope="session")
def binaries(tmp_path_factory: pytest.TempPathFactory) -> Binaries:
    target = tmp_path_factory.mktemp("binaries")
    names = list(PINNED)
    return Binaries(*(extract(name, target) for name in names))


def openssl(*args: str) -> None:
    subprocess.run(["openssl", *args], check=True, capture_output=True)


@pytest.fixture(scope="session")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> Certificate:
    """A self-signed code-signing certificate and its PKCS#12 (legacy and AES encrypted)."""
    work = tmp_path_factory.mktemp("certificate")
    key, cert = work / "key.pem", work / "cert.pem"
    subject = ["-subj", "/CN=runenv test signer/O=runenv tests", "-addext", "extendedKeyUsage=codeSigning"]
    openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", *subject, "-days", "3650", "-keyout", str(key),
            "-out", str(cert))  # fmt: skip
    legacy = ["-certpbe", "PBE-SHA1-3DES", "-keypbe", "PBE-SHA1-3DES", "-macalg", "sha1"]
    common = ["pkcs12", "-export", "-in", str(cert), "-inkey", str(key), "-passout", f"pass:{PASSWORD}"]
    openssl(*common, *legacy, "-out", str(work / "signer.p12"))
    openssl(*common, "-out", str(work / "signer-aes.p12"))
    return Certificate(work / "signer.p12", work / "signer-aes.p12", cert, "O=runenv tests,CN=runenv test signer")


def p12_credential(certificate: Certificate, os_key: str, work: Path, p12: Path | None = None) -> Any:
    """The OS's PKCS#12 credential as the sign stage opens it from the environment."""
    from tasks.sign.credentials import P12, open_credential

    environ = {f"RUNENV_{os_key.upper()}_SIGN_P12": str(p12 or certificate.p12),
               f"RUNENV_{os_key.upper()}_SIGN_PASSWORD": certificate.password}  # fmt: skip
    opened = open_credential(os_key, environ, work)
    assert isinstance(opened, P12)
    return opened
