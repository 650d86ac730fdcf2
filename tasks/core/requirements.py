"""Requirement strings: overrides applied, names compared in PEP 503 canonical form."""

from __future__ import annotations

from collections.abc import Mapping

from packaging.requirements import Requirement
from packaging.specifiers import SpecifierSet
from packaging.utils import canonicalize_name
from packaging.version import Version


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
        requirement = Requirement(text)
        new = overrides.get(canonicalize_name(requirement.name))
        if new is not None and requirement.url is None:
            requirement.specifier = override_specifier(new)
            text = str(requirement)
        pinned.append(text)
    return pinned
