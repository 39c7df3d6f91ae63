"""Where InferencePipeline comes from, imported lazily and in one place.

`inference` >= 1.7.3 takes its pipeline from `streamvision`: its `InferencePipeline` is a
subclass of streamvision's that adds `init(model_id=...)` (model loading), so both profiles run
the same decoding, buffering, pause and dispatch code. Importing is slow (0.4 s for
streamvision, seconds and a torch import for inference) and must not happen at module import
time inside Home Assistant's event loop, hence these functions rather than top-level imports.

Import order matters in the full profile: with `roboflow-workflows` installed, the first import
of streamvision or inference freezes a process-wide Workflows configuration from the
environment, and a later, different one is refused. So every import of either goes through
`inference_pipeline_class()`, which prepares the environment and imports `inference` first.
"""

from __future__ import annotations

import functools
from typing import Any

from ..errors import PipelineMissingError

INSTALL_HINT = (
    "Install the pipeline packages into Home Assistant's Python environment (see docs/embedded.md, "
    "'Embedded mode'), or run the standalone worker (`nvr-inference worker`) beside Home Assistant."
)


@functools.cache
def inference_pipeline_class() -> Any:
    """Return Roboflow's `InferencePipeline` class (blocking import; call in an executor).

    From `inference` when the full profile is installed (its class adds `init(model_id=...)`),
    else from `streamvision` (`init_with_custom_logic`, all our built-in detectors need).
    """
    if full_profile_available():
        from ..detect.roboflow import import_inference  # noqa: PLC0415

        return import_inference().InferencePipeline
    try:
        from streamvision.stream.pipeline import (  # noqa: PLC0415
            InferencePipeline,
        )
    except ImportError as err:
        raise PipelineMissingError(
            f"Roboflow's InferencePipeline is not installed ({err.name or err}). {INSTALL_HINT}"
        ) from err
    return InferencePipeline


@functools.cache
def full_profile_available() -> bool:
    """Return True when the `inference` package (Roboflow models by model_id) is importable."""
    import importlib.util  # noqa: PLC0415

    return importlib.util.find_spec("inference") is not None


def stream_operation_not_allowed_error() -> type[Exception]:
    """Return the exception pause/mute/resume raise when a source is not in a fitting state."""
    inference_pipeline_class()  # import order matters in the full profile (see module doc)
    from streamvision.camera.exceptions import (  # noqa: PLC0415
        StreamOperationNotAllowedError,
    )

    error: type[Exception] = StreamOperationNotAllowedError
    return error


def source_properties(*, width: int, height: int, fps: float, is_file: bool) -> Any:
    """Build the pipeline's `SourceProperties` for a custom frame producer."""
    inference_pipeline_class()
    from streamvision.camera.entities import SourceProperties  # noqa: PLC0415

    return SourceProperties(
        width=width,
        height=height,
        total_frames=-1,
        is_file=is_file,
        fps=fps,
        is_reconnectable=not is_file,
    )


def sequential_sink_mode() -> Any:
    """Return `SinkMode.SEQUENTIAL`: one sink call per frame, whatever the source count."""
    inference_pipeline_class()
    from streamvision.stream.pipeline import SinkMode  # noqa: PLC0415

    return SinkMode.SEQUENTIAL
