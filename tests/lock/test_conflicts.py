"""Two config entries in conflict, read out of uv's derivation (pure)."""

from __future__ import annotations

from tasks.lock.conflicts import Agreement, Conflict, conflict_message, find_conflict

# uv's text for the replaced builder's base variant (cudf-cu12 needs an older pyarrow), markers
# shortened; the real, longer text is exercised by tests/lock/test_strict_missing.py
CUDF = (
    "cause: Because cudf-cu12==25.6.0 depends on pyarrow{platform_machine == 'x86_64'}>=14.0.0,<20.0.0a0 and "
    "runenv-lock depends on cudf-cu12{platform_machine != 'AMD64' and sys_platform == 'linux'}==25.6.0, we can "
    "conclude that runenv-lock depends on pyarrow>=14.0.0,<20.0.0a0.\n"
    "         And because runenv-lock depends on pyarrow==21.0.0, we can conclude that your requirements are "
    "unsatisfiable."
)
CHAIN = (
    "cause: Because app==1.0 depends on mid>=2 and mid>=2 depends on base<3, we can conclude that app==1.0 "
    "depends on base<3.\n And because you require app==1.0 and you require base==3.1, we can conclude that your "
    "requirements are unsatisfiable."
)
CHAIN_ONLY = "Because app==1.0 depends on mid>=2 and mid>=2 depends on base<3 and you require base==3.1, …"


def test_the_two_top_level_entries_are_found() -> None:
    assert find_conflict(CUDF, ["six", "cudf-cu12", "pyarrow"]) == Conflict(
        "cudf-cu12", "pyarrow", ">=14.0.0,<20.0.0a0"
    )
    assert find_conflict(CHAIN, ["app", "base"]) == Conflict("app", "base", "<3"), "uv's own conclusion"
    assert find_conflict(CHAIN_ONLY, ["app", "base"]) == Conflict("app", "base", "<3", ("mid",))
    assert find_conflict("error: something else entirely", ["app"]) is None


def test_the_message_names_both_entries_the_platforms_and_what_agrees() -> None:
    sources = {
        "cudf-cu12": "packages.dependencies[13] (cudf-cu12==25.6.0)",
        "pyarrow": "packages.dependencies[22] (pyarrow==24.0.0)",
    }
    conflict = Conflict("cudf-cu12", "pyarrow", ">=14,<20")
    agree = [Agreement("pyarrow", "19.0.1", "cudf-cu12==25.6.0"), Agreement("cudf-cu12", "25.10.0", "pyarrow==24.0.0")]
    assert conflict_message("3.12.10", conflict, sources, ["linux-x64"], agree) == (
        "lock 3.12.10: packages.dependencies[13] cudf-cu12==25.6.0 needs pyarrow>=14,<20, but "
        "packages.dependencies[22] pins pyarrow==24.0.0, on linux-x64.\n"
        "  Versions that agree: pyarrow 19.0.1 with cudf-cu12==25.6.0; cudf-cu12 25.10.0 with pyarrow==24.0.0.\n"
        "  Or separate them: skip one of them there (packages.skip.<name>.linux-x64), or move one pin to "
        "packages.platformSpecific.<platform>.dependencies."
    )
