"""Config → resolver input: markers, overrides, mirrors and the input hash."""

from __future__ import annotations

import pytest

from tasks.config.merge import merge
from tasks.errors import ConfigError
from tasks.lock.resolver_input import parse_mirrors, plan_indexes, resolver_input
from tasks.model import platforms
from tests.conftest import REPO

PLATFORMS = platforms.load(REPO / "configs/platforms.json")


def merged(packages: dict, registries: list[str] | None = None) -> dict:
    config = merge({"registries": {"additional": registries or []}}, {"packages": packages})
    config["variant"] = {"name": "3.12.1-t", "pythonVersion": "3.12.1", "suffix": "t"}
    return config


def test_overrides_and_platform_markers() -> None:
    spec = resolver_input(
        merged(
            {
                "dependencies": ["six==1.16.0", "pyyaml==6.0.2 ; python_version >= '3.8'"],
                "overrides": {"Six": "1.17.0"},
                "platformSpecific": {"windows-x64": {"dependencies": ["colorama==0.4.6"]}},
            }
        ),
        PLATFORMS,
        {},
    )
    assert spec.requirements == (
        "six==1.17.0",
        "pyyaml==6.0.2 ; python_version >= '3.8'",
        "colorama==0.4.6 ; (sys_platform == 'win32' and platform_machine == 'AMD64')",
    )
    assert spec.roots == ("six", "pyyaml", "colorama")


def test_skip_becomes_a_marker_excluding_the_platforms() -> None:
    spec = resolver_input(
        merged(
            {
                "dependencies": ["torch==2.7.0"],
                "skip": {"torch": {"macosx-x64": {"reason": "r"}, "windows-x64": {"reason": "r"}}},
            }
        ),
        PLATFORMS,
        {},
    )
    assert spec.requirements == (
        "torch==2.7.0 ; (sys_platform != 'darwin' or platform_machine != 'x86_64') and "
        "(sys_platform != 'win32' or platform_machine != 'AMD64')",
    )


def test_five_environments_pin_the_python_version() -> None:
    spec = resolver_input(merged({"dependencies": ["six"]}), PLATFORMS, {})
    assert len(spec.environments) == 5
    assert spec.environments[0] == (
        "python_full_version == '3.12.1' and platform_python_implementation == 'CPython' "
        "and sys_platform == 'linux' and platform_machine == 'x86_64'"
    )


def test_mirrors_replace_or_leave_out_registries() -> None:
    plan = plan_indexes(
        ["https://a.example/simple", "https://b.example/simple/", "https://c.example/simple"],
        {"https://a.example/simple/": "file:///srv/mirror-a", "https://b.example/simple": None},
    )
    assert plan.indexes == ("file:///srv/mirror-a", "https://c.example/simple")
    assert plan.mirrored == {"https://a.example/simple": "file:///srv/mirror-a"}
    assert plan.left_out == ("https://b.example/simple/",)


def test_bad_mirror_variable_is_a_clear_error() -> None:
    with pytest.raises(ConfigError) as caught:
        parse_mirrors("{not json")
    assert caught.value.problems == (
        "$RUNENV_INDEX_MIRRORS: invalid JSON at column 2: Expecting property name enclosed in double quotes",
    )
    with pytest.raises(ConfigError) as caught:
        parse_mirrors('["x"]')
    assert caught.value.problems == (
        "$RUNENV_INDEX_MIRRORS: expected a JSON object mapping a registry URL to a mirror URL or null",
    )


def test_an_unused_mirror_entry_is_a_warning_and_dropped() -> None:
    found, warnings = parse_mirrors(
        '{"https://a.example/simple/": null, "https://elsewhere.example/simple": "file:///srv/m"}',
        ["https://a.example/simple"],
    )
    assert found == {"https://a.example/simple/": None}
    assert warnings == [
        "warning: $RUNENV_INDEX_MIRRORS: ['https://elsewhere.example/simple']: no config of this tree lists this "
        "registry; the entry is unused (registries.additional has https://a.example/simple)"
    ]


def test_input_hash_covers_strict_missing_and_floors() -> None:
    base = {"dependencies": ["six==1.17.0"]}
    one = resolver_input(merged(base), PLATFORMS, {})
    strict = resolver_input(merged({**base, "resolution": {"strictMissing": True}}), PLATFORMS, {})
    floor = resolver_input(merged({**base, "platformSpecific": {"macosx-aarch64": {"floor": "14.0"}}}), PLATFORMS, {})
    assert len({one.input_hash, strict.input_hash, floor.input_hash}) == 3
    assert (one.strict_on("macosx-x64"), strict.strict_on("macosx-x64")) == (False, True)


def test_input_hash_changes_with_inputs_only() -> None:
    one = resolver_input(merged({"dependencies": ["six==1.17.0"]}), PLATFORMS, {})
    same = resolver_input(merged({"dependencies": ["six==1.17.0"]}), PLATFORMS, {})
    pinned = resolver_input(merged({"dependencies": ["six==1.16.0"]}), PLATFORMS, {})
    left_out = resolver_input(
        merged({"dependencies": ["six==1.17.0"]}, ["https://x.example/simple"]),
        PLATFORMS,
        {"https://x.example/simple": None},
    )
    configured = resolver_input(merged({"dependencies": ["six==1.17.0"]}, ["https://x.example/simple"]), PLATFORMS, {})
    assert one.input_hash == same.input_hash
    assert len({one.input_hash, pinned.input_hash, left_out.input_hash}) == 3
    assert left_out.input_hash == configured.input_hash, "leaving a registry out is transport, not input"


def test_input_hash_ignores_key_and_list_order() -> None:
    rules = {"macosx-x64": {"reason": "r"}, "windows-x64": {"reason": "r"}}
    one = resolver_input(
        merged({"dependencies": ["six==1.17.0", "torch==2.7.0"], "skip": {"torch": rules}}), PLATFORMS, {}
    )
    reordered = dict(reversed(list(rules.items())))
    two = resolver_input(
        merged({"dependencies": ["torch==2.7.0", "six==1.17.0"], "skip": {"torch": reordered}}), PLATFORMS, {}
    )
    assert one.input_hash == two.input_hash
