"""Roboflow models by `model_id` (the full profile: the `inference` package).

Importing `inference` beside Home Assistant takes care:

* it must not pull in transformers/peft for models we do not run: `QWEN_3_5_ENABLED` and
  `GLM_OCR_ENABLED` must be False (without them even `from inference import InferencePipeline`
  fails), `QWEN_3_8_ENABLED=False` silences a warning; the version check is disabled and
  telemetry keeps no SQLite queue. Each is set only when the user has not set it.
  (`OFFLINE_MODE` is the user's: it must read `true`/`false`, never `1`.)
* under Home Assistant's pydantic 2.12 the telemetry settings fail to validate;
  `apply_pydantic_shim()` (below) fixes that before the pipeline class is touched.
* `inference`'s `InferencePipeline` is a subclass of streamvision's that adds
  `init(model_id=...)`; the first access starts three daemon telemetry threads.

Errors are mapped to the engine's: an unknown model (or Roboflow unreachable, which is the
same thing from here) is `ModelNotFoundError`, a refused key is `InvalidApiKeyError`.

A local model package (`local:<folder>`, see `local_model.py`) goes through the same loader
with no API key: `inference` loads a folder only when
`ALLOW_INFERENCE_MODELS_DIRECTLY_ACCESS_LOCAL_PACKAGES` is true, and refuses a path otherwise
("unsafe or ambiguous path segment"). We allow it for that load only: the variable is read once,
when `inference` is imported, into constants of the modules that use it, so `local_packages_allowed`
sets the variable and those constants for the duration of the load and puts them back. Model
loads take one lock, so a Roboflow model id is never resolved while local folders are allowed
(with the flag on, an id that happens to name a folder in the working directory would load it).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
import functools
import importlib
import os
import threading
from typing import Any

from ..contract.messages import Detection
from ..errors import (
    DetectorError,
    FullProfileRequiredError,
    InvalidApiKeyError,
    LocalModelError,
    ModelNotFoundError,
)
from .local_model import check_local_model
from .spec import DetectorSpec

_IMPORT_DEFAULTS = {
    "DISABLE_VERSION_CHECK": "True",
    "QWEN_3_5_ENABLED": "False",
    "QWEN_3_8_ENABLED": "False",
    "GLM_OCR_ENABLED": "False",
    "TELEMETRY_USE_PERSISTENT_QUEUE": "False",
}


LOCAL_PACKAGES_FLAG = "ALLOW_INFERENCE_MODELS_DIRECTLY_ACCESS_LOCAL_PACKAGES"
# The modules of inference 1.8.x that copy the flag into a constant of their own at import.
_LOCAL_FLAG_MODULES = (
    "inference.core.env",
    "inference.core.registries.roboflow",
    "inference.core.models.inference_models_adapters",
)
_model_loading = threading.Lock()


@contextmanager
def local_packages_allowed() -> Iterator[None]:
    """Let `inference` load a model package from a local folder, inside this block only."""
    import_inference()
    with _model_loading:
        modules = [importlib.import_module(name) for name in _LOCAL_FLAG_MODULES]
        if not all(hasattr(module, LOCAL_PACKAGES_FLAG) for module in modules):
            raise FullProfileRequiredError(
                "this version of `inference` does not load local model folders the way "
                "inference 1.8.3 does; install the versions in requirements/pipeline-full.txt"
            )
        saved = [getattr(module, LOCAL_PACKAGES_FLAG) for module in modules]
        saved_env = os.environ.get(LOCAL_PACKAGES_FLAG)
        os.environ[LOCAL_PACKAGES_FLAG] = "True"
        for module in modules:
            setattr(module, LOCAL_PACKAGES_FLAG, True)
        try:
            yield
        finally:
            for module, value in zip(modules, saved, strict=True):
                setattr(module, LOCAL_PACKAGES_FLAG, value)
            if saved_env is None:
                os.environ.pop(LOCAL_PACKAGES_FLAG, None)
            else:
                os.environ[LOCAL_PACKAGES_FLAG] = saved_env


@contextmanager
def _remote_model_loading() -> Iterator[None]:
    """Load a Roboflow model by id; never while local folders are allowed (see module doc)."""
    with _model_loading:
        yield


@functools.cache
def import_inference() -> Any:
    """Import the `inference` package once, with the environment it needs (blocking)."""
    for key, value in _IMPORT_DEFAULTS.items():
        os.environ.setdefault(key, value)
    try:
        import inference  # noqa: PLC0415

        apply_pydantic_shim()
    except ImportError as err:
        raise FullProfileRequiredError(
            "Roboflow models need the full profile (the `inference` package), which is not "
            f"installed here ({err}). Use a built-in detector, or see docs/embedded.md, 'Profiles'."
        ) from err
    return inference


def init_roboflow_pipeline(
    pipeline_cls: Any, spec: DetectorSpec, api_key: str | None, common: dict[str, Any]
) -> Any:
    """Create an InferencePipeline running `spec`'s model through Roboflow's loader (blocking).

    A Roboflow model id needs an API key; a local model folder needs none and is checked first.
    """
    if spec.is_local:
        check_local_model(spec.model_id)
    if not hasattr(pipeline_cls, "init"):
        raise FullProfileRequiredError(
            f"{'Local' if spec.is_local else 'Roboflow'} models need the full profile (the "
            "`inference` package); this InferencePipeline comes from streamvision and has no "
            "init(model_id=...)."
        )
    if spec.needs_api_key and not api_key:
        raise InvalidApiKeyError("a Roboflow model needs an API key")
    loading = local_packages_allowed() if spec.is_local else _remote_model_loading()
    try:
        with loading:
            return pipeline_cls.init(
                model_id=spec.model_id,
                api_key=None if spec.is_local else api_key,
                confidence=spec.confidence,
                **common,
            )
    except DetectorError:
        raise
    except Exception as err:
        if spec.is_local:
            raise map_local_error(err, spec.model_id) from err
        raise map_roboflow_error(err, spec.model_id) from err


def load_model(spec: DetectorSpec, api_key: str | None) -> Any:
    """Load `spec`'s model with `inference.get_model`, as `InferencePipeline.init` does."""
    inference = import_inference()
    loading = local_packages_allowed() if spec.is_local else _remote_model_loading()
    try:
        with loading:
            return inference.get_model(
                model_id=spec.model_id, api_key=None if spec.is_local else api_key
            )
    except DetectorError:
        raise
    except Exception as err:
        if spec.is_local:
            raise map_local_error(err, spec.model_id) from err
        raise map_roboflow_error(err, spec.model_id) from err


def map_local_error(err: Exception, folder: str) -> LocalModelError:
    """Say why the loader refused a local model package (its own message names the problem)."""
    message = " ".join(str(err).split())
    first = message.split(". ", 1)[0] if message else ""
    return LocalModelError(
        f"cannot load the model in {folder}: {type(err).__name__}" + (f": {first}" if first else "")
    )


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


def apply_pydantic_shim() -> None:
    """Make `inference`'s usage-tracking config validate under pydantic 2.12 (idempotent).

    `inference/usage_tracking/config.py` declares a model validator as `check_values(cls, inst)`;
    pydantic 2.12 reads a two-parameter validator as `(self, info)`, so `inst` receives a
    `ValidationInfo` and building the telemetry settings fails with "'ValidationInfo' object has no
    attribute 'flush_interval'". No environment variable avoids it: the settings are always built.
    The failure also hides well: `from inference import InferencePipeline` reports a misleading
    ImportError, while a plain `import inference` succeeds.

    The shim re-binds that one validator as a one-parameter function calling the original with the
    arguments it expects, so its clamping and URL handling stay. It must run before anything
    touches `inference.InferencePipeline`, `get_model` or the usage collector, and it is idempotent.
    (No `functools.wraps`: pydantic follows `__wrapped__` and would see two parameters again.)
    """
    # Importing the config module imports `inference` (and torch) but not the collector.
    from inference.usage_tracking import config  # noqa: PLC0415

    validators = config.TelemetrySettings.__pydantic_decorators__.model_validators
    validator = validators.get("check_values")
    if validator is None or getattr(validator.func, "_nvr_fixed", False):
        return
    original = validator.func

    def check_values(self: Any) -> Any:  # pydantic passes the model instance only
        return original(type(self), self)

    setattr(check_values, "_nvr_fixed", True)  # noqa: B010
    validator.func = check_values
    config.TelemetrySettings.model_rebuild(force=True)
    config.get_telemetry_settings.cache_clear()
