"""copyFiles containment at the destination: never through a link out of the environment."""

from __future__ import annotations

from pathlib import Path

import pytest

from tasks.assemble.copy_files import copy_entry
from tasks.errors import BuildError


def test_a_destination_link_out_of_the_environment_is_not_followed(tmp_path: Path) -> None:
    variant, root, outside = tmp_path / "variant", tmp_path / "env", tmp_path / "outside"
    for directory in (variant, root, outside):
        directory.mkdir()
    (variant / "payload.txt").write_text("payload\n")
    (root / "share").symlink_to(outside)
    with pytest.raises(BuildError) as caught:
        copy_entry(variant, "payload.txt", Path("share/x.txt"), root, set(), "label")
    assert str(caught.value) == f"label: {root.resolve()}/share leads outside the environment (through {outside})"
    assert list(outside.iterdir()) == []


def test_copies_replace_files_by_rename_not_in_place(tmp_path: Path) -> None:
    variant, root = tmp_path / "variant", tmp_path / "env"
    variant.mkdir()
    (root / "bin").mkdir(parents=True)
    (variant / "tool").write_text("new\n")
    shared = tmp_path / "shared-inode"
    shared.write_text("old\n")
    (root / "bin/tool").hardlink_to(shared)
    copy_entry(variant, "tool", Path("bin/tool"), root, set(), "label")
    assert (root / "bin/tool").read_text() == "new\n"
    assert shared.read_text() == "old\n", "the other link to the old file is untouched"
    assert sorted(p.name for p in (root / "bin").iterdir()) == ["tool"]
