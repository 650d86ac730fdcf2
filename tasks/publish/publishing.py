"""The publish stage and the registries it writes to (a local directory or S3).

Archives, then descriptors, then the catalogue, its index last. Archives and descriptors are
immutable: an object already there with the same SHA-256 is skipped, a different one is
refused (before anything is uploaded) unless ``--force``. The catalogue files are the
registry's pointer and are replaced on every publish, after everything they reference is in
place, so a reader never sees an entry whose archive is missing.

Each object carries its SHA-256 (S3: ``x-amz-meta-sha256``), so re-publishing compares
digests without downloading. Credentials and signed URLs are never printed: a registry
describes itself by bucket, prefix and endpoint host only.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import urlparse

from tasks.errors import PublishError
from tasks.model.layout import Layout, Variant
from tasks.model.records import sbom_name
from tasks.plumbing import files
from tasks.plumbing.cache import sha256_of
from tasks.publish.catalogue import Cell, descriptor_key
from tasks.publish.cataloguing import catalogue_meta, gather
from tasks.publish.npm import publish_npm

MB = 1024 * 1024
REGISTRY_VARIABLE = "RUNENV_REGISTRY"
MULTIPART_BYTES = 8 * 1024 * 1024


class Registry(Protocol):
    def describe(self) -> str: ...

    def sha256_of(self, key: str) -> str | None: ...

    def put(self, key: str, path: Path, sha256: str) -> None: ...


class DirectoryRegistry:
    def __init__(self, root: Path) -> None:
        self.root = root

    def describe(self) -> str:
        return f"file://{self.root}"

    def path(self, key: str) -> Path:
        """Where *key* lives: always under the registry's root."""
        target = (self.root / key).resolve()
        if not target.is_relative_to(self.root.resolve()):
            raise PublishError(f"registry key {key!r} leads outside {self.describe()}; check package.json's name")
        return target

    def sha256_of(self, key: str) -> str | None:
        path = self.path(key)
        return sha256_of(path) if path.is_file() else None

    def put(self, key: str, path: Path, sha256: str) -> None:
        target = self.path(key)
        target.parent.mkdir(parents=True, exist_ok=True)
        for leftover in target.parent.glob(f".{target.name}.*"):
            leftover.unlink(missing_ok=True)  # from a publish killed while writing this key
        fd, temp = tempfile.mkstemp(prefix=f".{target.name}.", dir=target.parent)
        os.close(fd)
        try:
            shutil.copyfile(path, temp)
            os.replace(temp, target)
        finally:
            Path(temp).unlink(missing_ok=True)


class S3Registry:
    """boto3 with the standard credential chain; ``AWS_ENDPOINT_URL`` selects an S3-compatible store.

    5xx answers, throttling and dropped connections are retried by botocore's own retry
    handler (standard mode, ``RUNENV_PUBLISH_ATTEMPTS`` attempts); credential and permission
    errors are not retried. Every failure becomes one PublishError naming the key."""

    def __init__(
        self, bucket: str, prefix: str, attempts: int = int(os.environ.get("RUNENV_PUBLISH_ATTEMPTS", "8"))
    ) -> None:
        import boto3
        from botocore.config import Config

        self.bucket, self.prefix = bucket, prefix.strip("/")
        config = Config(retries={"max_attempts": attempts, "mode": "standard"}, connect_timeout=5, read_timeout=60)
        self.client: Any = boto3.client("s3", config=config)

    def key(self, key: str) -> str:
        return f"{self.prefix}/{key}" if self.prefix else key

    def describe(self) -> str:
        endpoint = urlparse(str(self.client.meta.endpoint_url))
        return f"s3://{self.bucket}/{self.prefix} at {endpoint.hostname}:{endpoint.port or 443}"

    def call(self, what: str, operation: Any) -> Any:
        """One S3 operation, its errors as one line (botocore has already retried what it should)."""
        from boto3.exceptions import Boto3Error
        from botocore.exceptions import BotoCoreError, ClientError, NoCredentialsError

        try:
            return operation()
        except NoCredentialsError:
            raise PublishError(
                f"{what}: no AWS credentials found; set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or AWS_PROFILE"
            ) from None
        except ClientError as exc:
            error = exc.response.get("Error", {})
            raise PublishError(
                f"{what}: {error.get('Code')} {error.get('Message', '')}".rstrip() + f" ({self.describe()})"
            ) from None
        except (BotoCoreError, Boto3Error) as exc:
            raise PublishError(f"{what}: {type(exc).__name__}: {exc} ({self.describe()})") from None

    def sha256_of(self, key: str) -> str | None:
        from botocore.exceptions import ClientError

        def head() -> str | None:
            try:
                found = self.client.head_object(Bucket=self.bucket, Key=self.key(key))
            except ClientError as exc:
                if exc.response.get("Error", {}).get("Code") in ("404", "NoSuchKey", "NotFound"):
                    return None
                raise
            digest = str(found.get("Metadata", {}).get("sha256", "unknown"))
            return digest if self.readable_to_the_end(key, int(found.get("ContentLength", 0))) else None

        found: str | None = self.call(f"checking {key}", head)
        return found

    def readable_to_the_end(self, key: str, size: int) -> bool:
        """A store that crashed mid-write can keep an object's metadata but lose its data:
        read its last byte before trusting the recorded digest (otherwise upload it again)."""
        from botocore.exceptions import ClientError

        if size == 0:
            return True
        try:
            self.client.get_object(Bucket=self.bucket, Key=self.key(key), Range=f"bytes={size - 1}-")["Body"].read()
        except ClientError:
            return False
        return True

    def put(self, key: str, path: Path, sha256: str) -> None:
        from boto3.s3.transfer import TransferConfig

        transfer = TransferConfig(multipart_threshold=MULTIPART_BYTES, multipart_chunksize=MULTIPART_BYTES)
        self.call(
            f"uploading {key}",
            lambda: self.client.upload_file(
                str(path), self.bucket, self.key(key), ExtraArgs={"Metadata": {"sha256": sha256}}, Config=transfer
            ),
        )


def open_registry(target: str, root: Path) -> Registry:
    """A registry from ``s3://bucket/prefix``, ``file:///path`` or a directory relative to *root*."""
    if target.startswith("s3://"):
        parsed = urlparse(target)
        if not parsed.netloc:
            raise PublishError(f"registry {target!r}: write s3://<bucket>/<prefix>")
        return S3Registry(parsed.netloc, parsed.path)
    if target.startswith("file://"):
        return DirectoryRegistry(Path(urlparse(target).path))
    if "://" in target:
        raise PublishError(f"registry {target!r}: use s3://bucket/prefix, file:///path or a directory")
    return DirectoryRegistry((root / target).resolve())


@dataclass(frozen=True)
class Upload:
    key: str
    path: Path
    immutable: bool


def cell_uploads(layout: Layout, variants: list[Variant], cells: list[Cell]) -> list[Upload]:
    """Each cell's archive and its .sha256, from the files packed here."""
    by_name = {v.name: v for v in variants}
    uploads = []
    for cell in cells:
        archive = layout.archives_dir(by_name[cell.variant]) / cell.archive_name
        uploads += [
            Upload(cell.archive_key, archive, True),
            Upload(cell.archive_key + ".sha256", archive.with_name(archive.name + ".sha256"), True),
            *([Upload(cell.sbom_key, archive.with_name(sbom_name(archive.name)), True)] if cell.sbom_sha256 else []),
        ]
    return uploads


def catalogue_uploads(layout: Layout, variants: list[Variant]) -> list[Upload]:
    """The descriptors of the catalogue's variants, then the catalogue, its index last."""
    listed = files.read_json(layout.catalogue_package)["dependencies"]
    uploads = []
    for variant in variants:
        package = files.read_json(layout.package_json(variant))
        if package["name"] in listed:
            uploads.append(Upload(descriptor_key(package), layout.descriptor(variant), True))
    dist = layout.catalogue_dist
    catalogue_files = [layout.catalogue_package, *sorted((dist / "tengo").rglob("*.sw.json")), dist / "SHA256SUMS"]
    uploads += [
        Upload(f"catalogue/{p.relative_to(layout.catalogue_package.parent).as_posix()}", p, False)
        for p in catalogue_files
    ]
    uploads.append(Upload("catalogue/dist/index.json", dist / "index.json", False))
    return uploads


def refuse_conflicts(registry: Registry, uploads: list[tuple[Upload, str, str | None]], force: bool) -> None:
    conflicts = [
        f"  - {u.key}: registry has sha256 {there}, this build has {ours}"
        for u, ours, there in uploads
        if u.immutable and there is not None and there != ours
    ]
    if conflicts and not force:
        raise PublishError(
            f"{registry.describe()}: refusing to replace immutable objects (publish --force "
            "to overwrite):\n" + "\n".join(conflicts)
        )


def verify_packed(layout: Layout, variants: list[Variant], cells: list[Cell]) -> None:
    """Each archive packed here is the one pack made: its sha256 matches archive.json and its
    .sha256 file. (A cell packed on another machine, whose records alone are here, uploads nothing.)"""
    by_name = {v.name: v for v in variants}
    for cell in cells:
        archive = layout.archives_dir(by_name[cell.variant]) / cell.archive_name
        checksum = archive.with_name(archive.name + ".sha256")
        if not archive.is_file() and not checksum.is_file():
            continue
        listed = checksum.read_text().split()[:1] if checksum.is_file() else []
        digest = sha256_of(archive) if archive.is_file() else "missing"
        sbom = archive.with_name(sbom_name(archive.name))
        if cell.sbom_sha256 and (sha256_of(sbom) if sbom.is_file() else "missing") != cell.sbom_sha256:
            raise PublishError(
                f"{sbom}: not the bill of materials pack recorded (sbomSha256 {cell.sbom_sha256} in archive.json); "
                f"nothing was uploaded. Pack it again: doit forget pack:{cell.variant}-{cell.platform}, then "
                f"doit build:{cell.variant}-{cell.platform}"
            )
        if digest != cell.sha256 or listed != [cell.sha256]:
            raise PublishError(
                f"{archive}: sha256 {digest} is not what pack recorded ({cell.sha256} in archive.json, "
                f"{listed[0] if listed else 'none'} in {checksum.name}); nothing was uploaded. Pack it again: "
                f"doit forget pack:{cell.variant}-{cell.platform}, then doit build:{cell.variant}-{cell.platform}"
            )


def send(registry: Registry, uploads: list[Upload], force: bool) -> int:
    """Upload what the registry lacks (or holds differently, with --force); the number sent.
    Archives not packed here are left to the machine that built them."""
    present = [u for u in uploads if u.path.is_file()]
    checked = [(u, sha256_of(u.path), registry.sha256_of(u.key)) for u in present]
    refuse_conflicts(registry, checked, force)
    sent = 0
    for upload, ours, there in checked:
        if there == ours:
            print(f"  same   {upload.key}")
            continue
        started = time.monotonic()
        registry.put(upload.key, upload.path, ours)
        sent += 1
        size = upload.path.stat().st_size
        print(f"  upload {upload.key} ({size / MB:.1f} MB, {time.monotonic() - started:.1f} s)")
    return sent


def absent_from(registry: Registry, index: dict[str, Any]) -> list[str]:
    """Cells the catalogue lists whose archive the registry does not hold (by sha256)."""
    return [
        f"{cell['variant']}-{cell['platform']}"
        for cell in index["cells"]
        if registry.sha256_of(cell["archive"]) != cell["sha256"]
    ]


def publish(layout: Layout, variants: list[Variant], force: bool = False, cells: str | None = None) -> None:
    """Archives of the cells built here (matching *cells*, a glob), then, once the registry
    holds every cell the catalogue lists, the descriptors, the catalogue (index last) and
    the npm packages. A cell not built here is listed, never a crash: a native runner
    publishes its own cells, and the last job the catalogue."""
    target = os.environ.get(REGISTRY_VARIABLE) or catalogue_meta(layout)["registry"]
    registry = open_registry(target, layout.root.resolve())
    built, absent = gather(layout, variants, cells)
    if absent and cells is None:
        raise PublishError("not built here: " + ", ".join(absent) + "; build them, or publish a subset with --cells")
    print(f"publishing to {registry.describe()}")
    for name in absent:
        print(f"  not built here: {name}")
    verify_packed(layout, variants, built)
    sent = send(registry, cell_uploads(layout, variants, built), force)
    index_path = layout.catalogue_dist / "index.json"
    if not index_path.is_file():
        print(f"published: {sent} uploaded; no catalogue here (doit catalogue) to publish")
        return
    index = files.read_json(index_path)
    missing = absent_from(registry, index)
    if missing:
        message = "catalogue not published: the registry lacks " + ", ".join(missing)
        if cells is None:
            raise PublishError(message + " (publish them from the machines that built them: doit publish --cells)")
        print(f"published: {sent} uploaded; {message}")
        return
    sent += send(registry, catalogue_uploads(layout, variants), force)
    print(f"published: {sent} uploaded")
    for item in index["notVerifiedOnThisHost"]:
        print(f"  not verified on this host: {item['variant']}-{item['platform']}: {'; '.join(item['reasons'])}")
    publish_npm(layout, variants)
