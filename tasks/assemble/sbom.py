"""runenv.cdx.json: a CycloneDX (1.6) software bill of materials of each environment.

It lists the base CPython (version, source, sha256), every wheel and sdist of ``packages/``
(name, version, sha256, purl, the license its metadata declares), each copyFiles source with
its sha256, and the signing identity of a signed cell. It is deterministic: its only time is
the archive's mtime, its serial number derives from its content, and its order is sorted.
Written by cyclonedx-python-lib; assemble writes it, sign writes it again with the identity.
"""

from __future__ import annotations

import datetime
import email.parser
import tarfile
import uuid
import zipfile
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tasks.model.signing import Signing

SBOM_NAME = "runenv.cdx.json"
NAMESPACE = uuid.UUID("6f1f3c59-1e4a-4d0b-9a3e-2f5f0d5b8c11")  # runenv's, for uuid5 serial numbers


@dataclass(frozen=True)
class Part:
    """One component: a package of the wheelhouse, the base CPython or a copyFiles source."""

    kind: str  # "package", "python" or "file"
    name: str
    version: str | None
    sha256: str
    source: str  # where it came from: the archive URL, a local tree, a path in the variant
    license: tuple[str, str] | None = None  # ("expression" | "name", text)


def license_of(metadata: str) -> tuple[str, str] | None:
    """The license a core-metadata text declares: its License-Expression, an OSI classifier,
    or the first line of License."""
    message = email.parser.Parser().parsestr(metadata, headersonly=True)
    if expression := (message.get("License-Expression") or "").strip():
        return ("expression", expression)
    classifiers = [
        c.rsplit("::", 1)[-1].strip() for c in message.get_all("Classifier") or [] if c.startswith("License ::")
    ]
    if named := [c for c in classifiers if c not in ("OSI Approved", "Other/Proprietary License")]:
        return ("name", " OR ".join(sorted(set(named))))
    text = (message.get("License") or "").strip()
    line = text.splitlines()[0].strip() if text else ""
    return ("name", line[:200]) if line and line.upper() != "UNKNOWN" else None


def package_metadata(path: Path) -> str:
    """The core metadata of a wheel (METADATA) or an sdist (PKG-INFO); "" if none."""
    try:
        if path.suffix == ".whl" or path.suffix == ".zip":
            with zipfile.ZipFile(path) as archive:
                names = [n for n in archive.namelist() if n.count("/") <= 1]
                name = next((n for n in names if n.endswith((".dist-info/METADATA", "PKG-INFO"))), None)
                return archive.read(name).decode("utf-8", "replace") if name else ""
        with tarfile.open(path) as archive:
            member = next((m for m in archive.getmembers() if m.name.count("/") == 1 and m.name.endswith("/PKG-INFO")),
                          None)  # fmt: skip
            extracted = archive.extractfile(member) if member else None
            return extracted.read().decode("utf-8", "replace") if extracted else ""
    except (OSError, zipfile.BadZipFile, tarfile.TarError):
        return ""


def purl(name: str, version: str, file: str) -> Any:
    from packageurl import PackageURL

    return PackageURL(type="pypi", name=name.lower().replace("_", "-"), version=version, qualifiers={"file_name": file})


def component(part: Part) -> Any:
    from cyclonedx.model import HashAlgorithm, HashType, Property
    from cyclonedx.model.component import Component, ComponentType
    from cyclonedx.model.license import DisjunctiveLicense, LicenseExpression

    licenses: list[Any] = []
    if part.license:
        kind, text = part.license
        licenses = [LicenseExpression(text) if kind == "expression" else DisjunctiveLicense(name=text)]
    types = {"package": ComponentType.LIBRARY, "python": ComponentType.PLATFORM, "file": ComponentType.FILE}
    return Component(
        name=part.name,
        version=part.version,
        type=types[part.kind],
        bom_ref=f"{part.kind}:{part.name}",
        hashes=[HashType(alg=HashAlgorithm.SHA_256, content=part.sha256)],
        licenses=licenses,
        purl=purl(part.name, part.version or "", part.source) if part.kind == "package" else None,
        properties=[Property(name="runenv:source", value=part.source)],
    )


def sbom_text(cell: str, version: str, parts: Iterable[Part], mtime: int, signing: Signing | None) -> str:
    """The SBOM as CycloneDX 1.6 JSON, the same text for the same inputs."""
    from cyclonedx.model import Property
    from cyclonedx.model.bom import Bom, BomMetaData
    from cyclonedx.model.component import Component, ComponentType
    from cyclonedx.output.json import JsonV1Dot6

    ordered = sorted(parts, key=lambda p: (p.kind, p.name.lower(), p.source))
    identity = [Property(name=f"runenv:signing:{key}", value=str(value)) for key, value in signing_facts(signing)]
    subject = Component(name=cell, version=version, type=ComponentType.APPLICATION, bom_ref=f"environment:{cell}")
    when = datetime.datetime.fromtimestamp(mtime, tz=datetime.timezone.utc)
    components = [component(p) for p in ordered]
    draft = Bom(components=components, properties=identity, serial_number=NAMESPACE,
                metadata=BomMetaData(component=subject, timestamp=when))  # fmt: skip
    draft.register_dependency(subject, components)  # the environment holds each of them
    seed = JsonV1Dot6(draft).output_as_string(indent=None)  # with a fixed serial number: the content alone
    draft.serial_number = uuid.uuid5(NAMESPACE, seed)  # from the content: the same SBOM, the same number
    return JsonV1Dot6(draft).output_as_string(indent=2) + "\n"


def signing_facts(signing: Signing | None) -> list[tuple[str, Any]]:
    if signing is None:
        return []
    facts = [("subject", signing.certificate.subject), ("sha256", signing.certificate.sha256), ("tool", signing.tool),
             ("binaries", len(signing.files))]  # fmt: skip
    if signing.entitlements:
        facts.append(("entitlements", ",".join(signing.entitlements)))
    return facts


def validation_error(text: str) -> str | None:
    """The CycloneDX 1.6 schema's verdict on an SBOM text (cyclonedx-python-lib's validator)."""
    from cyclonedx.schema import SchemaVersion
    from cyclonedx.validation.json import JsonStrictValidator

    error = JsonStrictValidator(SchemaVersion.V1_6).validate_str(text)
    return None if error is None else str(error)
