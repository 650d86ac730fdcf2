"""Which resolver failures may fall back to per-platform resolution (pure)."""

from __future__ import annotations

import pytest

from tasks.lock.resolver_errors import kind_of, message


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        ("cause: Because sixx was not found in the package registry and x depends on sixx==1.0", "not-found"),
        ("cause: Because there is no version of six==9.9.9 and x depends on six==9.9.9", "no-version"),
        (
            "error: Request failed after 3 retries\n  cause: Failed to fetch: http://127.0.0.1:9/simple/six/",
            "unreachable",
        ),
        ("error: Failed to build `brokensetup==1.0`\n  cause: The build backend returned an error", "build"),
        ("lock x: uv pip compile exceeded build.timeout (900 s)", "timeout"),
        (
            "cause: Because a==1 depends on b<2 and c==1 depends on b>=2, we can conclude ... unsatisfiable",
            "no-solution",
        ),
    ],
)
def test_kinds(text: str, kind: str) -> None:
    assert kind_of(text) == kind


def test_an_unreachable_mirror_is_named_as_one() -> None:
    text = "error: Request failed\n  cause: Failed to fetch: https://mirror.example.invalid/simple/six/"
    assert message("v", text, {}, ["https://mirror.example.invalid/simple"]) == (
        "lock v: index https://mirror.example.invalid/simple/six cannot be reached (from a mirror "
        "($RUNENV_INDEX_MIRRORS)): cause: Failed to fetch: https://mirror.example.invalid/simple/six/"
    )


def test_a_misspelt_name_keeps_uvs_useful_hints_and_drops_the_misleading_ones() -> None:
    text = (
        "error: No solution found when resolving dependencies for split (markers: sys_platform == 'win32'):\n"
        "  cause: Because pandass was not found in the package registry and you require pandass==2.2.3, we can "
        "conclude that your requirements are unsatisfiable.\n"
        "  hint: The resolution failed for an environment that is not the current one, consider limiting the "
        "environments with `tool.uv.environments`.\n"
        "  hint: Pre-releases are available for `pandass` in the requested range\n"
        "  hint: The `--python-version` value (>=3.12.10) includes Python versions that are not supported\n"
    )
    assert message("v", text, {"pandass": "packages.dependencies[1] (pandass==2.2.3)"}, []) == (
        "lock v: packages.dependencies[1] (pandass==2.2.3): package 'pandass' was not found on any index; check its "
        "name\n  hint: Pre-releases are available for `pandass` in the requested range"
    )
