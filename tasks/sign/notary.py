"""Notarization of a signed macOS cell, behind a small protocol.

With an App Store Connect API key (``RUNENV_NOTARY_API_KEY``: the JSON key file rcodesign
uses), a zip of the environment's ``bin/`` and ``lib/`` goes to Apple's notary service
(apple-platform-py), and the stage waits for a verdict within build.timeout. Apple's service
cannot be reached from the project's build machines: everything up to it is tested (the zip,
the request, how its errors are reported), the service itself is not.
"""

from __future__ import annotations

import json
import zipfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from tasks.errors import BuildError
from tasks.model.signing import NOTARY_VARIABLE, Notarization

ZIP_TIME = (1980, 1, 1, 0, 0, 0)  # the zip's entries carry no build time
KEY_FIELDS = ("issuer_id", "key_id", "private_key")  # rcodesign's unified API key file


@dataclass(frozen=True)
class NotaryRequest:
    """What is sent: the zip and the key file (its path; the key is never printed)."""

    zip_path: Path
    api_key_path: Path
    wait_seconds: int


class Notary(Protocol):
    def submit(self, request: NotaryRequest) -> Mapping[str, Any]:
        """Submit and wait: {"submission_id": …, "response": {"status": …} or None}."""
        ...


class AppleNotary:
    """apple-platform-py's client of Apple's notary service."""

    def submit(self, request: NotaryRequest) -> Mapping[str, Any]:
        from apple_platform import notarize

        credentials = notarize.NotaryCredentials(api_key_path=request.api_key_path)
        return notarize.submit(request.zip_path, credentials, wait_seconds=request.wait_seconds)


def notary_zip(root: Path, target: Path) -> list[str]:
    """Zip ``bin/`` and ``lib/`` of *root* (sorted, fixed times and modes kept) into *target*;
    the names zipped."""
    names: list[str] = []
    with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as archive:
        for top in ("bin", "lib"):
            for path in sorted((root / top).rglob("*")) if (root / top).is_dir() else []:
                if path.is_dir() and not path.is_symlink():
                    continue
                name = path.relative_to(root).as_posix()
                info = zipfile.ZipInfo(name, ZIP_TIME)
                info.external_attr = (0o120777 if path.is_symlink() else path.stat().st_mode) << 16
                archive.writestr(info, str(path.readlink()) if path.is_symlink() else path.read_bytes())
                names.append(name)
    return names


def api_key_file(environ: Mapping[str, str]) -> Path:
    """The API key file the variable names, checked to be rcodesign's JSON key (one line if not)."""
    path = Path(environ[NOTARY_VARIABLE]).expanduser()
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except OSError as error:
        raise BuildError(f"{NOTARY_VARIABLE}: cannot read {path} ({error.strerror})") from None
    except ValueError:
        raise BuildError(f"{NOTARY_VARIABLE}: {path} is not JSON; give the API key file that "
                         "`rcodesign encode-app-store-connect-api-key` writes") from None  # fmt: skip
    missing = [key for key in KEY_FIELDS if not isinstance(data, dict) or not data.get(key)]
    if missing:
        raise BuildError(f"{NOTARY_VARIABLE}: {path} lacks {', '.join(missing)}; give the API key file that "
                         "`rcodesign encode-app-store-connect-api-key` writes")  # fmt: skip
    return path


def notarize_tree(root: Path, work: Path, environ: Mapping[str, str], timeout: float, notary: Notary) -> Notarization:
    """Notarize bin/ and lib/ of a signed tree, or say why not (no key: not an error)."""
    if not environ.get(NOTARY_VARIABLE):
        return Notarization("not notarized", None, f"no {NOTARY_VARIABLE}")
    request = NotaryRequest(work / "notarize.zip", api_key_file(environ), int(timeout))
    notary_zip(root, request.zip_path)
    try:
        answer = notary.submit(request)
    except Exception as error:  # the service's client raises its own kinds; one line, by name
        reason = str(error).splitlines()[0] if str(error) else type(error).__name__
        raise BuildError(f"notarization: the notary service refused or failed: {reason}") from None
    submission = str(answer.get("submission_id") or "")
    response = answer.get("response") or {}
    status = str(response.get("status") or "in progress").lower()
    if status in ("invalid", "rejected"):
        raise BuildError(f"notarization: submission {submission} was {status}; its log: rcodesign notary-log "
                         f"{submission}")  # fmt: skip
    if status != "accepted":
        raise BuildError(f"notarization: submission {submission} had no verdict within build.timeout "
                         f"({timeout:g} s); raise build.timeout or look it up with rcodesign notary-wait")  # fmt: skip
    return Notarization("accepted", submission, "")
