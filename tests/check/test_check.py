"""Import-check pieces on real wheels: which modules exist, and how failures are judged."""

from __future__ import annotations

import zipfile
from pathlib import Path

import pytest

from tasks.check.check import judge, snippet
from tasks.check.failures import Failure
from tasks.check.imports import wheel_modules
from tests.conftest import download_wheels

pytestmark = pytest.mark.network
SUFFIXES = [".cpython-312-x86_64-linux-gnu.so", ".abi3.so", ".so"]


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """Real wheels, and their files unpacked as an installation would lay them out."""
    wheels = download_wheels(
        tmp_path_factory.mktemp("wheels"), "markupsafe==3.0.2", "pyyaml==6.0.2", "six==1.17.0",
        "scipy==1.15.3", platform="manylinux_2_17_x86_64",
    )  # fmt: skip
    site = tmp_path_factory.mktemp("site")
    for wheel in wheels.glob("*.whl"):
        zipfile.ZipFile(wheel).extractall(site)
    return wheels, site


def test_top_level_and_real_extension_modules(installed: tuple[Path, Path]) -> None:
    wheels, site = installed
    found = {w.name.split("-")[0].lower(): wheel_modules(w, site, SUFFIXES) for w in wheels.glob("*.whl")}
    assert found["markupsafe"] == ["markupsafe", "markupsafe._speedups"]
    assert found["pyyaml"] == ["_yaml", "yaml", "yaml._yaml"]
    assert found["six"] == ["six"]
    assert "scipy.special._ufuncs" in found["scipy"]
    assert "scipy.special.libsf_error_state" not in found["scipy"], "a helper library exports no PyInit_"
    assert (site / "scipy/special/libsf_error_state.so").is_file()


FACTS = {
    "provided": ["duckdb", "six"],
    "optional": {"adbc-driver-manager": "adbc_driver_manager (extra 'adbc' of duckdb)"},
}


def test_failures_are_classified_and_only_genuine_ones_fail() -> None:
    found = {
        "numba-0.61.2-cp312-cp312-manylinux2014_x86_64.whl": [
            Failure("numba.np.ufunc.tbbpool", "ImportError: libtbb.so.12: cannot open shared object file: No such file")
        ],
        "duckdb-1.3.2-cp312-cp312-manylinux_2_27_x86_64.whl": [
            Failure("adbc_driver_duckdb", "ModuleNotFoundError: No module named 'adbc_driver_manager'")
        ],
        "cupy-13.0.0-cp312-cp312-manylinux2014_x86_64.whl": [
            Failure("cupy", "ImportError: libcuda.so.1: cannot open shared object file: No such file or directory")
        ],
        "six-1.17.0-py2.py3-none-any.whl": [Failure("six", "ModuleNotFoundError: No module named 'six.moves.x'")],
        "broken-1.0-cp312-cp312-manylinux_2_28_x86_64.whl": [Failure("broken", "ImportError: PyInit raised")],
    }
    whitelist = {"six-*.whl": {"six": "ModuleNotFoundError"}, "numpy-*.whl": {"numpy.f2py": "ImportError"}}
    verdict = judge(found, FACTS, whitelist)
    assert verdict["failures"] == [
        {
            "wheel": "broken-1.0-cp312-cp312-manylinux_2_28_x86_64.whl",
            "module": "broken",
            "error": "ImportError: PyInit raised",
        }
    ]
    assert verdict["warnings"]["system-library"] == [
        "missing system library: import numba.np.ufunc.tbbpool: ImportError: libtbb.so.12: cannot open shared object "
        "file: No such file (the system must provide libtbb.so.12)"
    ]
    assert verdict["warnings"]["optional-dependency"] == [
        "optional dependency not in the environment: import adbc_driver_duckdb: ModuleNotFoundError: No module named "
        "'adbc_driver_manager' (missing adbc_driver_manager: adbc_driver_manager (extra 'adbc' of duckdb))"
    ]
    assert [line.split(":")[0] for line in verdict["warnings"]["gpu"]] == ["needs a GPU or driver"]
    assert verdict["whitelisted"] == ["six-*.whl/six"], "a module of a provided package stays genuine"
    assert verdict["unusedWhitelist"] == ["numpy-*.whl/numpy.f2py"]
    assert snippet(verdict["failures"]) == (
        '{\n  "broken-1.0-cp312-cp312-manylinux_2_28_x86_64.whl": {\n    "broken": "ImportError"\n  }\n}'
    )
