"""The sign stage, between assemble and pack: every Mach-O (macOS) or PE (Windows) binary of
the interpreter tree and of copyFiles is signed; the wheels of ``packages/`` are not opened
(their publishers signed their binaries). A binary is told by its first bytes, not its name.

It always starts from the tree assemble laid (verified against build/<platform>/tree.json, and
laid again if it was signed before), so two clean builds sign the same bytes. The signing time
is the archive's mtime. A signed binary is cached by its unsigned sha256, the certificate's
fingerprint and the rest of what the signature holds, so a rebuild re-uses it. Then the
records move with the tree: runenv.json gains ``signing``, runenv.cdx.json the identity, and
tree.json the signed files' digests, so pack verifies and ships exactly what was signed.
"""

from __future__ import annotations

import dataclasses
import os
import shutil
import tempfile
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from tasks.assemble.assemble import lay_out
from tasks.assemble.parts import archive_mtime, write_sbom
from tasks.assemble.sbom import SBOM_NAME
from tasks.base.prepare import remove_archives
from tasks.config.merged import variant_config
from tasks.errors import BuildError
from tasks.model.layout import Layout, Variant
from tasks.model.records import EnvManifest, EnvTree
from tasks.model.signing import (
    CONFIG_KEY,
    SIGNED_FORMAT,
    TIMESTAMP_VARIABLE,
    MacSigning,
    SignedFile,
    Signing,
    cache_key,
    identifier,
    signing_wanted,
)
from tasks.plumbing import files
from tasks.plumbing.binaries import binary_format
from tasks.plumbing.cache import Cache, sha256_of
from tasks.plumbing.stage import cell_stage
from tasks.sign.credentials import P12, open_credential
from tasks.sign.notary import AppleNotary, Notary, notarize_tree
from tasks.sign.signers import MachOSigner, PeSigner, Signer

RECORDS = ("runenv.json", SBOM_NAME)  # rewritten by sign, never signed


def signing_asked(layout: Layout, variant: Variant, platform_key: str) -> bool:
    """Whether the cell is to be signed: a macOS or Windows cell whose OS build.sign names, or
    whose credential variable is set."""
    config = variant_config(layout, variant)
    return signing_wanted(config.platforms[platform_key].os, config.settings.sign, os.environ)


def candidates(root: Path, tree: EnvTree, binary_kind: str) -> list[str]:
    """The tree's files (the wheelhouse and runenv's records left out) that are *binary_kind*."""
    paths = [path for path, entry in sorted(tree.entries.items())
             if entry.startswith("f:") and not path.startswith("packages/") and path not in RECORDS]  # fmt: skip
    with ThreadPoolExecutor(max_workers=os.cpu_count() or 2) as pool:
        kinds = list(pool.map(lambda path: binary_format(root / path), paths))
    return [path for path, kind in zip(paths, kinds, strict=True) if kind == binary_kind]


def make_signer(os_name: str, layout: Layout, variant: Variant, private: Path) -> Signer:
    config = variant_config(layout, variant)
    credential = open_credential(CONFIG_KEY[os_name], os.environ, private)
    when, stamp = archive_mtime(layout, variant), os.environ.get(TIMESTAMP_VARIABLE) or None
    if os_name == "macosx":
        if not isinstance(credential, P12):
            raise BuildError("macOS signing takes a PKCS#12 (RUNENV_MACOS_SIGN_P12), not a PKCS#11 module")
        mac = config.settings.sign.macos or MacSigning()
        return MachOSigner(credential, mac.entitlements, mac.identifier_prefix, when, stamp, private)
    return PeSigner(credential, when, stamp, private, config.settings.timeout)


def signed_in_place(root: Path, path: str, unsigned_sha256: str, signer: Signer, how: Mapping[str, Any]) -> str:
    """Sign one file of the tree (from the cache when it was signed before); its new sha256."""
    name = identifier(str(how.get("identifierPrefix", "")), path)
    key = cache_key(unsigned_sha256, signer.certificate.sha256, {**how, "identifier": name, "tool": signer.tool})
    cached = Cache().root / "signed" / key[:2] / key
    target = root / path
    if not cached.is_file():
        cached.parent.mkdir(parents=True, exist_ok=True)
        part = cached.with_name(f"{key}.{os.getpid()}.{id(target)}.part")
        part.unlink(missing_ok=True)
        try:
            signer.sign(target, part, name)
            os.replace(part, cached)
        finally:
            part.unlink(missing_ok=True)
    replacement = target.with_name(target.name + ".runenv-signed")
    shutil.copyfile(cached, replacement)  # a new file: the base tree's hard link is left unsigned
    os.chmod(replacement, target.stat().st_mode & 0o7777)
    os.replace(replacement, target)
    return sha256_of(target)


def unsigned_tree(layout: Layout, variant: Variant, platform_key: str) -> EnvTree:
    """assemble's record, with the tree laid again if it was signed or altered since."""
    root = layout.pydist(variant, platform_key)
    manifest = EnvManifest.from_json(files.read_json(layout.env_manifest(variant, platform_key)))
    tree = EnvTree.from_json(files.read_json(layout.env_tree(variant, platform_key)))
    if manifest.signing is not None or any(
        (root / path).is_file() and sha256_of(root / path) != entry.rsplit(":", 1)[1]
        for path, entry in tree.entries.items()
        if entry.startswith("f:") and not path.startswith("packages/")
    ):
        lay_out(layout, variant, platform_key)
        tree = EnvTree.from_json(files.read_json(layout.env_tree(variant, platform_key)))
    return tree


def sign_tree(layout: Layout, variant: Variant, platform_key: str, notary: Notary | None) -> Signing:
    """Sign the cell's tree and move its records with it; the signing record. Without a
    *notary*, the notarization recorded before is kept (pack restoring a signed tree)."""
    config = variant_config(layout, variant)
    platform, root = config.platforms[platform_key], layout.pydist(variant, platform_key)
    before = EnvManifest.from_json(files.read_json(layout.env_manifest(variant, platform_key))).signing
    remove_archives(layout, variant, platform)  # signing asked, and failing: no archive, not an unsigned one
    tree = unsigned_tree(layout, variant, platform_key)
    with tempfile.TemporaryDirectory(prefix="runenv-sign-") as temp:
        private = Path(temp)
        private.chmod(0o700)
        signer = make_signer(platform.os, layout, variant, private)
        how = signer.parameters()
        paths = candidates(root, tree, SIGNED_FORMAT[platform.os])
        digests = {path: tree.entries[path].rsplit(":", 1)[1] for path in paths}
        with ThreadPoolExecutor(max_workers=os.cpu_count() or 2) as pool:
            signed = list(pool.map(lambda p: signed_in_place(root, p, digests[p], signer, how), paths))
        notarization = None
        if platform.os == "macosx" and notary is not None:
            notarization = notarize_tree(root, private, os.environ, config.settings.timeout, notary)
        elif platform.os == "macosx" and before is not None:
            notarization = before.notarization
    signing = Signing(signer.certificate, signer.entitlements, signer.timestamp_url, signer.signing_time,
                      tuple(SignedFile(p, digests[p], s) for p, s in zip(paths, signed, strict=True)),
                      notarization, signer.tool)  # fmt: skip
    record_signing(layout, variant, platform_key, tree, signing)
    if isinstance(signer, PeSigner):
        files.write_text_atomic(layout.signing_chain(variant, platform_key), signer.credential.chain_pem.decode())
    return signing


def record_signing(layout: Layout, variant: Variant, platform_key: str, tree: EnvTree, signing: Signing) -> None:
    """runenv.json and runenv.cdx.json with the signing, then tree.json with every new digest."""
    root = layout.pydist(variant, platform_key)
    manifest = EnvManifest.from_json(files.read_json(layout.env_manifest(variant, platform_key)))
    signed_manifest = dataclasses.replace(manifest, signing=signing)
    files.write_json_atomic(layout.env_manifest(variant, platform_key), signed_manifest.to_json())
    write_sbom(layout, variant, platform_key, signed_manifest)
    entries = dict(tree.entries)
    for path in [*(f.path for f in signing.files), *RECORDS]:
        kind = entries[path].rsplit(":", 1)[0]
        entries[path] = f"{kind}:{sha256_of(root / path)}"
    files.write_json_atomic(layout.env_tree(variant, platform_key), EnvTree(entries).to_json())


@cell_stage("sign")
def sign_cell(layout: Layout, variant: Variant, platform_key: str, notary: Notary | None = None) -> None:
    cell = variant.cell(platform_key)
    signing = sign_tree(layout, variant, platform_key, notary or AppleNotary())
    print(f"{cell}: signed {len(signing.files)} binaries as {signing.certificate.subject} "
          f"(sha256 {signing.certificate.sha256[:16]}…)")  # fmt: skip
    if signing.notarization and signing.notarization.status == "not notarized":
        print(f"{cell}: not notarized ({signing.notarization.detail})")
