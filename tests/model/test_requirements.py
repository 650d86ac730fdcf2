"""Dependency strings: bare VCS URLs as the seed writes them (pure)."""

from __future__ import annotations

import pytest

from tasks.model.requirements import normalise, parse, vcs_repository_name


@pytest.mark.parametrize(
    ("url", "name"),
    [
        ("git+https://github.example/alchemab/parapred-pytorch.git@e0548be", "parapred-pytorch"),
        ("git+file:///srv/git/tiny_pkg@f519b3e", "tiny_pkg"),
        ("git+ssh://git@host.example/org/repo.git", "repo"),
        ("git+https://host.example/org/mono.git@v1#egg=real-name&subdirectory=py", "real-name"),
        ("git+https://host.example/@e0548be", None),
    ],
)
def test_repository_name(url: str, name: str | None) -> None:
    assert vcs_repository_name(url) == name


def test_normalise_leaves_pep_508_alone() -> None:
    assert normalise("numpy==2.2.6") == "numpy==2.2.6"
    assert normalise("x @ git+https://host.example/org/y.git") == "x @ git+https://host.example/org/y.git"
    assert parse("git+https://host.example/org/y.git@abc").name == "y"
