"""Test before configure: can these sources be read and this detector be loaded (blocking).

Used by the config flow (every step that changes sources or credentials) and the worker's
startup. Raises the engine's errors, which hosts map to what they show:
`PipelineMissingError` / `FullProfileRequiredError` (inference missing),
`SourceUnavailableError` (cannot connect), `InvalidApiKeyError` (invalid auth),
`ModelNotFoundError` (model not found), `LocalModelError` (a local model folder lacks a file or
holds a bad one), `DetectorError` (bad detector options).
"""

from __future__ import annotations

from collections.abc import Iterable

from ..detect.local_model import check_local_model
from ..detect.registry import build_builtin
from ..detect.spec import DetectorSpec
from ..errors import FullProfileRequiredError, InvalidApiKeyError
from ..pipeline.loader import full_profile_available, inference_pipeline_class
from .sources import SourceConfig
from .stream_control import LIVE_KINDS


def check_setup(
    sources: Iterable[SourceConfig],
    spec: DetectorSpec,
    api_key: str | None = None,
    timeout: float = 15.0,
    *,
    probe_cameras: bool = True,
) -> None:
    """Import the pipeline, build the detector, and read one frame of every source.

    With `probe_cameras` False a live camera's reference is only checked as written: the
    worker starts with a camera that is down (after a power cut, one that boots slower than
    the worker) and its runner retries it, rather than refusing to run the others.
    """
    inference_pipeline_class()
    if spec.is_roboflow:
        check_roboflow_model(spec, api_key)
    else:
        build_builtin(spec)
    from .capture import check_reference, probe_source  # noqa: PLC0415 - OpenCV, lazily

    for source in sources:
        if not probe_cameras and source.kind in LIVE_KINDS:
            check_reference(source)
        else:
            probe_source(source, timeout=timeout)


def check_roboflow_model(spec: DetectorSpec, api_key: str | None) -> None:
    """Load the model as the pipeline will.

    A Roboflow model id is looked up with the key (and downloaded into the model cache when
    Roboflow is reachable). A local folder is checked file by file first (a missing file or a
    bad config names the file: `LocalModelError`), then loaded offline with no key.
    """
    if spec.is_local:
        check_local_model(spec.model_id)
    if not full_profile_available():
        raise FullProfileRequiredError(
            f"{'Local' if spec.is_local else 'Roboflow'} models need the full profile (the "
            "`inference` package); see docs/full-profile.md."
        )
    if spec.needs_api_key and not api_key:
        raise InvalidApiKeyError("a Roboflow model needs an API key")
    from ..detect.roboflow import (  # noqa: PLC0415
        import_inference,
        load_model,
    )

    import_inference()
    load_model(spec, api_key)
