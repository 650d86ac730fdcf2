"""runenv's doit entry point: configuration and the task creators, nothing else."""

from pathlib import Path

from tasks.adapters.interrupts import report_interrupts_in_one_line
from tasks.adapters.tree_lock import hold_tree_lock
from tasks.creators.build import task_build
from tasks.creators.catalogue import task_catalogue, task_matrix, task_new_variant, task_publish
from tasks.creators.config import task_config
from tasks.creators.environment import task_assemble, task_base, task_check, task_descriptor, task_pack
from tasks.creators.fetch import task_clear_cache, task_fetch
from tasks.creators.lock import task_lock, task_upgrade
from tasks.creators.select import task_select

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
    "task_upgrade",
]
