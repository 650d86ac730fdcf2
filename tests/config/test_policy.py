"""Per-platform policy from a merged config, and buildWheel rules at build time (pure)."""

from __future__ import annotations

from tasks.config.policy import policy_for, with_package_root


def test_package_root_is_replaced_in_config_settings_and_build_requires() -> None:
    rule = {
        "reason": "r",
        "buildRequires": ["compat @ file://{packageRoot}/vendor/compat"],
        "configSettings": ["cmake.args=-GNinja", "cmake.define.FLAGS=/I{packageRoot}/win-compat", "cmake.args=-DX"],
    }
    assert with_package_root(rule, "/work/python-3.12.10-k") == {
        "reason": "r",
        "buildRequires": ["compat @ file:///work/python-3.12.10-k/vendor/compat"],
        "configSettings": [
            ("cmake.args", "-GNinja"),
            ("cmake.define.FLAGS", "/I/work/python-3.12.10-k/win-compat"),
            ("cmake.args", "-DX"),
        ],
    }


def test_a_skipped_dependency_is_an_error_unless_strict_missing_is_false() -> None:
    assert policy_for({}, "linux-x64").skipped_dependency_is_error
    assert policy_for({"resolution": {"strictMissing": True}}, "linux-x64").skipped_dependency_is_error
    relaxed = {"platformSpecific": {"linux-x64": {"resolution": {"strictMissing": False}}}}
    assert not policy_for(relaxed, "linux-x64").skipped_dependency_is_error
    assert policy_for(relaxed, "windows-x64").skipped_dependency_is_error
