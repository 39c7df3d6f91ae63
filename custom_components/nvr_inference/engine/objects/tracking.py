"""Tracking objects from frame to frame, per source, on the pipeline's dispatch thread.

supervision's ByteTrack gives each object a `tracker_id` that stays with it; the source's zones
say which zones each object stands in (bottom centre of its box, `PolygonZone`) and its lines
which tracked objects crossed them (`LineZone`). For each tracked object the frame where it
scored best so far is rendered once into a JPEG (boxes, labels and zones drawn with
supervision's annotators) when its score improves, at most once a second per object: the
event's snapshot, encoded here on the pipeline's thread, never per frame and never on Home
Assistant's event loop.

Nothing here decides what to publish: that happens inside the fence (events.py). A resume
starts everything afresh (`epoch`), so no frame captured before a resume feeds a tracker that
publishes after it; a frame that slips through the race is refused at the fence by its id.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
import math
import time
from typing import Any
import warnings

from ..contract.messages import Crossing, Detection, TrackSnapshot
from ..errors import EngineError
from ..video.sources import Frame
from .boxes import to_supervision
from .zones import SourceZones

SNAPSHOT_MIN_GAIN = 0.02
"""A track's snapshot is rendered again only when its score beats the best by this much."""

SNAPSHOT_MIN_INTERVAL = 1.0
"""Seconds between two renders of one track's snapshot."""


class TrackingError(EngineError):
    """A tracking or event setting is impossible; the message says which and why."""


@dataclass(frozen=True, slots=True)
class TrackingOptions:
    """How objects are tracked and when they become events (options flow, worker flags)."""

    enabled: bool = True
    activation_threshold: float = 0.25  # ByteTrack: a detection this good may start a track
    lost_track_buffer: int = 30  # ByteTrack: frames (at 30 fps) a lost track is kept for
    matching_threshold: float = 0.8  # ByteTrack: how close a box must be to match a track
    min_frames: int = 3  # frames an object must be seen in before its `new` event
    end_after: float = 5.0  # seconds unseen before its `end` event
    update_interval: float = 1.0  # seconds between two score-only `update`s of one event
    stationary_after: float = 10.0  # seconds without moving before it counts as stationary

    def validate(self) -> TrackingOptions:
        """Raise `TrackingError` for a setting no tracker can work with; return self."""
        if not 0.0 < self.activation_threshold <= 1.0:
            raise TrackingError(
                f"the tracker's activation threshold must be above 0 and at most 1, got "
                f"{self.activation_threshold:g}"
            )
        if not 0.0 < self.matching_threshold < 1.0:
            raise TrackingError(
                "the tracker's matching threshold must be between 0 and 1 (exclusive), got "
                f"{self.matching_threshold:g}"
            )
        if not 1 <= self.lost_track_buffer <= 3000:
            raise TrackingError(
                f"the tracker's lost-track buffer must be 1 to 3000 frames, got "
                f"{self.lost_track_buffer}"
            )
        if not 1 <= self.min_frames <= 1000:
            raise TrackingError(
                f"an object must be seen in 1 to 1000 frames before it is an event, got "
                f"{self.min_frames}"
            )
        if not 0.0 < self.end_after <= 3600.0:
            raise TrackingError(
                f"an event must end 0 to 3600 seconds after the object was last seen, got "
                f"{self.end_after:g}"
            )
        if not 0.0 <= self.update_interval <= 3600.0 or self.stationary_after <= 0.0:
            raise TrackingError("update interval and stationary time must be positive")
        return self

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any]) -> TrackingOptions:
        """Build from options/YAML keys (missing ones keep their defaults); validate."""
        defaults = cls()
        unknown = sorted(set(data) - set(cls.__dataclass_fields__))
        if unknown:
            raise TrackingError(f"unknown tracking setting(s) {', '.join(unknown)}")
        values = {
            name: _coerce(name, value, getattr(defaults, name)) for name, value in data.items()
        }
        return cls(**values).validate()


def _coerce(name: str, value: Any, default: Any) -> Any:
    """Read one setting as the type of its default, or say which and what was given."""
    if isinstance(default, bool):
        if isinstance(value, bool):
            return value
        raise TrackingError(f"tracking setting {name} must be true or false, got {value!r}")
    kind = "a whole number" if isinstance(default, int) else "a number"
    try:
        number = math.nan if isinstance(value, bool) else float(value)
    except (TypeError, ValueError):
        number = math.nan
    if math.isnan(number) or (isinstance(default, int) and number != int(number)):
        raise TrackingError(f"tracking setting {name} must be {kind}, got {value!r}")
    return int(number) if isinstance(default, int) else number


@dataclass(slots=True)
class _Best:
    score: float
    rendered_at: float


@dataclass(frozen=True, slots=True)
class TrackedFrame:
    """What tracking adds to one frame."""

    detections: tuple[Detection, ...]
    crossings: tuple[Crossing, ...] = ()
    snapshots: tuple[TrackSnapshot, ...] = ()


@dataclass(slots=True)
class _Geometry:
    """Zones and lines in pixels for one frame size (rebuilt when the size changes)."""

    size: tuple[int, int]
    zones: list[tuple[str, frozenset[str], Any]] = field(default_factory=list)
    lines: list[tuple[str, frozenset[str], Any]] = field(default_factory=list)
    polygons: list[Any] = field(default_factory=list)


class SourceTracker:
    """One source's tracker, zones and lines, and its best-frame snapshots."""

    def __init__(self, options: TrackingOptions, zones: SourceZones, frame_rate: float) -> None:
        """Prepare (supervision is imported on first use, on the pipeline's thread)."""
        self.options = options
        self.zones = zones
        self._frame_rate = frame_rate
        self._epoch: int | None = None
        self._tracker: Any = None
        self._geometry: _Geometry | None = None
        self._best: dict[int, _Best] = {}

    def process(self, detections: Sequence[Detection], image: Frame, epoch: int) -> TrackedFrame:
        """Track `detections` of one frame; `epoch` changes at every resume (a fresh start)."""
        import supervision as sv  # noqa: PLC0415 - heavy, and only on pipeline threads

        if epoch != self._epoch:
            self._epoch = epoch
            self._tracker = None
            self._geometry = None  # line crossing histories start over too
            self._best.clear()
        height, width = int(image.shape[0]), int(image.shape[1])
        geometry = self._geometry_for(sv, (width, height))
        found = list(detections)
        tracker_ids: list[int | None] = [None] * len(found)
        sv_all = to_supervision(sv, found)
        if self.options.enabled and found:
            tracked = self._bytetrack(sv).update_with_detections(sv_all)
            if len(tracked):  # (an empty result carries no data at all)
                for index, tid in zip(tracked.data["index"], tracked.tracker_id, strict=True):
                    tracker_ids[int(index)] = int(tid)
        elif self.options.enabled:
            self._bytetrack(sv).update_with_detections(sv_all)  # ages lost tracks
        zones_of = self._membership(sv, geometry, sv_all, found)
        out = tuple(
            replace(det, tracker_id=tid, zones=zones)
            for det, tid, zones in zip(found, tracker_ids, zones_of, strict=True)
        )
        crossings = self._crossings(sv, geometry, out)
        snapshots = self._snapshots(sv, geometry, image, out)
        return TrackedFrame(out, crossings, snapshots)

    # -- internals ------------------------------------------------------------------------------

    def _bytetrack(self, sv: Any) -> Any:
        if self._tracker is None:
            opts = self.options
            with warnings.catch_warnings():
                # supervision 0.28-0.30 (pinned by the pipeline) says ByteTrack moves to the
                # `trackers` package in 0.31; the move is for when the pin moves (README).
                warnings.simplefilter("ignore", FutureWarning)
                self._tracker = sv.ByteTrack(
                    track_activation_threshold=opts.activation_threshold,
                    lost_track_buffer=opts.lost_track_buffer,
                    minimum_matching_threshold=opts.matching_threshold,
                    frame_rate=self._frame_rate,
                )
        return self._tracker

    def _geometry_for(self, sv: Any, size: tuple[int, int]) -> _Geometry:
        if self._geometry is not None and self._geometry.size == size:
            return self._geometry
        import numpy as np  # noqa: PLC0415

        width, height = size
        geometry = _Geometry(size)
        bottom = (sv.Position.BOTTOM_CENTER,)
        for zone in self.zones.zones:
            polygon = np.array(
                [[round(x * (width - 1)), round(y * (height - 1))] for x, y in zone.points],
                dtype=np.int64,
            )
            geometry.zones.append(
                (zone.name, zone.classes, sv.PolygonZone(polygon, triggering_anchors=bottom))
            )
            geometry.polygons.append(polygon)
        for line in self.zones.lines:
            start = sv.Point(line.start[0] * (width - 1), line.start[1] * (height - 1))
            end = sv.Point(line.end[0] * (width - 1), line.end[1] * (height - 1))
            geometry.lines.append(
                (line.name, line.classes, sv.LineZone(start, end, triggering_anchors=bottom))
            )
        self._geometry = geometry
        return geometry

    @staticmethod
    def _membership(
        sv: Any, geometry: _Geometry, sv_all: Any, found: Sequence[Detection]
    ) -> list[tuple[str, ...]]:
        zones_of: list[list[str]] = [[] for _ in found]
        if not found:
            return []
        for name, classes, polygon_zone in geometry.zones:
            inside = polygon_zone.trigger(sv_all)
            for index, hit in enumerate(inside):
                if hit and (not classes or found[index].class_name in classes):
                    zones_of[index].append(name)
        return [tuple(z) for z in zones_of]

    @staticmethod
    def _crossings(
        sv: Any, geometry: _Geometry, tracked: Sequence[Detection]
    ) -> tuple[Crossing, ...]:
        with_ids = [d for d in tracked if d.tracker_id is not None]
        if not geometry.lines or not with_ids:
            return ()
        sv_tracked = to_supervision(sv, with_ids)
        crossings = []
        for name, classes, line_zone in geometry.lines:
            crossed_in, crossed_out = line_zone.trigger(sv_tracked)
            for det, came_in, went_out in zip(with_ids, crossed_in, crossed_out, strict=True):
                if classes and det.class_name not in classes:
                    continue
                assert det.tracker_id is not None
                if came_in:
                    crossings.append(Crossing(name, det.tracker_id, det.class_name, "in"))
                if went_out:
                    crossings.append(Crossing(name, det.tracker_id, det.class_name, "out"))
        return tuple(crossings)

    def _snapshots(
        self, sv: Any, geometry: _Geometry, image: Frame, tracked: Sequence[Detection]
    ) -> tuple[TrackSnapshot, ...]:
        now = time.monotonic()
        due = []
        for det in tracked:
            if det.tracker_id is None:
                continue
            best = self._best.get(det.tracker_id)
            if best is None or (
                det.confidence >= best.score + SNAPSHOT_MIN_GAIN
                and now - best.rendered_at >= SNAPSHOT_MIN_INTERVAL
            ):
                due.append(det)
        if not due:
            return ()
        from .snapshot import render_snapshot  # noqa: PLC0415 - OpenCV, lazily

        out = []
        for det in due:
            assert det.tracker_id is not None
            jpeg = render_snapshot(image, [det], polygons=geometry.polygons)
            self._best[det.tracker_id] = _Best(det.confidence, now)
            out.append(TrackSnapshot(det.tracker_id, det.confidence, jpeg))
        return tuple(out)
