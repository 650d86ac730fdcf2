"""Judging the host import check: which modules to import, and what each failure means. Pure.

Failure classes (each its own line in check.json and in the summary):
- ``system-library``: a shared library the target system provides is missing here (a warning);
- ``gpu``: a GPU, its driver or CUDA is missing (a warning);
- ``optional-dependency``: a top-level module no locked package provides (a warning);
- ``conflict``: the module loads on its own but not after its package (duplicate registration
  of a module its package never imports; a warning);
- ``genuine``: anything else, a crash included: fails the check unless whitelisted.
"""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

WARNING_CLASSES = ("system-library", "gpu", "optional-dependency", "conflict")
CLASS_TITLES = {
    "system-library": "missing system library",
    "gpu": "needs a GPU or driver",
    "optional-dependency": "optional dependency not in the environment",
    "conflict": "loads alone, conflicts when imported after its package",
    "genuine": "genuine failure",
}
GPU = re.compile(
    r"libcuda\.so|libnvidia-ml|nvcuda\.dll|CUDA driver|no CUDA-capable device|NVIDIA driver|cudaError|CUDA_ERROR"
    r"|Found no NVIDIA driver",
    re.IGNORECASE,
)
MISSING_LIBRARY = re.compile(
    r"(?P<elf>[\w.+-]+\.so[\w.]*): cannot open shared object file|Library not loaded: (?P<macho>\S+)"
    r"|DLL load failed while importing \w+: (?P<pe>.+)$"
)
NOT_FOUND = re.compile(r"ModuleNotFoundError: No module named '(?P<name>[^']+)'")


@dataclass(frozen=True)
class Failure:
    module: str
    error: str
    kind: str = "genuine"
    detail: str = ""

    def line(self) -> str:
        extra = f" ({self.detail})" if self.detail else ""
        return f"{CLASS_TITLES[self.kind]}: import {self.module}: {self.error}{extra}"


def extension_name(path: str, suffixes: Iterable[str]) -> str | None:
    """The dotted module name of *path* (relative to site-packages) if it carries one of the
    target's extension suffixes, longest first (``.cpython-312-x86_64-linux-gnu.so`` before ``.so``)."""
    directory, _, filename = path.rpartition("/")
    suffix = next((s for s in sorted(suffixes, key=len, reverse=True) if filename.endswith(s)), None)
    if suffix is None:
        return None
    parts = [*(directory.split("/") if directory else []), filename[: -len(suffix)]]
    return ".".join(parts) if all(part.isidentifier() for part in parts) else None


def classify(failure: Failure, provided: set[str], optional: Mapping[str, str]) -> Failure:
    """The failure with its class and a detail a user can act on."""
    if GPU.search(failure.error):
        return Failure(failure.module, failure.error, "gpu")
    if match := MISSING_LIBRARY.search(failure.error):
        library = (match["elf"] or match["macho"] or match["pe"] or "").strip()
        return Failure(failure.module, failure.error, "system-library", f"the system must provide {library}")
    if (match := NOT_FOUND.search(failure.error)) and match["name"].split(".")[0] not in provided:
        top = match["name"].split(".")[0]
        hint = optional.get(re.sub(r"[-_.]+", "-", top).lower(), "distribution unknown")
        return Failure(failure.module, failure.error, "optional-dependency", f"missing {top}: {hint}")
    return failure


def whitelisted(whitelist: Mapping[str, Mapping[str, str]], wheel: str, failure: Failure) -> str | None:
    for pattern, modules in whitelist.items():
        expected = modules.get(failure.module)
        if fnmatch.fnmatch(wheel, pattern) and expected is not None and expected in failure.error:
            return f"{pattern}/{failure.module}"
    return None
