"""Compatibility shim for running `inference` 1.8.3 under Home Assistant's pydantic 2.12.

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

from __future__ import annotations

from typing import Any


def apply_pydantic_shim() -> None:
    """Make `inference`'s usage-tracking config validate under pydantic 2.12 (idempotent)."""
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
