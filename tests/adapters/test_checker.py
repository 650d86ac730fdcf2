"""Import-check pieces: which modules a real wheel has, and how whitelists judge failures."""

from __future__ import annotations

from pathlib import Path

import pytest

from tasks.adapters.checker import judge, snippet, wheel_modules
from tests.conftest import download_wheels


@pytest.fixture(scope="module")
def wheels(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return download_wheels(
        tmp_path_factory.mktemp("wheels"),
        "markupsafe==3.0.2",
        "pyyaml==6.0.2",
        "six==1.17.0",
        platform="manylinux_2_17_x86_64",
    )


def test_top_level_and_native_modules_of_real_wheels(wheels: Path) -> None:
    found = {w.name.split("-")[0].lower(): wheel_modules(w) for w in wheels.glob("*.whl")}
    assert found == {
        "markupsafe": ["markupsafe", "markupsafe._speedups"],
        "pyyaml": ["_yaml", "yaml", "yaml._yaml"],
        "six": ["six"],
    }


def test_whitelist_accepts_expected_failures_and_reports_unused_entries() -> None:
    results = {
        "matplotlib-3.10.3-cp312-cp312-manylinux_2_17_x86_64.whl": {
            "matplotlib.backends._tkagg": "ImportError: libtk8.6.so: cannot open shared object file"
        },
        "six-1.17.0-py2.py3-none-any.whl": {"six": "ModuleNotFoundError: No module named 'six'"},
    }
    whitelist = {
        "matplotlib-*.whl": {"matplotlib.backends._tkagg": "libtk8.6.so"},
        "numpy-*.whl": {"numpy.f2py": "ImportError"},
    }
    verdict = judge(results, whitelist)
    assert verdict == {
        "failures": [
            {
                "wheel": "six-1.17.0-py2.py3-none-any.whl",
                "module": "six",
                "error": "ModuleNotFoundError: No module named 'six'",
            }
        ],
        "whitelisted": ["matplotlib-*.whl/matplotlib.backends._tkagg"],
        "unusedWhitelist": ["numpy-*.whl/numpy.f2py"],
    }
    assert snippet(verdict["failures"]) == (
        '{\n  "six-1.17.0-py2.py3-none-any.whl": {\n    "six": "ModuleNotFoundError"\n  }\n}'
    )
