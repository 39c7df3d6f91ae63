"""One camera's own settings, over the worker's or the entry's: what it looks for, and how often.

A front camera looks for people and cars, a garden camera for dogs and cats; a busy street
wants a higher confidence, a quiet porch can run slower. So each source may set, beside its
zones: `classes`, `confidence`, `max_fps`, `motion_gating`, its object `masks` and `filters`
(objects/filters.py), and `required_zones` (an event is only published once its object
entered one of them; objects/events.py). What a camera leaves unset is the host's value: the
worker's flags and YAML, or the entry's options.

One grammar (`from_mapping` / `as_dict`) for the worker's YAML, the integration's stored
options and the YAML export, so all three hold the same thing. A wrong value raises
`CameraSettingsError` naming the camera and the key.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
import math
from typing import Any

from ..detect.spec import DetectorSpec, parse_detector
from ..errors import DetectorError, EngineError
from ..objects.filters import CameraFilters
from ..objects.zones import SourceZones, ZoneError, validate_zones
from .filter_text import FilterError, camera_filters, filters_as_dict

DEFAULT_MAX_FPS = 5.0
"""Frames a second each camera is analysed at unless it says otherwise (0: every frame).

Frigate's detect default: people and cars move little in a fifth of a second, so five frames
a second catch them, follow them and count them as well as thirty do, at a sixth of the CPU
(a 30 fps camera otherwise runs its detector on every frame it sends). The worker and the
integration both take it from here."""

CAMERA_KEYS = (
    "classes",
    "confidence",
    "max_fps",
    "motion_gating",
    "masks",
    "filters",
    "required_zones",
)
"""The per-camera keys a source takes beside its zones and lines."""


class CameraSettingsError(EngineError):
    """A camera's own setting is wrong; the message names the camera and the key."""


@dataclass(frozen=True, slots=True)
class CameraSettings:
    """What one camera sets for itself; None (or empty) keeps the host's value."""

    classes: frozenset[str] | None = None
    confidence: float | None = None
    max_fps: float | None = None  # 0: every frame
    motion_gating: bool | None = None
    filters: CameraFilters = field(default_factory=CameraFilters)
    required_zones: tuple[str, ...] = ()

    def __bool__(self) -> bool:
        """Return True when the camera sets anything of its own."""
        return self != CameraSettings()

    def detector_spec(self, host: DetectorSpec) -> DetectorSpec:
        """Return the host's detector with this camera's classes, confidence and gating."""
        return replace(
            host,
            classes=host.classes if self.classes is None else self.classes,
            confidence=host.confidence if self.confidence is None else self.confidence,
            motion_gating=host.motion_gating if self.motion_gating is None else self.motion_gating,
        )

    def frame_rate(self, host: float | None) -> float | None:
        """Return the rate this camera runs at: its own, else the host's (None: every frame)."""
        if self.max_fps is None:
            return host
        return self.max_fps or None

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any], where: str) -> CameraSettings:
        """Read the per-camera keys of `data` (others are ignored); `where` names the camera."""

        def fail(key: str, why: str) -> CameraSettingsError:
            return CameraSettingsError(f"{where}: {key} {why}")

        classes: frozenset[str] | None = None
        raw = data.get("classes")
        if raw is not None:
            if isinstance(raw, str):
                raw = raw.split(",")
            if not isinstance(raw, list | tuple):
                raise fail("classes", f"must be a list of class names, got {raw!r}")
            names = {str(c).strip() for c in raw} - {""}
            classes = frozenset(names) if names else None
        confidence = _number(data.get("confidence"), fail, "confidence", high=1.0)
        max_fps = _number(data.get("max_fps"), fail, "max_fps", high=1000.0)
        gating = data.get("motion_gating")
        if gating is not None and not isinstance(gating, bool):
            raise fail("motion_gating", f"must be true or false, got {gating!r}")
        required = data.get("required_zones") or ()
        if isinstance(required, str):
            required = [z for z in required.split(",") if z.strip()]
        if not isinstance(required, list | tuple):
            raise fail("required_zones", f"must be a list of zone names, got {required!r}")
        try:
            filters = camera_filters(data.get("masks"), data.get("filters"), where)
        except FilterError as err:
            raise CameraSettingsError(str(err)) from None
        return cls(
            classes=classes,
            confidence=confidence,
            max_fps=max_fps,
            motion_gating=gating,
            filters=filters,
            required_zones=tuple(str(z).strip() for z in required),
        )

    def as_dict(self) -> dict[str, Any]:
        """Return the keys this camera sets, as `from_mapping` reads them."""
        out: dict[str, Any] = {}
        if self.classes is not None:
            out["classes"] = sorted(self.classes)
        if self.confidence is not None:
            out["confidence"] = self.confidence
        if self.max_fps is not None:
            out["max_fps"] = self.max_fps
        if self.motion_gating is not None:
            out["motion_gating"] = self.motion_gating
        out.update(filters_as_dict(self.filters))
        if self.required_zones:
            out["required_zones"] = list(self.required_zones)
        return out


def _number(value: Any, fail: Any, key: str, *, high: float) -> float | None:
    if value is None:
        return None
    try:
        number = math.nan if isinstance(value, bool) else float(value)
    except (TypeError, ValueError):
        number = math.nan
    if not 0.0 <= number <= high:  # also refuses NaN
        raise fail(key, f"must be a number from 0 to {high:g}, got {value!r}")
    return number


def validate_camera(
    camera: CameraSettings, host: DetectorSpec, zones: SourceZones, where: str
) -> DetectorSpec:
    """Check a camera's settings against the detector and its zones; return its detector.

    Its classes must be ones the detector knows (as the host's are), a filter's class one it
    reports, a required zone one drawn on it, and its zones' classes among what it reports.
    """
    spec = camera.detector_spec(host)
    try:
        parse_detector(
            f"{host.name}:{host.model_id}" if host.is_roboflow else host.name,
            confidence=spec.confidence,
            classes=sorted(spec.classes),
        )
    except DetectorError as err:
        raise CameraSettingsError(f"{where}: classes: {err}") from None
    reported = spec.reported_classes
    unknown = sorted(set(camera.filters.by_class) - set(reported)) if reported else []
    if unknown:
        raise CameraSettingsError(
            f"{where}: filters: {', '.join(map(repr, unknown))} is not a class this camera "
            f"reports ({', '.join(reported)})"
        )
    names = {zone.name for zone in zones.zones}
    missing = [z for z in camera.required_zones if z not in names]
    if missing:
        drawn = ", ".join(sorted(names)) or "none"
        raise CameraSettingsError(
            f"{where}: required_zones: no zone {', '.join(map(repr, missing))} on this camera "
            f"(its zones: {drawn})"
        )
    try:
        validate_zones(zones, reported)
    except ZoneError as err:
        raise CameraSettingsError(f"{where}: {err}") from None
    return spec


def reported_union(specs: Sequence[DetectorSpec]) -> tuple[str, ...]:
    """Return every class some camera reports, sorted; empty when one reports any class."""
    classes: set[str] = set()
    for spec in specs:
        if not spec.reported_classes:
            return ()
        classes.update(spec.reported_classes)
    return tuple(sorted(classes))
