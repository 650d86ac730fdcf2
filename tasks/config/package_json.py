"""A variant's package.json names things runenv derives paths from: its npm ``name`` and its
``version`` (``<version>-<os>-<arch>.tgz``, registry keys, npm tarballs). Pure: both are
validated like config, so no derived path can leave its directory."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

# npm's rules (validate-npm-package-name) for new packages: lower case, URL-safe, optionally scoped
NPM_NAME = re.compile(r"^(?:@[a-z0-9-~][a-z0-9-._~]*/)?[a-z0-9-~][a-z0-9-._~]*$")
# semver.org's regular expression
NUMBER = r"(?:0|[1-9]\d*)"
IDENTIFIER = r"(?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*)"
SEMVER = re.compile(
    rf"^{NUMBER}\.{NUMBER}\.{NUMBER}(?:-{IDENTIFIER}(?:\.{IDENTIFIER})*)?(?:\+[0-9a-zA-Z-]+(?:\.[0-9a-zA-Z-]+)*)?$"
)


def identity_problems(package: Any, source: str) -> list[str]:
    """Problems of package.json's ``name`` (a valid npm package name) and ``version`` (semver)."""
    if not isinstance(package, Mapping):
        return [f"{source}: $: expected a JSON object"]
    problems = []
    name, version = package.get("name"), package.get("version")
    if not isinstance(name, str) or len(name) > 214 or not NPM_NAME.match(name):
        problems.append(
            f"{source}: $.name: {name!r} is not a valid npm package name; write e.g. '@scope/runenv-python-3.12.10' "
            "(lower case, URL-safe characters, at most one scope)"
        )
    if not isinstance(version, str) or not SEMVER.match(version):
        problems.append(f"{source}: $.version: {version!r} is not a semantic version; write e.g. '1.0.0'")
    return problems
