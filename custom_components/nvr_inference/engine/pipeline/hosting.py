"""Can this Python host the pipeline? Asked before anything else is asked or started.

Home Assistant 2026.3 and later run on Python 3.14, which no `streamvision` or `inference`
release allows, and Home Assistant OS and its container are Alpine (musl), for which
onnxruntime ships no wheel. There the integration cannot run its pipeline at all: the config
flow stops before its first form and an existing entry raises a repair issue, both naming the
reason and pointing to the standalone worker.

The check only *finds* the packages (importlib's finders look at the file system); it imports
nothing, so it takes milliseconds and loads no OpenCV into Home Assistant's process just to
ask. A package that is found but broken still fails later, at its import, with
`PipelineMissingError`; hosts treat that the same way.
"""

from __future__ import annotations

from dataclasses import dataclass
import importlib.util
from pathlib import Path
import platform

PIPELINE_MODULES = ("cv2",)
"""What every profile imports besides the pipeline class's own package (streamvision or
inference, see `pipeline.py`)."""
PIPELINE_CLASS_MODULES = ("streamvision", "inference")
"""Either one provides `InferencePipeline` (`inference` re-exports streamvision's)."""
MUSL_LOADER_DIR = Path("/lib")
"""Where a musl system keeps its dynamic loader (`ld-musl-<arch>.so.1`)."""


@dataclass(frozen=True, slots=True)
class HostingReport:
    """Whether the pipeline's packages are here, and the facts that say why they may not be."""

    installed: bool
    python_version: str  # e.g. "3.14.2"
    libc: str  # "glibc 2.36", "musl", or what Python could tell

    @property
    def musl(self) -> bool:
        """Return True on a musl system (Alpine: Home Assistant OS, the container)."""
        return self.libc == "musl"


def _found(name: str) -> bool:
    """Return True when `name` can be found for import (without importing it)."""
    try:
        return importlib.util.find_spec(name) is not None
    except (ImportError, ValueError):  # a parent package is missing, or a broken __spec__
        return False


def detect_libc() -> str:
    """Name the C library: `glibc <version>`, `musl`, or what `platform.libc_ver` says."""
    name, version = platform.libc_ver()
    if name == "glibc":
        return f"glibc {version}".strip()
    if name == "musl" or any(MUSL_LOADER_DIR.glob("ld-musl-*")):
        return "musl"
    return name or "an unknown C library"


def hosting_report() -> HostingReport:
    """Look for the pipeline's packages and describe this Python (blocking: file system)."""
    installed = all(_found(name) for name in PIPELINE_MODULES) and any(
        _found(name) for name in PIPELINE_CLASS_MODULES
    )
    return HostingReport(
        installed=installed, python_version=platform.python_version(), libc=detect_libc()
    )
