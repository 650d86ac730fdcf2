"""What a lean base leaves out. Pure."""

from __future__ import annotations

from tasks.base.prune import pruned, site_packages_leftovers


def test_prune_takes_the_test_suite_idle_tk_and_static_libpython_only() -> None:
    paths = [
        "bin/idle3.12",
        "bin/python3.12",
        "lib/python3.12/test",
        "lib/python3.12/idlelib",
        "lib/python3.12/tkinter",
        "lib/python3.12/turtledemo",
        "lib/python3.12/json",
        "lib/python3.12/config-3.12-x86_64-linux-gnu/libpython3.12.a",
        "lib/python3.12/config-3.12-x86_64-linux-gnu/Makefile",
        "lib/python3.12/unittest/test",
    ]
    assert pruned(paths, "3.12", windows=False) == [
        "bin/idle3.12",
        "lib/python3.12/config-3.12-x86_64-linux-gnu/libpython3.12.a",
        "lib/python3.12/idlelib",
        "lib/python3.12/test",
        "lib/python3.12/tkinter",
        "lib/python3.12/turtledemo",
    ]
    assert pruned(["Lib/test", "Lib/json", "Lib/idlelib"], "3.12", windows=True) == ["Lib/idlelib", "Lib/test"]
    assert site_packages_leftovers(["pip", "pip-24.0.dist-info", "evil.pth", "setuptools", "README.txt"]) == [
        "README.txt", "evil.pth", "setuptools"
    ]  # fmt: skip
