"""Validate one config document: JSON Schema first, then semantic checks.

Pure: a document, its source name and the schema in; a list of problem strings out.
Every problem reads ``<file>: <JSON path>: <what is wrong and what to do>``.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

from jsonschema import Draft202012Validator
from jsonschema.exceptions import ValidationError
from packaging.requirements import InvalidRequirement
from packaging.specifiers import InvalidSpecifier
from packaging.utils import canonicalize_name
from packaging.version import InvalidVersion

from tasks.config.merge import PER_PLATFORM_RULES, RESOLUTION_LISTS
from tasks.model.platforms import PLATFORM_KEYS
from tasks.model.requirements import override_specifier, parse

JSON_TYPES = {
    dict: "object",
    list: "array",
    str: "string",
    bool: "boolean",
    int: "integer",
    float: "number",
    type(None): "null",
}


def json_type(value: Any) -> str:
    return JSON_TYPES.get(type(value), type(value).__name__)


def child(path: str, key: str | int) -> str:
    """JSONPath of a child: ``$.a.b[0]``; keys that are not plain words go in brackets."""
    if isinstance(key, int):
        return f"{path}[{key}]"
    if key.replace("_", "").replace("-", "").isalnum() and not key[0].isdigit():
        return f"{path}.{key}"
    return f"{path}[{key!r}]"


def error_path(error: ValidationError) -> str:
    path = "$"
    for key in error.absolute_path:
        path = child(path, key)
    return path


def is_property_name_error(error: ValidationError) -> bool:
    return "propertyNames" in error.absolute_schema_path


def describe(error: ValidationError) -> Iterator[tuple[str, str]]:
    """(JSON path, message) pairs for one schema error, in words a user can act on."""
    path = error_path(error)
    if is_property_name_error(error):
        key = error.instance
        if "enum" in error.absolute_schema_path:
            wanted = ", ".join(PLATFORM_KEYS)
            yield child(path, key), f"unknown platform {key!r}; use one of {wanted}"
        elif "x-accepts" in error.schema:
            yield child(path, key), f"{key!r} is not {error.schema['x-accepts']}"
        else:
            yield child(path, key), f"{key!r} is not a valid package name (PEP 508)"
    elif error.validator == "additionalProperties" and isinstance(error.instance, dict):
        allowed = sorted(error.schema.get("properties", {}))
        for key in error.instance:
            if key not in allowed:
                yield child(path, key), (f"unknown key {key!r}; allowed keys here: {', '.join(allowed)}")
    elif error.validator == "type":
        yield path, f"expected {error.validator_value}, got {json_type(error.instance)}"
    elif error.validator == "pattern" and "x-accepts" in error.schema:
        yield path, f"{error.instance!r} is not {error.schema['x-accepts']}"
    elif error.validator == "required":
        yield path, error.message.replace("is a required property", "is required here")
    elif error.validator == "anyOf":
        yield from describe_any_of(error, path)
    elif error.validator == "enum":
        wanted = ", ".join(map(str, error.validator_value))
        yield path, f"{error.instance!r} is not allowed; use one of {wanted}"
    elif error.validator in ("exclusiveMinimum", "minimum", "maximum"):
        bound = {"exclusiveMinimum": "greater than", "minimum": "at least", "maximum": "at most"}
        yield path, f"must be {bound[str(error.validator)]} {error.validator_value}, got {error.instance}"
    else:
        yield path, error.message


def describe_any_of(error: ValidationError, path: str) -> Iterator[tuple[str, str]]:
    """A value that fits none of several forms. When its type fits a form, the problems inside
    that form are reported where they are (the innermost wrong value); otherwise the value's
    type is wrong, and the message lists the accepted forms."""
    here = list(error.absolute_path)
    wrong_type = [e for e in error.context or [] if e.validator == "type" and list(e.absolute_path) == here]
    inside = [e for e in error.context or [] if e not in wrong_type]
    if inside:
        # Several forms of the right type: report the one the value comes closest to.
        by_form: dict[Any, list[ValidationError]] = {}
        for branch in inside:
            by_form.setdefault(branch.relative_schema_path[0], []).append(branch)
        for branch in min(by_form.values(), key=len):
            yield from describe(branch)
        return
    accepts = error.schema.get("x-accepts")
    wanted = accepts or " or ".join(str(e.validator_value) for e in wrong_type)
    yield path, f"expected {wanted}, got {json_type(error.instance)}"


def schema_problems(doc: Any, source: str, schema: dict[str, Any]) -> list[str]:
    validator = Draft202012Validator(schema)
    found = sorted(validator.iter_errors(doc), key=lambda e: list(map(str, e.absolute_path)))
    return [f"{source}: {path}: {message}" for error in found for path, message in describe(error)]


def listed_twice(names: Iterable[tuple[int, str]], path: str) -> Iterator[str]:
    """(index, canonical name) pairs: a name may appear once per list."""
    seen: dict[str, int] = {}
    for index, name in names:
        if name in seen:
            yield f"{child(path, index)}: {name!r} is listed twice (first at [{seen[name]}])"
        seen.setdefault(name, index)


def requirement_problems(items: Any, path: str) -> Iterator[str]:
    """Each string must parse as PEP 508; a package may appear once per list."""
    if not isinstance(items, list):
        return
    names = []
    for index, text in enumerate(items):
        if not isinstance(text, str):
            continue
        try:
            names.append((index, canonicalize_name(parse(text).name)))
        except InvalidRequirement as exc:
            reason = str(exc).splitlines()[0]
            yield (
                f"{child(path, index)}: {text!r} is not a PEP 508 requirement ({reason}); "
                "write e.g. 'numpy==2.2.6', 'name @ git+https://host/org/repo.git@<commit>' or a bare "
                "'git+https://host/org/repo.git@<commit>'"
            )
        except ValueError as exc:
            yield f"{child(path, index)}: {exc}"
    yield from listed_twice(names, path)


def name_list_problems(items: Any, path: str) -> Iterator[str]:
    if isinstance(items, list):
        yield from listed_twice(((i, canonicalize_name(n)) for i, n in enumerate(items) if isinstance(n, str)), path)


def relative_path_problem(value: str, field: str) -> str | None:
    """A copyFiles path must be relative and must not climb out with ``..``."""
    parts = value.replace("\\", "/").split("/")
    if value.startswith(("/", "\\")) or (len(value) > 1 and value[1] == ":"):
        return f"{value!r} is absolute; {field} must be a relative path"
    if ".." in parts:
        return f"{value!r} climbs out with '..'; {field} must stay inside its root"
    return None


def copy_files_problems(items: Any, path: str) -> Iterator[str]:
    if not isinstance(items, list):
        return
    roots = {"from": "'from' (relative to the variant directory)", "to": "'to' (relative to the environment root)"}
    for index, item in enumerate(items):
        for field, described in roots.items():
            value = item.get(field) if isinstance(item, dict) else None
            if isinstance(value, str) and (problem := relative_path_problem(value, described)):
                yield f"{child(child(path, index), field)}: {problem}"


def override_problems(overrides: Any, path: str) -> Iterator[str]:
    if not isinstance(overrides, dict):
        return
    for name, version in overrides.items():
        if not isinstance(version, str):
            continue
        try:
            override_specifier(version)
        except (InvalidVersion, InvalidSpecifier):
            yield (
                f"{child(path, name)}: {version!r} is neither a version nor a version "
                "specifier; write e.g. '2.2.3' or '>=2.2,<3'"
            )


def resolution_problems(resolution: Any, path: str) -> Iterator[str]:
    if isinstance(resolution, dict):
        for key in RESOLUTION_LISTS:
            yield from name_list_problems(resolution.get(key), child(path, key))


def build_requires_problems(packages: dict[str, Any]) -> Iterator[str]:
    build_wheel = packages.get("buildWheel")
    if not isinstance(build_wheel, dict):
        return
    for name, platforms in build_wheel.items():
        for platform, rule in (platforms or {}).items() if isinstance(platforms, dict) else []:
            if isinstance(rule, dict):
                path = child(child(child("$.packages.buildWheel", name), platform), "buildRequires")
                yield from requirement_problems(rule.get("buildRequires"), path)


def semantic_problems(doc: Any, source: str) -> list[str]:
    """Checks the schema cannot express. Tolerates ill-typed parts (the schema reports those)."""
    packages = doc.get("packages") if isinstance(doc, dict) else None
    if not isinstance(packages, dict):
        return []
    found = [
        *requirement_problems(packages.get("dependencies"), "$.packages.dependencies"),
        *name_list_problems(packages.get("noDeps"), "$.packages.noDeps"),
        *copy_files_problems(packages.get("copyFiles"), "$.packages.copyFiles"),
        *override_problems(packages.get("overrides"), "$.packages.overrides"),
        *resolution_problems(packages.get("resolution"), "$.packages.resolution"),
        *build_requires_problems(packages),
    ]
    specific = packages.get("platformSpecific")
    for platform, entry in specific.items() if isinstance(specific, dict) else []:
        if isinstance(entry, dict):
            base = child("$.packages.platformSpecific", platform)
            found += requirement_problems(entry.get("dependencies"), child(base, "dependencies"))
            found += copy_files_problems(entry.get("copyFiles"), child(base, "copyFiles"))
            found += resolution_problems(entry.get("resolution"), child(base, "resolution"))
    return [f"{source}: {problem}" for problem in found]


def validate(doc: Any, source: str, schema: dict[str, Any]) -> list[str]:
    """All problems of one document, schema ones first."""
    return [*schema_problems(doc, source, schema), *semantic_problems(doc, source)]


def dependency_names(merged: dict[str, Any]) -> set[str]:
    packages = merged["packages"]
    texts = list(packages["dependencies"])
    for entry in packages["platformSpecific"].values():
        texts += entry.get("dependencies", [])
    return {canonicalize_name(parse(text).name) for text in texts}


def unused_rule_warnings(variant_doc: dict[str, Any], merged: dict[str, Any], source: str) -> list[str]:
    """Names the variant's own skip/forceSource/overrides give that no dependency list has.

    Shared rules are defaults for every variant, so only the variant's own are checked.
    A transitive dependency is a legitimate target, hence a warning and not an error.
    """
    known = dependency_names(merged)
    own = variant_doc.get("packages", {})
    warnings = []
    for rule in ("skip", "forceSource", "overrides"):
        for name in own.get(rule, {}):
            if canonicalize_name(name) not in known:
                warnings.append(
                    f"{source}: {child(child('$.packages', rule), name)}: {name!r} is in no "
                    "dependency list; fine for a transitive dependency, otherwise a typo"
                )
    return warnings


__all__ = ["PER_PLATFORM_RULES", "unused_rule_warnings", "validate"]
