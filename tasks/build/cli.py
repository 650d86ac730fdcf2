"""doit's `list` and `clean`, as a runenv user meets them (registered in pyproject.toml under
``[tool.doit.plugins.COMMAND]``).

- ``doit list`` starts with the cells: one row per variant, one column per platform, each
  ``built``, ``stale`` (built, but an input changed since) or ``unbuilt``; then doit's usual
  task listing. With task names or ``--all`` it is doit's list alone.
- ``doit info build:<cell>`` is doit's info, then the cell's state over its whole chain
  (config, lock, select … pack, check): each stage that would rerun, with doit's reason; it
  exits 0 only when the cell is built and every stage is up to date.
- ``doit clean`` prints one line per removed path (the clean actions say what they removed),
  nothing when there is nothing to remove; doit's "executing …" lines are dropped.
"""

from __future__ import annotations

import io
from typing import Any

from doit.cmd_clean import Clean
from doit.cmd_info import Info
from doit.cmd_list import List

from tasks.model.platforms import PLATFORM_KEYS

CHAIN = ("select", "fetch", "base", "assemble", "sign", "pack", "check")
SHORT = {"linux-x64": "linux-x64", "linux-aarch64": "linux-arm64", "macosx-x64": "macos-x64",
         "macosx-aarch64": "macos-arm64", "windows-x64": "win-x64"}  # fmt: skip


def chain(variant: Any, platform: str, tasks: dict[str, Any]) -> list[str]:
    """The names of the tasks a cell's build runs, in order (those defined here)."""
    names = [f"config:{variant.name}", f"lock:{variant.name}", *(f"{s}:{variant.cell(platform)}" for s in CHAIN)]
    return [name for name in names if name in tasks]


def cell_state(variant: Any, platform: str, tasks: dict[str, Any], status_of: Any) -> str:
    from tasks.plumbing.cells import LAYOUT

    if not LAYOUT.archive_record(variant, platform).is_file():
        return "unbuilt"
    return "built" if all(status_of(tasks[n]) == "up-to-date" for n in chain(variant, platform, tasks)) else "stale"


def cell_table(tasks: dict[str, Any], status_of: Any) -> list[str]:
    from tasks.plumbing.cells import variants

    found = variants()
    width = max([len("variant"), *(len(v.name) for v in found)])
    lines = ["variant".ljust(width) + "".join(f"  {SHORT[p]:<11}" for p in PLATFORM_KEYS)]
    for variant in found:
        states = [cell_state(variant, p, tasks, status_of) for p in PLATFORM_KEYS]
        lines.append(variant.name.ljust(width) + "".join(f"  {s:<11}" for s in states))
    return [line.rstrip() for line in lines] + signing_lines(found)


def signing_lines(found: Any) -> list[str]:
    """Which macOS and Windows cells are signed (build.sign or a credential variable asks)."""
    from tasks.model.signing import signable_platform
    from tasks.plumbing.cells import signed_cell

    signable = [p for p in PLATFORM_KEYS if signable_platform(p)]
    marks = {v.name: [f"{SHORT[p]} {'signed' if signed_cell(v, p) else 'unsigned'}" for p in signable] for v in found}
    if not any("unsigned" not in mark for mark_list in marks.values() for mark in mark_list):
        return [f"signing: {', '.join(SHORT[p] for p in signable)} unsigned everywhere (docs/signing.md)"]
    return [f"signing: {name}: {', '.join(mark_list)}" for name, mark_list in marks.items()]


class CellList(List):
    doc_purpose = "list the cells (variant x platform: built, stale, unbuilt) and the tasks"

    def _execute(  # doit passes the options by these names
        self,
        subtasks: bool = False,
        quiet: bool = True,
        status: bool = False,
        private: bool = False,
        list_deps: bool = False,
        template: str | None = None,
        sort: str = "name",
        pos_args: list[str] | None = None,
    ) -> Any:
        if not pos_args and not subtasks:
            tasks = {t.name: t for t in self.task_list}

            def status_of(task: Any) -> str:
                return str(self.dep_manager.get_status(task, tasks).status)

            self.outstream.write("\n".join(cell_table(tasks, status_of)) + "\n\n")
        return super()._execute(subtasks, quiet, status, private, list_deps, template, sort, pos_args)


def cell_of_build_task(task_name: str) -> tuple[Any, str] | None:
    """(variant, platform) for ``build:<variant>-<platform>``, else None."""
    from tasks.plumbing.cells import variants

    for variant in variants() if task_name.startswith("build:") else []:
        for platform in PLATFORM_KEYS:
            if task_name == f"build:{variant.cell(platform)}":
                return variant, platform
    return None


class CellInfo(Info):
    doc_purpose = "show info about a task; for build:<cell>, which of the cell's stages would rerun and why"

    def _execute(self, pos_args: list[str], hide_status: bool = False) -> Any:
        code = super()._execute(pos_args, hide_status)
        found = cell_of_build_task(pos_args[0]) if not hide_status else None
        if found is None:
            return code
        variant, platform = found
        tasks = {t.name: t for t in self.task_list}
        names = chain(variant, platform, tasks)
        statuses = {name: self.dep_manager.get_status(tasks[name], tasks, get_log=True) for name in names}
        state = cell_state(variant, platform, tasks, lambda task: statuses[task.name].status)
        self.outstream.write(f"\ncell {variant.cell(platform)}: {state}\n")
        for name, status in statuses.items() if state == "stale" else []:
            if status.status != "up-to-date":
                self.outstream.write(f"  would rerun {name}:\n{self.get_reasons(status.reasons)}\n")
        return 0 if state == "built" else 1


class DroppingExecutingLines(io.TextIOBase):
    def __init__(self, stream: Any) -> None:
        self.stream = stream

    def write(self, text: str) -> int:
        if " - executing '" not in text:
            self.stream.write(text)
        return len(text)


class QuietClean(Clean):
    doc_purpose = "remove what tasks created, one line per removed path"

    def clean_tasks(self, tasks: Any, dryrun: bool, cleanforget: bool) -> Any:
        self.outstream: Any = DroppingExecutingLines(self.outstream)
        return super().clean_tasks(tasks, dryrun, cleanforget)
