"""runenv's doit entry point: configuration and the task creators, nothing else."""

from pathlib import Path

from tasks.assemble.task import task_assemble
from tasks.base.task import task_base
from tasks.build.task import task_build, task_new_variant
from tasks.check.task import task_check
from tasks.config.task import task_config
from tasks.fetch.task import task_clear_cache, task_fetch
from tasks.lock.task import task_lock, task_upgrade
from tasks.pack.task import task_descriptor, task_pack
from tasks.plumbing.interrupts import report_interrupts_in_one_line
from tasks.plumbing.tree_lock import hold_tree_lock
from tasks.publish.task import task_catalogue, task_matrix, task_publish
from tasks.select.task import task_select
from tasks.sign.task import task_sign

hold_tree_lock(Path(__file__).resolve().parent)
report_interrupts_in_one_line()

DOIT_CONFIG = {
    "backend": "sqlite3",
    "dep_file": ".doit.db",
    "default_tasks": ["build"],
    "verbosity": 2,
    "action_string": "",
}

__all__ = [
    "DOIT_CONFIG",
    "task_assemble",
    "task_base",
    "task_build",
    "task_catalogue",
    "task_check",
    "task_clear_cache",
    "task_config",
    "task_descriptor",
    "task_fetch",
    "task_lock",
    "task_matrix",
    "task_new_variant",
    "task_pack",
    "task_publish",
    "task_select",
    "task_sign",
    "task_upgrade",
]
