"""nvr_inference: InferencePipeline on camera streams, detections on MQTT, a pause you can trust.

Home Assistant finds its entry points here (`async_setup_entry`, ...). They live in
`integration.py` and load on first access (PEP 562): Python runs this file before any
submodule, and the standalone worker imports `custom_components.nvr_inference.engine` on
machines where Home Assistant is not installed at all.
"""

from __future__ import annotations

import importlib
from typing import Any

_ENTRY_POINTS = frozenset(
    {
        "PLATFORMS",
        "async_remove_config_entry_device",
        "async_remove_entry",
        "async_setup_entry",
        "async_unload_entry",
    }
)


def __getattr__(name: str) -> Any:
    """Load Home Assistant's entry points on first access."""
    if name in _ENTRY_POINTS:
        # By name, not `from . import integration`: the package's static imports stay free of
        # Home Assistant, so type-checking the engine for Python 3.11 never reads Home
        # Assistant's 3.12+ sources (scripts/lint).
        integration = importlib.import_module(f"{__name__}.integration")
        return getattr(integration, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
