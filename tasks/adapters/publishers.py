"""Registries that `doit publish` writes to: a local directory or S3 (any S3-compatible store).

Each object carries its SHA-256 (S3: ``x-amz-meta-sha256``), so re-publishing compares
digests without downloading. Credentials and signed URLs are never printed: a registry
describes itself by bucket, prefix and endpoint host only.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import time
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import urlparse

from tasks.adapters.cache import sha256_of
from tasks.errors import PublishError

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

    def sha256_of(self, key: str) -> str | None:
        path = self.root / key
        return sha256_of(path) if path.is_file() else None

    def put(self, key: str, path: Path, sha256: str) -> None:
        target = self.root / key
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
    """boto3 with the standard credential chain; ``AWS_ENDPOINT_URL`` selects an S3-compatible store."""

    def __init__(
        self, bucket: str, prefix: str, attempts: int = int(os.environ.get("RUNENV_PUBLISH_ATTEMPTS", "8"))
    ) -> None:
        import boto3
        from botocore.config import Config

        self.bucket, self.prefix, self.attempts = bucket, prefix.strip("/"), attempts
        config = Config(retries={"max_attempts": 3, "mode": "standard"}, connect_timeout=5, read_timeout=60)
        self.client: Any = boto3.client("s3", config=config)

    def key(self, key: str) -> str:
        return f"{self.prefix}/{key}" if self.prefix else key

    def describe(self) -> str:
        endpoint = urlparse(str(self.client.meta.endpoint_url))
        return f"s3://{self.bucket}/{self.prefix} at {endpoint.hostname}:{endpoint.port or 443}"

    def retrying(self, what: str, call: Any) -> Any:
        """Network errors (the store restarting, a dropped connection) are retried with backoff."""
        from botocore.exceptions import BotoCoreError, ConnectionClosedError, EndpointConnectionError

        for attempt in range(self.attempts):
            try:
                return call()
            except (EndpointConnectionError, ConnectionClosedError, BotoCoreError) as exc:
                if attempt + 1 == self.attempts:
                    raise PublishError(
                        f"{what}: {type(exc).__name__} after {self.attempts} attempts ({self.describe()})"
                    ) from None
                time.sleep(min(0.5 * 2**attempt, 8))
        raise AssertionError("unreachable")

    def sha256_of(self, key: str) -> str | None:
        from botocore.exceptions import ClientError

        def head() -> str | None:
            try:
                found = self.client.head_object(Bucket=self.bucket, Key=self.key(key))
            except ClientError as exc:
                if exc.response.get("Error", {}).get("Code") in ("404", "NoSuchKey", "NotFound"):
                    return None
                raise PublishError(
                    f"{key}: {exc.response.get('Error', {}).get('Code')} from {self.describe()}"
                ) from None
            digest = str(found.get("Metadata", {}).get("sha256", "unknown"))
            return digest if self.readable_to_the_end(key, int(found.get("ContentLength", 0))) else None

        found: str | None = self.retrying(f"checking {key}", head)
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
        self.retrying(
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
