"""The two signers behind one small protocol: Mach-O with apple-platform-py (rcodesign's
engine, in process) and PE with Debian's osslsigncode. Each also verifies with its own tool.

Both are offline and deterministic: a fixed signing time and no timestamp server give the
same bytes for the same input. The PKCS#12 password reaches osslsigncode through a private
file (``-readpass``), never its command line.
"""

from __future__ import annotations

import datetime
import os
import re
import tempfile
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from tasks.errors import BuildError
from tasks.model.signing import Certificate, entitlements_plist
from tasks.plumbing.commands import run_command
from tasks.sign.credentials import P12, Pkcs11


class Signer(Protocol):
    @property
    def tool(self) -> str: ...

    @property
    def certificate(self) -> Certificate: ...

    @property
    def signing_time(self) -> int: ...

    @property
    def timestamp_url(self) -> str | None: ...

    @property
    def entitlements(self) -> tuple[str, ...]:
        """What a Mach-O signature grants (none for PE)."""
        ...

    def parameters(self) -> dict[str, Any]:
        """What, beside the input and the certificate, goes into a signature (and its cache key)."""
        ...

    def sign(self, source: Path, target: Path, identifier: str) -> None:
        """Write *source* signed to *target* (a new file; *source* is left as it is)."""
        ...

    def problems(self, path: Path) -> list[str]:
        """What the tool's own verifier finds wrong with *path*'s signature ([]: none)."""
        ...


def apple_error(error: Exception) -> str:
    return str(getattr(error, "args", [error])[0] if getattr(error, "args", None) else error)


@dataclass(frozen=True)
class MachOSigner:
    """Hardened runtime, the given entitlements, a fixed signing time."""

    credential: P12
    entitlements: tuple[str, ...]
    identifier_prefix: str
    signing_time: int
    timestamp_url: str | None
    work: Path  # a private directory for the entitlements file
    tool: str = "apple-platform-py"

    @property
    def certificate(self) -> Certificate:
        return self.credential.certificate

    def sign(self, source: Path, target: Path, identifier: str) -> None:
        import apple_platform

        entitlements = self.work / "entitlements.plist"
        if not entitlements.is_file():  # signing threads race here: whole or absent
            part = entitlements.with_name(f"entitlements.{threading.get_ident()}")
            part.write_bytes(entitlements_plist(self.entitlements))
            os.replace(part, entitlements)
        signer = apple_platform.Signer(p12=apple_platform.P12Key(path=self.credential.path,
                                                                 password=self.credential.password))  # fmt: skip
        when = datetime.datetime.fromtimestamp(self.signing_time, tz=datetime.timezone.utc)
        try:
            apple_platform.sign(source, target, signer=signer, binary_identifier=identifier,
                                code_signature_flags=["runtime"], entitlements_xml_file=entitlements,
                                signing_time=when, timestamp_url=self.timestamp_url or "none")  # fmt: skip
        except apple_platform.ApplePlatformError as error:
            raise BuildError(f"{source}: the macOS signer refused it: {apple_error(error)}") from None

    def parameters(self) -> dict[str, Any]:
        return {"time": self.signing_time, "timestampUrl": self.timestamp_url, "entitlements": list(self.entitlements),
                "identifierPrefix": self.identifier_prefix}  # fmt: skip

    def problems(self, path: Path) -> list[str]:
        return macho_problems(path, self.certificate.subject, self.entitlements)


def macho_problems(path: Path, subject: str, entitlements: tuple[str, ...]) -> list[str]:
    """apple-platform-py's verifier, then what its reader shows: a CMS signature by *subject*
    that verifies, the hardened runtime and every entitlement, in each architecture's slice."""
    import apple_platform

    try:
        found = [p["description"] for p in apple_platform.verify_macho(path)]
        slices = [e["entity"]["mach_o"]["signature"] for e in apple_platform.read_signature(path)]
    except apple_platform.ApplePlatformError as error:
        return [f"unreadable signature: {apple_error(error)}"]
    for signature in slices:
        if found:
            break
        found += slice_problems(signature, subject, entitlements)
    return found


def slice_problems(signature: dict[str, Any] | None, subject: str, entitlements: tuple[str, ...]) -> list[str]:
    cms = (signature or {}).get("cms")
    if not signature or not cms:
        return ["no cryptographic signature present"]
    subjects = {certificate["subject"] for certificate in cms.get("certificates", [])}
    verified = all(signer.get("signature_verifies") for signer in cms.get("signers", []))
    flags = signature.get("code_directory", {}).get("flags", "")
    plist = "\n".join(signature.get("entitlements_plist") or [])
    missing = [name for name in entitlements if f"<key>{name}</key>" not in plist]
    return [
        *([f"signed by {', '.join(sorted(subjects))}, not {subject}"] if not_subject(subject, subjects) else []),
        *(["the CMS signature does not verify"] if not verified else []),
        *(["no hardened runtime flag"] if "RUNTIME" not in flags else []),
        *([f"entitlements missing: {', '.join(missing)}"] if missing else []),
    ]


def subject_parts(subject: str) -> frozenset[str]:
    """A subject's attributes, whatever their order and spacing (rcodesign writes ``CN=…, O=…``,
    cryptography's RFC 4514 form ``O=…,CN=…``)."""
    return frozenset(part.strip() for part in subject.split(",") if part.strip())


def not_subject(subject: str, subjects: set[str]) -> bool:
    return subject_parts(subject) not in {subject_parts(s) for s in subjects}


@dataclass(frozen=True)
class PeSigner:
    """Authenticode with osslsigncode: a PKCS#12, or a PKCS#11 module for HSM or KMS keys."""

    credential: P12 | Pkcs11
    signing_time: int
    timestamp_url: str | None
    work: Path  # a private directory for the password file and the verifying chain
    timeout: float
    tool: str = "osslsigncode"
    entitlements: tuple[str, ...] = ()

    @property
    def certificate(self) -> Certificate:
        return self.credential.certificate

    def key_arguments(self) -> list[str]:
        credential, secret = self.credential, self.work / "password"
        password = credential.password if isinstance(credential, P12) else credential.pin
        if password is not None and not secret.is_file():  # signing threads race here: whole or absent
            part = secret.with_name(f"password.{threading.get_ident()}")
            part.touch(mode=0o600)
            part.write_text(password)
            os.replace(part, secret)
        reads = ["-readpass", str(secret)] if password is not None else []
        if isinstance(credential, P12):
            return ["-pkcs12", str(credential.path), *reads]
        return ["-pkcs11module", credential.module, "-key", credential.key,
                "-certs", str(credential.certificate_file), *reads]  # fmt: skip

    def sign(self, source: Path, target: Path, identifier: str) -> None:
        stamp = ["-ts", self.timestamp_url] if self.timestamp_url else []
        command = ["osslsigncode", "sign", *self.key_arguments(), "-h", "sha256", "-n", identifier,
                   "-st", str(self.signing_time), *stamp, "-in", str(source), "-out", str(target)]  # fmt: skip
        done = run_command(command, f"osslsigncode sign {source.name}", self.timeout, check=False)
        if done.returncode != 0:
            lines = [line.strip() for line in done.stdout.splitlines() + done.stderr.splitlines()]
            reason = next((line for line in reversed(lines) if line and line != "Failed"), "no reason given")
            raise BuildError(f"{source}: osslsigncode could not sign it: {openssl_reason(reason.strip())}")

    def parameters(self) -> dict[str, Any]:
        return {"time": self.signing_time, "timestampUrl": self.timestamp_url}

    def problems(self, path: Path) -> list[str]:
        return pe_problems(path, self.credential.chain_pem, self.timeout)


def openssl_reason(line: str) -> str:
    """OpenSSL's ``<pid>:error:<code>:<library>:<function>:<reason>:<file>:<line>:`` as its reason."""
    match = re.match(r"^[0-9A-F]+:error:[0-9A-F]+:([^:]*):([^:]*):([^:]*):", line)
    return f"{match.group(3)} ({match.group(1)}, {match.group(2)})" if match else line


def pe_problems(path: Path, chain_pem: bytes, timeout: float) -> list[str]:
    """``osslsigncode verify -CAfile`` against the signing chain and the system's CAs."""
    with tempfile.TemporaryDirectory(prefix="runenv-verify-") as temp:
        trusted = Path(temp) / "ca.pem"
        system = Path("/etc/ssl/certs/ca-certificates.crt")
        trusted.write_bytes(chain_pem + (system.read_bytes() if system.is_file() else b""))
        command = ["osslsigncode", "verify", "-CAfile", str(trusted), "-in", str(path)]
        done = run_command(command, f"osslsigncode verify {path.name}", timeout, check=False)
    if done.returncode == 0 and "Signature verification: ok" in done.stdout:
        return []
    lines = [line.strip() for line in (done.stdout + done.stderr).splitlines() if line.strip()]
    if any("No signature found" in line for line in lines):
        return ["no Authenticode signature"]
    telling = [line for line in lines if "mismatch" in line.lower() or "failed" in line.lower()]
    return [telling[0] if telling else "osslsigncode verify failed"]
