"""Every validation error class, with its exact message."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tasks.config.merge import merge
from tasks.config.validate import unused_rule_warnings, validate
from tasks.errors import ConfigError
from tasks.model import jsonio
from tasks.model.platforms import PLATFORM_KEYS
from tests.conftest import REPO

SCHEMA = json.loads((REPO / "configs/schema/config.schema.json").read_text())
SOURCE = "python-9.9.9/config.json"
PLATFORMS = ", ".join(PLATFORM_KEYS)


def problems(doc: Any) -> list[str]:
    return validate(doc, SOURCE, SCHEMA)


@pytest.mark.parametrize(
    "path",
    ["configs/shared-config.json", *sorted(p.relative_to(REPO).as_posix() for p in REPO.glob("python-*/config.json"))],
)
def test_committed_configs_are_valid(path: str) -> None:
    assert validate(json.loads((REPO / path).read_text()), path, SCHEMA) == []


def test_unknown_key_is_an_error_naming_the_allowed_keys() -> None:
    assert problems({"packages": {"dependancies": []}}) == [
        f"{SOURCE}: $.packages.dependancies: unknown key 'dependancies'; allowed keys here: "
        "buildWheel, copyFiles, dependencies, forceSource, noDeps, overrides, platformSpecific, "
        "resolution, skip"
    ]


def test_unknown_platform_key() -> None:
    assert problems({"packages": {"skip": {"cudf-cu12": {"macos": {"reason": "r"}}}}}) == [
        f"{SOURCE}: $.packages.skip.cudf-cu12.macos: unknown platform 'macos'; use one of {PLATFORMS}"
    ]


def test_unknown_platform_in_platform_specific() -> None:
    assert problems({"packages": {"platformSpecific": {"win64": {}}}}) == [
        f"{SOURCE}: $.packages.platformSpecific.win64: unknown platform 'win64'; use one of {PLATFORMS}"
    ]


def test_wrong_type() -> None:
    assert problems({"packages": {"noDeps": {"parasail": True}}}) == [
        f"{SOURCE}: $.packages.noDeps: expected array, got object"
    ]


def test_seed_forms_are_valid() -> None:
    """Plain reason strings, list configSettings with repeated keys, a bare git URL."""
    seed = {
        "packages": {
            "dependencies": ["git+https://example.invalid/org/parapred-pytorch.git@e0548be", "numpy==2.2.6"],
            "noDeps": ["parapred-pytorch"],
            "skip": {"cudf-cu12": {"macosx-x64": "CUDA packages not supported on macOS", "windows-x64": None}},
            "forceSource": {"parasail": {"linux-aarch64": "parasail has no binary wheels for Linux ARM64"}},
            "buildWheel": {
                "kalign-python": {
                    "windows-x64": {
                        "reason": "no wheel",
                        "configSettings": ["cmake.args=-GNinja", "cmake.define.X=/I{packageRoot}/w", "cmake.args=-DA"],
                    }
                }
            },
        }
    }
    assert problems(seed) == []


def test_a_rule_of_the_wrong_type_lists_the_accepted_forms() -> None:
    assert problems({"packages": {"skip": {"torch": {"macosx-x64": ["no wheel"]}}}}) == [
        f'{SOURCE}: $.packages.skip.torch.macosx-x64: expected a reason string, {{"reason": "…"}} or null, got array'
    ]


def test_the_innermost_wrong_value_is_named() -> None:
    """An array where an object was expected, inside a rule: never 'expected object, got object'."""
    rule = {"reason": "r", "configSettings": {"cmake.args": ["-GNinja"]}, "buildRequires": "cmake"}
    assert problems({"packages": {"buildWheel": {"kalign": {"windows-x64": rule}}}}) == [
        f"{SOURCE}: $.packages.buildWheel.kalign.windows-x64.buildRequires: expected array, got string",
        f"{SOURCE}: $.packages.buildWheel.kalign.windows-x64.configSettings['cmake.args']: expected string, got array",
    ]


def test_config_settings_list_items_are_key_value_strings() -> None:
    rule = {"reason": "r", "configSettings": ["cmake.args=-GNinja", "-GNinja", 3]}
    base = "$.packages.buildWheel.kalign.windows-x64.configSettings"
    assert problems({"packages": {"buildWheel": {"kalign": {"windows-x64": rule}}}}) == [
        f"{SOURCE}: {base}[1]: '-GNinja' is not a \"key=value\" string",
        f"{SOURCE}: {base}[2]: expected string, got integer",
    ]


def test_bare_vcs_url_needs_a_repository_name() -> None:
    assert problems({"packages": {"dependencies": ["git+https://example.invalid/@e0548be"]}}) == [
        f"{SOURCE}: $.packages.dependencies[0]: cannot read a package name from "
        "'git+https://example.invalid/@e0548be'; write it as 'name @ git+https://example.invalid/@e0548be'"
    ]


def test_top_level_must_be_an_object() -> None:
    assert problems([]) == [f"{SOURCE}: $: expected object, got array"]


def test_missing_required_reason() -> None:
    assert problems({"packages": {"skip": {"torch": {"macosx-x64": {}}}}}) == [
        f"{SOURCE}: $.packages.skip.torch.macosx-x64: 'reason' is required here"
    ]


def test_parallel_downloads_boolean_or_count() -> None:
    assert problems({"build": {"parallelDownloads": "yes"}}) == [
        f"{SOURCE}: $.build.parallelDownloads: expected boolean or integer, got string"
    ]


def test_timeout_must_be_positive_and_resolver_known() -> None:
    assert problems({"build": {"timeout": 0, "resolver": "pip"}}) == [
        f"{SOURCE}: $.build.resolver: 'pip' is not allowed; use one of uv, pip-tools",
        f"{SOURCE}: $.build.timeout: must be greater than 0, got 0",
    ]


def test_invalid_package_name_as_key() -> None:
    assert problems({"packages": {"overrides": {"bad name!": "1.0"}}}) == [
        f"{SOURCE}: $.packages.overrides['bad name!']: 'bad name!' is not a valid package name (PEP 508)"
    ]


def test_requirement_must_parse_as_pep_508() -> None:
    assert problems({"packages": {"dependencies": ["numpy>>2", "six @ git+https://example.invalid/six.git"]}}) == [
        f"{SOURCE}: $.packages.dependencies[0]: 'numpy>>2' is not a PEP 508 requirement "
        "(Expected semicolon (after name with no version specifier) or end); write e.g. 'numpy==2.2.6', "
        "'name @ git+https://host/org/repo.git@<commit>' or a bare 'git+https://host/org/repo.git@<commit>'"
    ]


def test_package_listed_twice_in_one_list() -> None:
    assert problems(
        {
            "packages": {
                "dependencies": ["numpy==2.2.6", "NumPy>=1"],
                "platformSpecific": {"linux-x64": {"dependencies": ["six", "Six"]}},
                "noDeps": ["a_b", "A-B"],
                "resolution": {"onlyBinaryList": ["scipy", "SciPy"]},
            }
        }
    ) == [
        f"{SOURCE}: $.packages.dependencies[1]: 'numpy' is listed twice (first at [0])",
        f"{SOURCE}: $.packages.noDeps[1]: 'a-b' is listed twice (first at [0])",
        f"{SOURCE}: $.packages.resolution.onlyBinaryList[1]: 'scipy' is listed twice (first at [0])",
        f"{SOURCE}: $.packages.platformSpecific.linux-x64.dependencies[1]: 'six' is listed twice (first at [0])",
    ]


def test_copy_files_must_stay_inside_their_roots() -> None:
    assert problems(
        {
            "packages": {
                "copyFiles": [{"from": "../etc", "to": "etc"}, {"from": "bin", "to": "/opt/bin"}],
                "platformSpecific": {"windows-x64": {"copyFiles": [{"from": "a", "to": "C:\\tools"}]}},
            }
        }
    ) == [
        f"{SOURCE}: $.packages.copyFiles[0].from: '../etc' climbs out with '..'; "
        "'from' (relative to the variant directory) must stay inside its root",
        f"{SOURCE}: $.packages.copyFiles[1].to: '/opt/bin' is absolute; "
        "'to' (relative to the environment root) must be a relative path",
        f"{SOURCE}: $.packages.platformSpecific.windows-x64.copyFiles[0].to: 'C:\\\\tools' is absolute; "
        "'to' (relative to the environment root) must be a relative path",
    ]


def test_override_must_be_version_or_specifier() -> None:
    assert problems({"packages": {"overrides": {"numpy": "two", "scipy": ">=1.15,<2"}}}) == [
        f"{SOURCE}: $.packages.overrides.numpy: 'two' is neither a version nor a version specifier; "
        "write e.g. '2.2.3' or '>=2.2,<3'"
    ]


def test_all_problems_reported_at_once() -> None:
    found = problems({"extra": 1, "build": {"timeout": -1}, "packages": {"dependencies": ["a", "a"]}})
    assert len(found) == 3


def test_malformed_json_names_file_line_and_column() -> None:
    with pytest.raises(ConfigError) as caught:
        jsonio.loads('{\n  "build": {\n    "timeout" 60\n  }\n}\n', SOURCE)
    assert caught.value.problems == (f"{SOURCE}:3:15: invalid JSON: Expecting ':' delimiter; fix the syntax there",)


def test_unused_rule_warning_only_for_the_variants_own_rules() -> None:
    shared = {"packages": {"skip": {"cudf-cu12": {"windows-x64": {"reason": "r"}}}}}
    variant = {
        "packages": {
            "dependencies": ["torch==2.7.0"],
            "skip": {"tourch": {"macosx-x64": {"reason": "r"}}},
            "overrides": {"torch": "2.7.1"},
        }
    }
    assert unused_rule_warnings(variant, merge(shared, variant), SOURCE) == [
        f"{SOURCE}: $.packages.skip.tourch: 'tourch' is in no dependency list; "
        "fine for a transitive dependency, otherwise a typo"
    ]


def test_schema_platform_enum_matches_platform_data() -> None:
    data = json.loads((REPO / "configs/platforms.json").read_text())
    assert tuple(SCHEMA["$defs"]["platformKey"]["enum"]) == PLATFORM_KEYS
    assert tuple(data["platforms"]) == PLATFORM_KEYS
