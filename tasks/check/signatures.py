"""The check of a cell meant to be signed: every Mach-O or PE binary of its tree outside the
wheelhouse must carry a valid signature by the recorded certificate, as the signing tool's
own verifier judges it (apple-platform-py for Mach-O, ``osslsigncode verify`` for PE). An
unsigned, altered or foreign-signed binary fails the cell, by path."""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor

from tasks.config.merged import variant_config
from tasks.model.layout import Layout, Variant
from tasks.model.records import EnvManifest, EnvTree
from tasks.model.signing import SIGNED_FORMAT
from tasks.plumbing import files
from tasks.sign.sign import candidates, signing_asked
from tasks.sign.signers import macho_problems, pe_problems


def signature_problems(layout: Layout, variant: Variant, platform_key: str) -> list[str] | None:
    """None for a cell not meant to be signed; else one line per binary that fails."""
    if not signing_asked(layout, variant, platform_key):
        return None
    config = variant_config(layout, variant)
    platform, root = config.platforms[platform_key], layout.pydist(variant, platform_key)
    manifest = EnvManifest.from_json(files.read_json(layout.env_manifest(variant, platform_key)))
    if manifest.signing is None:
        return [f"{root / 'runenv.json'}: no signing recorded, but the cell is meant to be signed"]
    signing = manifest.signing
    tree = EnvTree.from_json(files.read_json(layout.env_tree(variant, platform_key)))
    paths = candidates(root, tree, SIGNED_FORMAT[platform.os])
    if platform.os == "macosx":

        def judged(path: str) -> list[str]:
            return macho_problems(root / path, signing.certificate.subject, signing.entitlements)
    else:
        chain = layout.signing_chain(variant, platform_key).read_bytes()

        def judged(path: str) -> list[str]:
            return pe_problems(root / path, chain, config.settings.timeout)

    with ThreadPoolExecutor(max_workers=os.cpu_count() or 2) as pool:
        found = list(pool.map(judged, paths))
    return [f"{path}: {'; '.join(problems)}" for path, problems in zip(paths, found, strict=True) if problems]
