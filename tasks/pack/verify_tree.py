"""Nothing ships unverified: just before pack writes the archive, pydist/<platform>/ must be
exactly what assemble laid (its record, build/<platform>/tree.json). A file planted, changed
or removed since is put right by assembling again; what still differs is refused, by name."""

from __future__ import annotations

from tasks.assemble.assemble import lay_out
from tasks.errors import BuildError
from tasks.model.layout import Layout, Variant
from tasks.model.records import EnvTree
from tasks.plumbing import files
from tasks.plumbing.tree import tree_problems
from tasks.sign.sign import sign_tree, signing_asked

SHOWN = 5  # problems named in a message; the rest are counted


def recorded(layout: Layout, variant: Variant, platform: str) -> EnvTree | None:
    record = files.read_json_if_exists(layout.env_tree(variant, platform))
    return EnvTree.from_json(record) if record is not None else None


def differences(layout: Layout, variant: Variant, platform: str, hashed: bool) -> dict[str, str]:
    record = recorded(layout, variant, platform)
    if record is None:
        return {"tree.json": "no record of what assemble laid"}
    return tree_problems(layout.pydist(variant, platform), record.entries, read_files=hashed)


def listed(problems: dict[str, str]) -> str:
    shown = [f"{path}: {problem}" for path, problem in list(problems.items())[:SHOWN]]
    more = f"; and {len(problems) - SHOWN} more" if len(problems) > SHOWN else ""
    return "; ".join(shown) + more


def verify_tree(layout: Layout, variant: Variant, platform: str, hashed: bool = True) -> None:
    """Raise unless the environment tree matches assemble's record (after assembling again if
    not); without *hashed*, its entries and their kinds only (pack hashes files as it reads them)."""
    cell, root = variant.cell(platform), layout.pydist(variant, platform)
    problems = differences(layout, variant, platform, hashed)
    if not problems:
        return
    print(f"{cell}: {root} differs from what assemble laid ({listed(problems)}); assembling it again")
    lay_out(layout, variant, platform)  # the tree the check verified, laid again
    if signing_asked(layout, variant, platform):
        sign_tree(layout, variant, platform, None)  # and signed again (from the signing cache)
    still = differences(layout, variant, platform, hashed)
    if still:
        raise BuildError(
            f"{cell}: {root} still differs from what assemble laid ({listed(still)}); nothing was packed. "
            f"The base tree itself may be altered: run doit forget base:{cell} assemble:{cell}, then build again"
        )
