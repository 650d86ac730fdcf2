"""Signing with an RFC 3161 timestamp server (RUNENV_SIGN_TIMESTAMP_URL): a real one, made of
``openssl ts -reply`` behind an HTTP server on 127.0.0.1. Both signers embed its token, and
the tools verify it; what differs between two signings is that token (its time and serial)."""

from __future__ import annotations

import hashlib
import subprocess
import tempfile
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from tasks.sign.signers import MachOSigner, PeSigner
from tests.sign.conftest import SIGNING_TIME, Binaries, Certificate, p12_credential

TSA_CONFIG = """[ tsa ]
default_tsa = tsa_config
[ tsa_config ]
serial = {work}/serial
crypto_device = builtin
signer_cert = {work}/tsa.pem
signer_key = {work}/tsa.key
signer_digest = sha256
default_policy = 1.2.3.4.1
digests = sha256, sha384, sha512, sha1
accuracy = secs:1
ordering = yes
tsa_name = yes
ess_cert_id_chain = no
ess_cert_id_alg = sha256
"""


def timestamp_authority(work: Path) -> type[BaseHTTPRequestHandler]:
    """A handler answering timestamp queries with ``openssl ts -reply`` (a self-signed TSA)."""
    keys = ["-keyout", str(work / "tsa.key"), "-out", str(work / "tsa.pem")]
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=runenv test TSA",
                    "-addext", "extendedKeyUsage=critical,timeStamping", "-days", "3650", *keys],
                   check=True, capture_output=True)  # fmt: skip
    (work / "serial").write_text("01\n")
    (work / "tsa.cnf").write_text(TSA_CONFIG.format(work=work))

    class Authority(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            query = self.rfile.read(int(self.headers["Content-Length"]))
            with tempfile.TemporaryDirectory() as temp:
                (Path(temp) / "query").write_bytes(query)
                done = subprocess.run(["openssl", "ts", "-reply", "-config", str(work / "tsa.cnf"), "-queryfile",
                                       str(Path(temp) / "query"), "-out", str(Path(temp) / "reply")],
                                      capture_output=True)  # fmt: skip
                reply = (Path(temp) / "reply").read_bytes() if done.returncode == 0 else b""
            self.send_response(200 if reply else 500)
            self.send_header("Content-Type", "application/timestamp-reply")
            self.send_header("Content-Length", str(len(reply)))
            self.end_headers()
            self.wfile.write(reply)

        def log_message(self, *args: object) -> None:
            pass

    return Authority


@pytest.fixture(scope="module")
def tsa(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    """(the timestamp server's URL, its certificate)."""
    work = tmp_path_factory.mktemp("tsa")
    server = ThreadingHTTPServer(("127.0.0.1", 0), timestamp_authority(work))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}", work / "tsa.pem"
    server.shutdown()


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_pe_signatures_carry_the_servers_token(
    binaries: Binaries, certificate: Certificate, tsa: tuple[str, Path], tmp_path: Path
) -> None:
    url, tsa_certificate = tsa
    signer = PeSigner(p12_credential(certificate, "windows", tmp_path), SIGNING_TIME, url, tmp_path, 60)
    signer.sign(binaries.pe_exe, tmp_path / "1.exe", "runenv test")
    signer.sign(binaries.pe_exe, tmp_path / "2.exe", "runenv test")
    assert digest(tmp_path / "1.exe") != digest(tmp_path / "2.exe"), "each token has its own time and serial"
    trusted = ["-CAfile", str(certificate.cert_pem), "-TSA-CAfile", str(tsa_certificate)]
    verified = subprocess.run(["osslsigncode", "verify", *trusted, "-in", str(tmp_path / "1.exe")],
                              capture_output=True, text=True)  # fmt: skip
    assert verified.returncode == 0, verified.stdout + verified.stderr
    assert "Timestamp Server Signature verification: ok" in verified.stdout
    assert "Signature verification: ok" in verified.stdout
    assert signer.problems(tmp_path / "1.exe") == []


def test_macho_signatures_carry_the_servers_token(
    binaries: Binaries, certificate: Certificate, tsa: tuple[str, Path], tmp_path: Path
) -> None:
    import apple_platform

    url, _ = tsa
    signer = MachOSigner(p12_credential(certificate, "macos", tmp_path), ("com.apple.security.cs.allow-jit",), "",
                         SIGNING_TIME, url, tmp_path)  # fmt: skip
    signer.sign(binaries.macho_so, tmp_path / "1.so", "one")
    signer.sign(binaries.macho_so, tmp_path / "2.so", "one")
    assert digest(tmp_path / "1.so") != digest(tmp_path / "2.so"), "each token has its own time and serial"
    assert signer.problems(tmp_path / "1.so") == []
    cms = apple_platform.read_signature(tmp_path / "1.so")[0]["entity"]["mach_o"]["signature"]["cms"]
    token = cms["signers"][0]["time_stamp_token"]
    assert [c["subject"] for c in token["certificates"]] == ["CN=runenv test TSA"]
