"""Build a built-in detector from its spec: the registry of names to factories.

As in Frigate's `detectors/plugins/`, each built-in is one module of this package with a
`create(spec) -> Detector` factory, registered by name in `spec.BUILTINS`. The module is
imported by name only when its detector is built, so importing this module (Home Assistant's
config flow does, where the pipeline packages may be missing) never loads OpenCV, a model file
or the TFLite runtime, and no module here imports another detector.
"""

from __future__ import annotations

from collections.abc import Callable
import importlib
from typing import cast

from ..errors import DetectorError
from .spec import BUILTINS, Detector, DetectorSpec

Factory = Callable[[DetectorSpec], Detector]


def factory(name: str) -> Factory:
    """Return the `create` function of built-in `name` (importing its module now)."""
    try:
        builtin = BUILTINS[name]
    except KeyError:
        raise DetectorError(f"{name!r} is not a built-in detector") from None
    module = importlib.import_module(f"{__package__}.{builtin.module}")
    return cast(Factory, module.create)


def build_builtin(spec: DetectorSpec) -> Detector:
    """Create a fresh built-in detector (each source gets its own: MOG2 and the gate keep state).

    A heavy one comes wrapped in the motion gate unless `spec.motion_gating` is off.
    """
    detector = factory(spec.name)(spec)
    if not spec.gated:
        return detector
    # OpenCV only when a detector is built: Home Assistant's config flow imports this module
    # where the pipeline packages may be missing (and says so instead of failing).
    from .gating import GatingOptions, MotionGatedDetector  # noqa: PLC0415

    return MotionGatedDetector(
        detector, GatingOptions(full_frame_interval=spec.full_frame_interval)
    )
