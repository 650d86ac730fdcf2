"""The one exception hierarchy of runenv.

Every message names the file (and JSON path or package) it is about and says what to do.
Task actions translate these into doit's ``TaskFailed`` in one place: ``tasks.action``.
"""

from __future__ import annotations

from collections.abc import Sequence


class RunenvError(Exception):
    """Root of every error runenv reports to a user."""

    timed_out = False  # set on the error of a command that ran over its timeout


class ConfigError(RunenvError):
    """One or more configuration problems, all reported at once."""

    def __init__(self, problems: Sequence[str]) -> None:
        self.problems = tuple(problems)
        count = len(self.problems)
        heading = "1 configuration problem" if count == 1 else f"{count} configuration problems"
        super().__init__(heading + ":\n" + "\n".join(f"  - {p}" for p in self.problems))


class LockError(RunenvError):
    """Resolution or lock selection failed. *detail* is the resolver's full text, written to the
    variant's build/lock.log when the short message leaves it out."""

    def __init__(self, message: str, detail: str = "") -> None:
        super().__init__(message)
        self.detail = detail


class FetchError(RunenvError):
    """A download failed or did not match its hash."""


class BuildError(RunenvError):
    """Assembling, checking or packing an environment failed."""


class PublishError(RunenvError):
    """Publishing to a registry failed or was refused."""
