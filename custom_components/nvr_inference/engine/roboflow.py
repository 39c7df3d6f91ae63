"""Roboflow models by `model_id` (the full profile: the `inference` package).

Importing `inference` beside Home Assistant takes care:

* it must not pull in transformers/peft for models we do not run: `QWEN_3_5_ENABLED` and
  `GLM_OCR_ENABLED` must be False (without them even `from inference import InferencePipeline`
  fails), `QWEN_3_8_ENABLED=False` silences a warning; the version check is disabled and
  telemetry keeps no SQLite queue. Each is set only when the user has not set it.
  (`OFFLINE_MODE` is the user's: it must read `true`/`false`, never `1`.)
* under Home Assistant's pydantic 2.12 the telemetry settings fail to validate;
  `compat.apply_pydantic_shim()` fixes that before the pipeline class is touched.
* `inference`'s `InferencePipeline` is a subclass of streamvision's that adds
  `init(model_id=...)`; the first access starts three daemon telemetry threads.

Errors are mapped to the engine's: an unknown model (or Roboflow unreachable, which is the
same thing from here) is `ModelNotFoundError`, a refused key is `InvalidApiKeyError`.
"""

from __future__ import annotations

import functools
import os
from typing import Any

from .detectors import DetectorSpec
from .errors import (
    DetectorError,
    FullProfileRequiredError,
    InvalidApiKeyError,
    ModelNotFoundError,
)
from .messages import Detection

_IMPORT_DEFAULTS = {
    "DISABLE_VERSION_CHECK": "True",
    "QWEN_3_5_ENABLED": "False",
    "QWEN_3_8_ENABLED": "False",
    "GLM_OCR_ENABLED": "False",
    "TELEMETRY_USE_PERSISTENT_QUEUE": "False",
}


@functools.cache
def import_inference() -> Any:
    """Import the `inference` package once, with the environment it needs (blocking)."""
    for key, value in _IMPORT_DEFAULTS.items():
        os.environ.setdefault(key, value)
    try:
        import inference  # noqa: PLC0415

        from .compat import apply_pydantic_shim  # noqa: PLC0415

        apply_pydantic_shim()
    except ImportError as err:
        raise FullProfileRequiredError(
            "Roboflow models need the full profile (the `inference` package), which is not "
            f"installed here ({err}). Use a built-in detector, or see the README, 'Profiles'."
        ) from err
    return inference


def init_roboflow_pipeline(
    pipeline_cls: Any, spec: DetectorSpec, api_key: str | None, common: dict[str, Any]
) -> Any:
    """Create an InferencePipeline running the Roboflow model `spec.model_id` (blocking)."""
    if not hasattr(pipeline_cls, "init"):
        raise FullProfileRequiredError(
            "Roboflow models need the full profile (the `inference` package); this "
            "InferencePipeline comes from streamvision and has no init(model_id=...)."
        )
    if not api_key:
        raise InvalidApiKeyError("a Roboflow model needs an API key")
    try:
        return pipeline_cls.init(
            model_id=spec.model_id,
            api_key=api_key,
            confidence=spec.confidence,
            **common,
        )
    except Exception as err:
        raise map_roboflow_error(err, spec.model_id) from err


def map_roboflow_error(err: Exception, model_id: str) -> DetectorError:
    """Translate inference's exceptions into ours, by class name (no import needed)."""
    names = {cls.__name__ for cls in type(err).__mro__}
    if names & {"RoboflowAPINotAuthorizedError", "InvalidAPIKeyError"}:
        return InvalidApiKeyError("Roboflow refused the API key")
    if names & {"RoboflowAPINotNotFoundError", "RoboflowAPINotFoundError", "InvalidModelIDError"}:
        return ModelNotFoundError(f"Roboflow has no model {model_id!r}")
    if names & {"RoboflowAPIConnectionError", "RoboflowAPITimeoutError"}:
        return ModelNotFoundError(
            f"cannot reach Roboflow to load model {model_id!r} and it is not in the local "
            "model cache (offline?)"
        )
    return DetectorError(f"cannot load Roboflow model {model_id!r}: {type(err).__name__}")


def detections_from_prediction(prediction: Any) -> list[Detection]:
    """Convert a Roboflow prediction (dict with a `predictions` list) to `Detection`s."""
    if not isinstance(prediction, dict):
        return []
    return [
        Detection(
            class_name=str(item.get("class", "")),
            class_id=int(item.get("class_id", 0)),
            confidence=float(item.get("confidence", 0.0)),
            x=float(item["x"]),
            y=float(item["y"]),
            width=float(item["width"]),
            height=float(item["height"]),
            tracker_id=item.get("tracker_id"),
        )
        for item in prediction.get("predictions", ())
    ]
