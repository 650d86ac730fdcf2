"""Code signing of macOS and Windows cells, as data. Pure.

What ``build.sign`` asks for (:class:`SignConfig`), how a binary is told by its first bytes
(never by its name), the entitlements property list, the key a signed binary is cached under,
and the record a signed cell carries in runenv.json and the catalogue index (:class:`Signing`).
"""

from __future__ import annotations

import hashlib
import json
import plistlib
import struct
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

# The replaced builder's entitlements: Python loads .so files signed by other teams.
DEFAULT_ENTITLEMENTS = (
    "com.apple.security.cs.allow-jit",
    "com.apple.security.cs.allow-dyld-environment-variables",
    "com.apple.security.cs.disable-library-validation",
    "com.apple.security.automation.apple-events",
    "com.apple.security.get-task-allow",
)
SIGNED_FORMAT = {"macosx": "macho", "windows": "pe"}  # platform os -> the binaries it signs
CONFIG_KEY = {"macosx": "macos", "windows": "windows"}  # platform os -> build.sign.<key>
HEAD_BYTES = 4096  # what format_of_head needs to see of a file
MACHO_THIN = (b"\xcf\xfa\xed\xfe", b"\xce\xfa\xed\xfe", b"\xfe\xed\xfa\xcf", b"\xfe\xed\xfa\xce")
MACHO_FAT = (b"\xca\xfe\xba\xbe", b"\xca\xfe\xba\xbf")  # big-endian fat headers (32- and 64-bit)
MAX_FAT_ARCHS = 30  # a Java class file shares 0xcafebabe; its next field is a version >= 45
TIMESTAMP_VARIABLE = "RUNENV_SIGN_TIMESTAMP_URL"
NOTARY_VARIABLE = "RUNENV_NOTARY_API_KEY"
PKCS11_VARIABLES = ("RUNENV_WINDOWS_SIGN_PKCS11_MODULE", "RUNENV_WINDOWS_SIGN_PKCS11_KEY",
                    "RUNENV_WINDOWS_SIGN_PKCS11_CERT")  # fmt: skip


def p12_variable(os_key: str) -> str:
    return f"RUNENV_{os_key.upper()}_SIGN_P12"


def password_variable(os_key: str) -> str:
    return f"RUNENV_{os_key.upper()}_SIGN_PASSWORD"


def credential_variables(os_key: str) -> tuple[str, ...]:
    """The variables whose presence asks for signing the OS's cells."""
    return (p12_variable(os_key), *(PKCS11_VARIABLES if os_key == "windows" else ()))


def format_of_head(head: bytes) -> str | None:
    """ "elf", "macho" or "pe" from a file's first bytes (at least HEAD_BYTES of them, when the
    file has that many), or None: a Mach-O or fat magic, or "MZ" with "PE\\0\\0" at e_lfanew."""
    if head[:4] == b"\x7fELF":
        return "elf"
    if head[:4] in MACHO_THIN:
        return "macho"
    if head[:4] in MACHO_FAT and len(head) >= 8:
        return "macho" if 0 < struct.unpack(">I", head[4:8])[0] < MAX_FAT_ARCHS else None
    if head[:2] == b"MZ" and len(head) >= 0x40:
        offset = struct.unpack("<I", head[0x3C:0x40])[0]
        return "pe" if head[offset : offset + 4] == b"PE\0\0" else None
    return None


@dataclass(frozen=True)
class MacSigning:
    entitlements: tuple[str, ...] = DEFAULT_ENTITLEMENTS
    identifier_prefix: str = ""


@dataclass(frozen=True)
class SignConfig:
    """``build.sign``: which OSes the variant asks to sign (an object for the OS, possibly empty)."""

    macos: MacSigning | None = None
    windows: bool = False

    @classmethod
    def from_build(cls, build: Mapping[str, Any]) -> SignConfig:
        sign = build.get("sign", {})
        macos = sign.get("macos")
        mac = None
        if macos is not None:
            entitlements = tuple(macos.get("entitlements", DEFAULT_ENTITLEMENTS))
            mac = MacSigning(entitlements, str(macos.get("identifierPrefix", "")))
        return cls(macos=mac, windows="windows" in sign)

    def asks(self, os_name: str) -> bool:
        return (self.macos is not None) if os_name == "macosx" else (self.windows and os_name == "windows")


def signing_wanted(os_name: str, config: SignConfig, environ: Mapping[str, str]) -> bool:
    """Whether a cell of this platform OS is signed: a macOS or Windows cell whose OS build.sign
    names, or whose credential variable is set."""
    key = CONFIG_KEY.get(os_name)
    return key is not None and (config.asks(os_name) or any(environ.get(v) for v in credential_variables(key)))


def signable_platform(platform_key: str) -> bool:
    """A platform whose binaries runenv signs (macOS and Windows), by its key."""
    return platform_key.split("-")[0] in CONFIG_KEY


def entitlements_plist(entitlements: tuple[str, ...]) -> bytes:
    """The entitlements as an XML property list, each true; the same bytes for the same list."""
    return plistlib.dumps(dict.fromkeys(entitlements, True), fmt=plistlib.FMT_XML, sort_keys=True)


def identifier(prefix: str, relative_path: str) -> str:
    """A binary's code-signing identifier: the prefix (``com.example.``) and its file name."""
    name = relative_path.rsplit("/", 1)[-1]
    return f"{prefix.rstrip('.')}.{name}" if prefix else name


def cache_key(input_sha256: str, fingerprint: str, how: Mapping[str, Any]) -> str:
    """What a signed binary is cached under: its unsigned bytes, the certificate and the rest
    of what goes into the signature (entitlements, identifier, signing time, timestamp server)."""
    text = json.dumps({"input": input_sha256, "certificate": fingerprint, **how}, sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()


@dataclass(frozen=True)
class Certificate:
    subject: str
    sha256: str  # the fingerprint of its DER bytes, lowercase hex

    def to_json(self) -> dict[str, str]:
        return {"subject": self.subject, "sha256": self.sha256}


@dataclass(frozen=True)
class Notarization:
    status: str  # "accepted", "invalid", "rejected", or "not notarized"
    submission_id: str | None = None
    detail: str = ""

    def to_json(self) -> dict[str, Any]:
        return {"status": self.status, "submissionId": self.submission_id, "detail": self.detail}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Notarization:
        return cls(data["status"], data.get("submissionId"), data.get("detail", ""))


@dataclass(frozen=True)
class SignedFile:
    path: str  # relative to pydist/<platform>/
    unsigned_sha256: str
    signed_sha256: str

    def to_json(self) -> dict[str, str]:
        return {"path": self.path, "unsignedSha256": self.unsigned_sha256, "sha256": self.signed_sha256}


@dataclass(frozen=True)
class Signing:
    """runenv.json's ``signing``: present only in a signed cell (an unsigned archive is the
    same bytes as before signing existed)."""

    certificate: Certificate
    entitlements: tuple[str, ...]  # empty for Windows
    timestamp_url: str | None
    signing_time: int
    files: tuple[SignedFile, ...]
    notarization: Notarization | None = None  # macOS only
    tool: str = ""

    def to_json(self) -> dict[str, Any]:
        return {
            "signed": True,
            "tool": self.tool,
            "certificate": self.certificate.to_json(),
            "entitlements": list(self.entitlements),
            "timestampUrl": self.timestamp_url,
            "signingTime": self.signing_time,
            "binaries": len(self.files),
            "files": [f.to_json() for f in self.files],
            **({"notarization": self.notarization.to_json()} if self.notarization else {}),
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Signing:
        files = tuple(SignedFile(f["path"], f["unsignedSha256"], f["sha256"]) for f in data["files"])
        notarization = Notarization.from_json(data["notarization"]) if "notarization" in data else None
        certificate = Certificate(data["certificate"]["subject"], data["certificate"]["sha256"])
        return cls(certificate, tuple(data["entitlements"]), data.get("timestampUrl"), int(data["signingTime"]),
                   files, notarization, data.get("tool", ""))  # fmt: skip


def index_entry(signing: Mapping[str, Any] | None) -> dict[str, Any]:
    """What the catalogue index says of a cell's signing: everything but the file list."""
    if not signing:
        return {"signed": False}
    return {key: value for key, value in signing.items() if key != "files"}
