"""Publishing the variant packages and the catalogue package to an npm registry.

The data platform installs the catalogue from npm and follows its entrypoints into the
variant packages, so `doit publish` puts both there after the binary registry holds every
archive they reference: variants first, the catalogue last. Like the binary registry it is
idempotent: a version already published with the same tarball (npm's sha512 integrity) is
skipped; a different tarball under the same version is refused (bump package.json's version).

The registry is ``$RUNENV_NPM_REGISTRY`` (or ``npmRegistry`` in configs/catalogue.json). The
token follows npm's own conventions: the user's ``.npmrc``, or ``$NPM_TOKEN``, which npm
itself expands from a temporary userconfig; runenv never reads, writes or prints its value.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from pathlib import Path
from subprocess import CompletedProcess
from typing import Any
from urllib.parse import urlparse

from tasks.errors import PublishError
from tasks.model.layout import Layout, Variant
from tasks.plumbing import files
from tasks.plumbing.commands import run_command
from tasks.publish.cataloguing import catalogue_meta

NPM_REGISTRY_VARIABLE = "RUNENV_NPM_REGISTRY"
TOKEN_VARIABLE = "NPM_TOKEN"
NPM_TIMEOUT = 300.0


def npm_binary() -> str:
    found = shutil.which("npm")
    if not found:
        raise PublishError("npm not found on PATH; `./dev setup` installs it (Debian's nodejs and npm)")
    return found


def userconfig(registry: str, work: Path) -> dict[str, str]:
    """With $NPM_TOKEN set, a userconfig holding the user's .npmrc plus an auth line that npm
    expands itself (``${NPM_TOKEN}``); without it, npm's defaults."""
    if not os.environ.get(TOKEN_VARIABLE):
        return {}
    parsed = urlparse(registry)
    path = parsed.path if parsed.path.endswith("/") else parsed.path + "/"
    home = Path(os.environ.get("NPM_CONFIG_USERCONFIG", Path.home() / ".npmrc"))
    existing = home.read_text(encoding="utf-8") if home.is_file() else ""
    config = work / "npmrc"
    config.write_text(f"{existing}\n//{parsed.netloc}{path}:_authToken=${{{TOKEN_VARIABLE}}}\n", encoding="utf-8")
    return {"NPM_CONFIG_USERCONFIG": str(config)}


class NpmRegistry:
    def __init__(self, url: str, work: Path) -> None:
        self.url = url
        self.work = work
        self.env = {**os.environ, **userconfig(url, work), "NO_UPDATE_NOTIFIER": "1"}

    def npm(self, args: list[str], cwd: Path, what: str) -> CompletedProcess[str]:
        command = [npm_binary(), *args, "--registry", self.url]
        return run_command(
            command, f"npm {self.url}: {what}", NPM_TIMEOUT, cwd=cwd, env=self.env, check=False, error=PublishError
        )

    def pack(self, directory: Path) -> tuple[Path, dict[str, Any]]:
        """`npm pack` of *directory*: the tarball and npm's record of it (name, version, integrity)."""
        done = self.npm(["pack", "--json", "--pack-destination", str(self.work)], directory, f"packing {directory}")
        if done.returncode != 0:
            raise PublishError(f"npm pack {directory}: {last_line(done.stderr)}")
        record: dict[str, Any] = json.loads(done.stdout)[0]
        return self.work / record["filename"], record

    def integrity_of(self, name: str, version: str) -> str | None:
        """The published tarball's integrity, or None when that version is not published."""
        done = self.npm(["view", f"{name}@{version}", "dist.integrity", "--json"], self.work, f"looking up {name}")
        if done.returncode != 0:
            if "E404" in done.stderr or "404" in done.stderr:
                return None
            raise PublishError(f"npm {self.url}: looking up {name}@{version} failed: {last_line(done.stderr)}")
        text = done.stdout.strip()
        return json.loads(text) if text else None

    def publish(self, tarball: Path, name: str) -> None:
        done = self.npm(["publish", str(tarball), "--access", "public"], self.work, f"publishing {name}")
        if done.returncode != 0:
            raise PublishError(f"npm {self.url}: publishing {name} failed: {last_line(done.stderr)}")


def last_line(text: str) -> str:
    lines = [line for line in text.strip().splitlines() if line.strip()]
    return lines[-1] if lines else "no output"


def package_dirs(layout: Layout, variants: list[Variant]) -> list[Path]:
    """The catalogue's variant packages, then the catalogue package itself."""
    listed = files.read_json(layout.catalogue_package)["dependencies"]
    chosen = [layout.variant_dir(v) for v in variants if files.read_json(layout.package_json(v))["name"] in listed]
    return [*chosen, layout.catalogue_package.parent]


def publish_npm(layout: Layout, variants: list[Variant]) -> None:
    url = os.environ.get(NPM_REGISTRY_VARIABLE) or catalogue_meta(layout).get("npmRegistry")
    if not url:
        print(f"npm: ${NPM_REGISTRY_VARIABLE} is not set; npm packages not published")
        return
    print(f"npm: publishing to {url}")
    with tempfile.TemporaryDirectory(prefix="runenv-npm-") as temp:
        registry = NpmRegistry(url, Path(temp))
        for directory in package_dirs(layout, variants):
            tarball, record = registry.pack(directory)
            name, version = record["name"], record["version"]
            there = registry.integrity_of(name, version)
            if there == record["integrity"]:
                print(f"  same   {name}@{version}")
            elif there is not None:
                raise PublishError(
                    f"npm {url}: {name}@{version} is published with a different tarball ({there}, this build "
                    f"{record['integrity']}); an npm version is immutable: bump the version in "
                    f"{(directory / 'package.json').relative_to(layout.root)}"
                )
            else:
                registry.publish(tarball, name)
                print(f"  upload {name}@{version} ({tarball.stat().st_size / 1024:.1f} KiB)")
