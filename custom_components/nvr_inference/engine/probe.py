"""Test before configure: can these sources be read and this detector be loaded (blocking).

Used by the config flow (every step that changes sources or credentials) and the worker's
startup. Raises the engine's errors, which hosts map to what they show:
`PipelineMissingError` / `FullProfileRequiredError` (inference missing),
`SourceUnavailableError` (cannot connect), `InvalidApiKeyError` (invalid auth),
`ModelNotFoundError` (model not found), `DetectorError` (bad detector options).
"""

from __future__ import annotations

from collections.abc import Iterable

from .detectors import DetectorSpec, build_builtin
from .errors import FullProfileRequiredError, InvalidApiKeyError
from .pipeline import full_profile_available, inference_pipeline_class
from .sources import SourceConfig


def check_setup(
    sources: Iterable[SourceConfig],
    spec: DetectorSpec,
    api_key: str | None = None,
    timeout: float = 15.0,
) -> None:
    """Import the pipeline, build the detector, and read one frame of every source."""
    inference_pipeline_class()
    if spec.is_roboflow:
        check_roboflow_model(spec, api_key)
    else:
        build_builtin(spec)
    from .capture import probe_source  # noqa: PLC0415 - OpenCV, once the pipeline imported

    for source in sources:
        probe_source(source, timeout=timeout)


def check_roboflow_model(spec: DetectorSpec, api_key: str | None) -> None:
    """Look the model up with the key (downloads it into the model cache when reachable)."""
    if not full_profile_available():
        raise FullProfileRequiredError(
            "Roboflow models need the full profile (the `inference` package); see the README."
        )
    if not api_key:
        raise InvalidApiKeyError("a Roboflow model needs an API key")
    from .roboflow import import_inference, map_roboflow_error  # noqa: PLC0415

    inference = import_inference()
    try:
        inference.get_model(model_id=spec.model_id, api_key=api_key)
    except Exception as err:
        raise map_roboflow_error(err, spec.model_id) from err
