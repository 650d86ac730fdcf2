"""One test per merge rule of the README's merge table."""

from __future__ import annotations

from tasks.config.merge import merge


def packages(shared: dict, variant: dict) -> dict:
    return merge({"packages": shared}, {"packages": variant})["packages"]


def test_variant_dependencies_replace_shared_list() -> None:
    merged = packages({"dependencies": ["numpy==2.2.6", "scipy"]}, {"dependencies": ["six==1.17.0"]})
    assert merged["dependencies"] == ["six==1.17.0"]


def test_shared_dependencies_used_when_variant_omits_them() -> None:
    merged = packages({"dependencies": ["numpy==2.2.6"]}, {})
    assert merged["dependencies"] == ["numpy==2.2.6"]


def test_empty_variant_dependency_list_still_replaces() -> None:
    assert packages({"dependencies": ["numpy"]}, {"dependencies": []})["dependencies"] == []


def test_overrides_repin_by_canonical_name_variant_wins() -> None:
    merged = packages(
        {"overrides": {"Scikit_Learn": "1.5.0", "numpy": "2.2.6"}},
        {"overrides": {"scikit-learn": "1.6.1"}},
    )
    assert merged["overrides"] == {"scikit-learn": "1.6.1", "numpy": "2.2.6"}


def test_skip_merges_per_package_and_per_platform() -> None:
    shared = {"skip": {"cudf-cu12": {"macosx-x64": {"reason": "a"}, "windows-x64": {"reason": "b"}}}}
    variant = {"skip": {"CUDF_cu12": {"linux-aarch64": {"reason": "c"}}, "torch": {"macosx-x64": {"reason": "d"}}}}
    assert packages(shared, variant)["skip"] == {
        "cudf-cu12": {
            "macosx-x64": {"reason": "a"},
            "windows-x64": {"reason": "b"},
            "linux-aarch64": {"reason": "c"},
        },
        "torch": {"macosx-x64": {"reason": "d"}},
    }


def test_variant_null_cancels_shared_rule_for_that_platform_only() -> None:
    shared = {"skip": {"tensorflow": {"macosx-x64": {"reason": "a"}, "windows-x64": {"reason": "b"}}}}
    variant = {"skip": {"tensorflow": {"macosx-x64": None}}}
    assert packages(shared, variant)["skip"] == {"tensorflow": {"windows-x64": {"reason": "b"}}}


def test_cancelling_every_platform_drops_the_package() -> None:
    shared = {"forceSource": {"parasail": {"linux-aarch64": {"reason": "a"}}}}
    variant = {"forceSource": {"parasail": {"linux-aarch64": None}}}
    assert packages(shared, variant)["forceSource"] == {}


def test_variant_rule_replaces_shared_rule_on_same_platform() -> None:
    shared = {"forceSource": {"parasail": {"linux-aarch64": {"reason": "old"}}}}
    variant = {"forceSource": {"parasail": {"linux-aarch64": {"reason": "new"}}}}
    assert packages(shared, variant)["forceSource"] == {"parasail": {"linux-aarch64": {"reason": "new"}}}


def test_build_wheel_merges_like_skip() -> None:
    rule = {"reason": "r", "buildRequires": ["cython"], "configSettings": ["k=v"]}
    shared = {"buildWheel": {"parasail": {"linux-aarch64": rule, "macosx-aarch64": rule}}}
    variant = {"buildWheel": {"parasail": {"macosx-aarch64": None}}}
    assert packages(shared, variant)["buildWheel"] == {"parasail": {"linux-aarch64": rule}}


def test_rules_normalise_to_one_form() -> None:
    """A plain reason string becomes {"reason": …}; object configSettings become an ordered list."""
    shared = {"skip": {"cudf-cu12": {"macosx-x64": "no CUDA on macOS"}}}
    variant = {
        "forceSource": {"parasail": {"linux-aarch64": {"reason": "no ARM64 wheel"}}},
        "buildWheel": {"k": {"windows-x64": {"reason": "r", "configSettings": {"a": "1", "b": "2"}}}},
    }
    merged = packages(shared, variant)
    assert merged["skip"] == {"cudf-cu12": {"macosx-x64": {"reason": "no CUDA on macOS"}}}
    assert merged["forceSource"] == {"parasail": {"linux-aarch64": {"reason": "no ARM64 wheel"}}}
    assert merged["buildWheel"] == {"k": {"windows-x64": {"reason": "r", "configSettings": ["a=1", "b=2"]}}}


def test_list_config_settings_keep_order_and_repeats() -> None:
    settings = ["cmake.args=-GNinja", "cmake.define.A=1", "cmake.args=-DB=2"]
    variant = {"buildWheel": {"k": {"windows-x64": {"reason": "r", "configSettings": settings}}}}
    assert packages({}, variant)["buildWheel"]["k"]["windows-x64"]["configSettings"] == settings


def test_bare_vcs_dependency_gets_the_repository_name() -> None:
    url = "git+https://example.invalid/org/parapred-pytorch.git@e0548be"
    assert packages({}, {"dependencies": [url]})["dependencies"] == [f"parapred-pytorch @ {url}"]


def test_registries_union_keeps_order_and_drops_duplicates() -> None:
    merged = merge(
        {"registries": {"additional": ["https://a.example/simple", "https://b.example/simple"]}},
        {"registries": {"additional": ["https://b.example/simple", "https://c.example/simple"]}},
    )
    assert merged["registries"]["additional"] == [
        "https://a.example/simple",
        "https://b.example/simple",
        "https://c.example/simple",
    ]


def test_build_overrides_key_by_key() -> None:
    merged = merge(
        {"build": {"enableLogging": True, "parallelDownloads": True, "timeout": 900}},
        {"build": {"timeout": 60, "parallelDownloads": 4}},
    )
    assert merged["build"] == {"enableLogging": True, "parallelDownloads": 4, "timeout": 60}


def test_platform_specific_lists_appended_and_deduplicated() -> None:
    copy = {"from": "linux-x64/bin/", "to": "bin/"}
    extra = {"from": "linux-x64/etc/", "to": "etc/"}
    shared = {"platformSpecific": {"linux-x64": {"dependencies": ["six", "pyyaml"], "copyFiles": [copy]}}}
    variant = {
        "platformSpecific": {
            "linux-x64": {"dependencies": ["pyyaml", "markupsafe"], "copyFiles": [copy, extra]},
            "windows-x64": {"dependencies": ["colorama"]},
        }
    }
    assert packages(shared, variant)["platformSpecific"] == {
        "linux-x64": {"dependencies": ["six", "pyyaml", "markupsafe"], "copyFiles": [copy, extra]},
        "windows-x64": {"dependencies": ["colorama"]},
    }


def test_platform_specific_resolution_merges_like_resolution() -> None:
    shared = {
        "platformSpecific": {"linux-aarch64": {"resolution": {"allowSourceAll": False, "allowSourceList": ["a"]}}}
    }
    variant = {
        "platformSpecific": {"linux-aarch64": {"resolution": {"allowSourceAll": True, "allowSourceList": ["B", "a"]}}}
    }
    assert packages(shared, variant)["platformSpecific"]["linux-aarch64"]["resolution"] == {
        "allowSourceAll": True,
        "allowSourceList": ["a", "b"],
    }


def test_generic_copy_files_appended() -> None:
    one, two = {"from": "a", "to": "a"}, {"from": "b", "to": "b"}
    assert packages({"copyFiles": [one]}, {"copyFiles": [two]})["copyFiles"] == [one, two]


def test_resolution_booleans_overridden_lists_unioned_canonically() -> None:
    merged = packages(
        {"resolution": {"allowSourceAll": False, "strictMissing": True, "onlyBinaryList": ["NumPy", "scipy"]}},
        {"resolution": {"strictMissing": False, "onlyBinaryList": ["numpy", "Pandas"], "forceNoBinaryList": ["x_y"]}},
    )
    assert merged["resolution"] == {
        "allowSourceAll": False,
        "strictMissing": False,
        "onlyBinaryList": ["numpy", "scipy", "pandas"],
        "forceNoBinaryList": ["x-y"],
    }


def test_no_deps_unioned_as_canonical_names() -> None:
    assert packages({"noDeps": ["ImmuneBuilder"]}, {"noDeps": ["immunebuilder", "ANARCI"]})["noDeps"] == [
        "immunebuilder",
        "anarci",
    ]


def test_env_vars_variant_replaces_same_name() -> None:
    merged = merge({"envVars": ["A=1", "B=2"]}, {"envVars": ["B=3", "C=4"]})
    assert merged["envVars"] == ["A=1", "B=3", "C=4"]


def test_schema_key_is_not_carried_into_merged_config() -> None:
    merged = merge({"$schema": "x"}, {"$schema": "y"})
    assert "$schema" not in merged
    assert set(merged) == {"registries", "packages", "build", "envVars"}


def test_inputs_are_not_mutated() -> None:
    shared = {"packages": {"skip": {"a": {"linux-x64": {"reason": "r"}}}}}
    variant = {"packages": {"skip": {"a": {"linux-x64": None}}}}
    merge(shared, variant)
    assert shared == {"packages": {"skip": {"a": {"linux-x64": {"reason": "r"}}}}}
