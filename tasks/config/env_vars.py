"""envVars of a variant: the config's, then those its package.json artifact keeps. Pure.

Real variants keep ``envVars`` in ``package.json`` at
``block-software.entrypoints.main.environment.artifact.envVars``; the descriptor gets the union
of both, config first, de-duplicated by name. One name with two different values is an error
naming both files.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

ARTIFACT_PATH = ("block-software", "entrypoints", "main", "environment", "artifact")
ENV_VARS_PATH = "$['block-software'].entrypoints.main.environment.artifact.envVars"
PAIR = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*=")


def package_env_vars(package: Any, source: str) -> tuple[list[str], list[str]]:
    """(envVars, problems) of a package.json document; a missing list is an empty one."""
    node = package
    for key in ARTIFACT_PATH:
        node = node.get(key) if isinstance(node, Mapping) else None
    pairs = node.get("envVars") if isinstance(node, Mapping) else None
    if pairs is None:
        return [], []
    if not isinstance(pairs, list):
        return [], [f'{source}: {ENV_VARS_PATH}: expected a list of "NAME=value" strings']
    problems = [
        f'{source}: {ENV_VARS_PATH}[{index}]: {pair!r} is not a "NAME=value" string'
        for index, pair in enumerate(pairs)
        if not (isinstance(pair, str) and PAIR.match(pair))
    ]
    return ([] if problems else list(pairs)), problems


def union_env_vars(sources: Sequence[tuple[str, Sequence[str]]]) -> tuple[list[str], list[str]]:
    """(union, problems) of ``(file, ["NAME=value", …])`` lists in order: the first occurrence
    of a name is kept, a repeat with the same value is dropped, another value is a problem."""
    kept: dict[str, tuple[str, str]] = {}
    problems = []
    for source, pairs in sources:
        for pair in pairs:
            name = pair.split("=", 1)[0]
            if name not in kept:
                kept[name] = (pair, source)
            elif kept[name][0] != pair:
                first, where = kept[name]
                problems.append(
                    f"{source}: envVars: {name} is {pair!r} here but {first!r} in {where}; "
                    "keep one value (or remove it from one file)"
                )
    return [pair for pair, _ in kept.values()], problems


def config_env_var_sources(
    shared: Mapping[str, Any], own: Mapping[str, Any], merged_pairs: Sequence[str], files: tuple[str, str]
) -> list[tuple[str, list[str]]]:
    """The merged config's envVars, each attributed to the file its value came from."""
    own_names = {pair.split("=", 1)[0] for pair in own.get("envVars", [])}
    shared_file, own_file = files
    return [(own_file if pair.split("=", 1)[0] in own_names else shared_file, [pair]) for pair in merged_pairs]
