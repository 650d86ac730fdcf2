"""Signing credentials, from environment variables only (never the repository), never printed.

A PKCS#12 comes as a path or as base64 (``RUNENV_<OS>_SIGN_P12``) with its password
(``RUNENV_<OS>_SIGN_PASSWORD``); Windows keys held in an HSM or a cloud KMS come as a PKCS#11
module, key and certificate. A missing, unreadable or wrong-password credential is one line
naming the variable. The PKCS#12 is opened here with ``cryptography`` and written again, for
the signing tools, with the legacy encryption both read (OpenSSL 3's default AES one is
refused by the macOS signer as a wrong password), into a private temporary directory.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from tasks.errors import BuildError
from tasks.model.signing import (
    PKCS11_VARIABLES,
    Certificate,
    p12_variable,
    password_variable,
)


@dataclass(frozen=True)
class P12:
    """A PKCS#12 written for the signing tools (legacy encryption), and what is in it."""

    path: Path
    password: str = field(repr=False)
    certificate: Certificate
    chain_pem: bytes  # every certificate of the archive, for verifying


@dataclass(frozen=True)
class Pkcs11:
    module: str
    key: str  # the key's PKCS#11 URI or id
    certificate_file: Path
    pin: str | None = field(repr=False)
    certificate: Certificate
    chain_pem: bytes


def certificate_of(der: bytes) -> Certificate:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes

    certificate = x509.load_der_x509_certificate(der)
    return Certificate(certificate.subject.rfc4514_string(), certificate.fingerprint(hashes.SHA256()).hex())


def p12_bytes(variable: str, value: str) -> bytes:
    """The PKCS#12 a variable names: a readable file, or base64 of one."""
    path = Path(value).expanduser()
    if path.is_file():
        try:
            return path.read_bytes()
        except OSError as error:
            raise BuildError(f"{variable}: cannot read the PKCS#12 it names ({error.strerror})") from None
    try:
        return base64.b64decode("".join(value.split()), validate=True)
    except (binascii.Error, ValueError):
        raise BuildError(
            f"{variable}: neither a readable file nor base64 text; set it to the path of the PKCS#12 "
            "(.p12/.pfx) or to its base64"
        ) from None


def open_p12(os_key: str, environ: Mapping[str, str], private_dir: Path) -> P12:
    """The OS's PKCS#12, opened with its password and written again under *private_dir*."""
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.serialization import pkcs12

    variable, secret = p12_variable(os_key), password_variable(os_key)
    data = p12_bytes(variable, environ[variable])
    if secret not in environ:
        raise BuildError(f"{secret} is not set: the PKCS#12 in {variable} needs its password")
    password = environ[secret]
    try:
        key, leaf, others = pkcs12.load_key_and_certificates(data, password.encode())
    except ValueError:
        raise BuildError(
            f"{secret} does not open the PKCS#12 in {variable} (a wrong password, or not a PKCS#12)"
        ) from None
    if key is None or leaf is None:
        raise BuildError(f"{variable}: the PKCS#12 holds no private key and certificate to sign with")
    legacy = (
        serialization.PrivateFormat.PKCS12.encryption_builder()
        .kdf_rounds(2048)
        .key_cert_algorithm(pkcs12.PBES.PBESv1SHA1And3KeyTripleDESCBC)
        .hmac_hash(hashes.SHA1())
        .build(password.encode())
    )
    written = private_dir / f"{os_key}.p12"
    written.write_bytes(pkcs12.serialize_key_and_certificates(b"signer", key, leaf, others, legacy))  # type: ignore[arg-type]
    written.chmod(0o600)
    der = leaf.public_bytes(serialization.Encoding.DER)
    chain = b"".join(c.public_bytes(serialization.Encoding.PEM) for c in [leaf, *(others or [])])
    return P12(written, password, certificate_of(der), chain)


def open_pkcs11(environ: Mapping[str, str]) -> Pkcs11:
    """The Windows PKCS#11 module, key and certificate (all three variables, or an error naming
    the missing one); RUNENV_WINDOWS_SIGN_PASSWORD, when set, is the token's PIN."""
    from cryptography import x509
    from cryptography.hazmat.primitives import serialization

    for variable in PKCS11_VARIABLES:
        if not environ.get(variable):
            raise BuildError(f"{variable} is not set: signing with a PKCS#11 module needs all of "
                             f"{', '.join(PKCS11_VARIABLES)}")  # fmt: skip
    module, key, cert = (environ[v] for v in PKCS11_VARIABLES)
    if not Path(module).is_file():
        raise BuildError(f"{PKCS11_VARIABLES[0]}: {module} is not a readable PKCS#11 module")
    path, cert_variable = Path(cert).expanduser(), PKCS11_VARIABLES[2]
    try:
        raw = path.read_bytes()
        certificate = (
            x509.load_pem_x509_certificate(raw) if b"-----BEGIN" in raw else x509.load_der_x509_certificate(raw)
        )
    except (OSError, ValueError):
        raise BuildError(f"{cert_variable}: {path} is not a readable PEM or DER certificate") from None
    der = certificate.public_bytes(serialization.Encoding.DER)
    pin = environ.get(password_variable("windows"))
    return Pkcs11(module, key, path, pin, certificate_of(der), certificate.public_bytes(serialization.Encoding.PEM))


def open_credential(os_key: str, environ: Mapping[str, str], private_dir: Path) -> P12 | Pkcs11:
    """The credential the OS's cells are signed with, or one line naming the variable to set."""
    if environ.get(p12_variable(os_key)):
        return open_p12(os_key, environ, private_dir)
    if os_key == "windows" and any(environ.get(v) for v in PKCS11_VARIABLES):
        return open_pkcs11(environ)
    extra = f", or {', '.join(PKCS11_VARIABLES)} for a key in an HSM or KMS" if os_key == "windows" else ""
    raise BuildError(
        f"{p12_variable(os_key)} is not set, and build.sign.{os_key} asks for signed {os_key} cells: set it to the "
        f"path or base64 of a PKCS#12, with {password_variable(os_key)}{extra}"
    )
