"""Requirement strings: overrides applied, names compared in PEP 503 canonical form.

Besides PEP 508, a dependency may be a bare VCS URL, as the builder runenv replaces accepts
(``git+https://host/org/repo.git@e0548be``). :func:`normalise` turns it into PEP 508's
``name @ git+…`` with the name taken from the repository; the lock stage then confirms the
name from the built metadata.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from packaging.requirements import Requirement
from packaging.specifiers import SpecifierSet
from packaging.utils import canonicalize_name
from packaging.version import Version

VCS_SCHEMES = ("git+", "hg+", "svn+", "bzr+")
BARE_VCS = re.compile(r"^(?:git|hg|svn|bzr)\+[a-z][a-z0-9+.-]*://\S+$")
VALID_NAME = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9._-]*[A-Za-z0-9])?$")


def vcs_url(text: str) -> str | None:
    """The VCS URL of a PEP 508 requirement (``name @ git+…``), or None."""
    url = Requirement(text).url or ""
    return url if url.startswith(VCS_SCHEMES) else None


def is_bare_vcs(text: str) -> bool:
    return BARE_VCS.match(text.strip()) is not None


def vcs_repository_name(url: str) -> str | None:
    """The package name a VCS URL's repository suggests: ``…/parapred-pytorch.git@abc`` →
    ``parapred-pytorch``; ``#egg=name`` wins when present. None when no name can be read."""
    fragment = url.partition("#")[2]
    egg = next((part[4:] for part in fragment.split("&") if part.startswith("egg=")), None)
    if egg:
        return egg if VALID_NAME.match(egg) else None
    path = url.partition("#")[0].partition("://")[2].split("?", 1)[0]
    path = path.split("@", 1)[1] if "@" in path.split("/", 1)[0] else path  # user@host
    last = path.rstrip("/").rsplit("/", 1)[-1].split("@", 1)[0]
    last = last[: -len(".git")] if last.endswith(".git") else last
    return last if VALID_NAME.match(last) else None


def normalise(text: str) -> str:
    """A dependency as PEP 508 text: a bare VCS URL becomes ``<repository name> @ <url>``.

    Raises ValueError when a bare URL names no usable repository.
    """
    stripped = text.strip()
    if not is_bare_vcs(stripped):
        return text
    name = vcs_repository_name(stripped)
    if name is None:
        raise ValueError(f"cannot read a package name from {stripped!r}; write it as 'name @ {stripped}'")
    return f"{name} @ {stripped}"


def parse(text: str) -> Requirement:
    """A dependency string (PEP 508 or a bare VCS URL) as a Requirement."""
    return Requirement(normalise(text))


def override_specifier(value: str) -> SpecifierSet:
    """An override is a bare version (``2.2.3`` means ``==2.2.3``) or a specifier set."""
    text = value.strip()
    if text[:1].isdigit():
        return SpecifierSet(f"=={Version(text)}")
    return SpecifierSet(text)


def apply_overrides(requirements: list[str], overrides: Mapping[str, str]) -> list[str]:
    """Re-pin the requirements whose canonical name has an override; keep the rest as written."""
    pinned = []
    for text in requirements:
        requirement = parse(text)
        new = overrides.get(canonicalize_name(requirement.name))
        if new is not None and requirement.url is None:
            requirement.specifier = override_specifier(new)
            text = str(requirement)
        pinned.append(text)
    return pinned
