"""envVars from the config and from package.json: union, de-duplication, conflicts (pure)."""

from __future__ import annotations

from tasks.config.env_vars import ENV_VARS_PATH, package_env_vars, union_env_vars


def artifact(env_vars: object) -> dict[str, object]:
    return {"block-software": {"entrypoints": {"main": {"environment": {"artifact": {"envVars": env_vars}}}}}}


def test_union_keeps_config_first_and_drops_identical_repeats() -> None:
    union, problems = union_env_vars(
        [("python-x/config.json", ["A=1", "B=2"]), ("python-x/package.json", ["B=2", "C=3"])]
    )
    assert (union, problems) == (["A=1", "B=2", "C=3"], [])


def test_a_conflicting_value_names_both_files() -> None:
    _, problems = union_env_vars(
        [("python-x/config.json", ["OMP_NUM_THREADS=1"]), ("python-x/package.json", ["OMP_NUM_THREADS=4"])]
    )
    assert problems == [
        "python-x/package.json: envVars: OMP_NUM_THREADS is 'OMP_NUM_THREADS=4' here but 'OMP_NUM_THREADS=1' in "
        "python-x/config.json; keep one value (or remove it from one file)"
    ]


def test_package_json_env_vars_are_read_and_checked() -> None:
    assert package_env_vars(artifact(["A=1"]), "p.json") == (["A=1"], [])
    assert package_env_vars({"name": "x"}, "p.json") == ([], [])
    assert package_env_vars(artifact(["no equals"]), "p.json") == (
        [],
        [f"p.json: {ENV_VARS_PATH}[0]: 'no equals' is not a \"NAME=value\" string"],
    )
    assert package_env_vars(artifact("A=1"), "p.json")[1] == [
        f'p.json: {ENV_VARS_PATH}: expected a list of "NAME=value" strings'
    ]
