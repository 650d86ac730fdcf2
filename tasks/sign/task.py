"""sign:<cell> — sign a macOS or Windows cell's binaries, when build.sign or a credential
variable asks for that OS (no sign task otherwise: an unsigned cell is built as before)."""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from tasks.action import action
from tasks.model.layout import Variant
from tasks.model.signing import PKCS11_VARIABLES, TIMESTAMP_VARIABLE, p12_variable
from tasks.plumbing.cells import LAYOUT, cells, raw_sign_section, signed_cell

ENVIRONMENT = ("SOURCE_DATE_EPOCH", TIMESTAMP_VARIABLE, *PKCS11_VARIABLES)  # what else goes into a signature


def credential_digest(variable: str) -> str:
    """A digest of the PKCS#12 a variable gives (its file's bytes or its base64): a new
    certificate signs again; the secret itself is never stored."""
    value = os.environ.get(variable, "")
    path = Path(value).expanduser() if value else None
    try:
        data = path.read_bytes() if path is not None and path.is_file() else value.encode()
    except OSError:
        data = value.encode()
    return hashlib.sha256(data).hexdigest()


def signing_inputs_unchanged(task: Any, values: dict[str, Any], variant: Variant) -> bool:
    inputs = {
        "sign": raw_sign_section(variant),
        "credentials": {v: credential_digest(v) for v in map(p12_variable, ("macos", "windows"))},
        "environment": {name: os.environ.get(name) for name in ENVIRONMENT},
    }
    current = hashlib.sha256(json.dumps(inputs, sort_keys=True).encode()).hexdigest()
    task.value_savers.append(lambda: {"signing-inputs": current})
    return bool(values.get("signing-inputs") == current)


def task_sign() -> Iterator[dict[str, Any]]:
    """Sign each macOS and Windows cell's binaries (Mach-O, PE) when signing is configured."""
    for variant, platform in cells():
        if not signed_cell(variant, platform):
            continue
        yield {
            "name": variant.cell(platform),
            "actions": [action("tasks.sign.sign:sign_cell", LAYOUT, variant, platform)],
            "file_dep": [LAYOUT.env_tree(variant, platform), LAYOUT.lock(variant)],
            "uptodate": [(signing_inputs_unchanged, (variant,), {})],
            "task_dep": [f"assemble:{variant.cell(platform)}"],
        }
