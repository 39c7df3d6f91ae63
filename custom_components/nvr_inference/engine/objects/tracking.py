"""Tracking objects from frame to frame, per source, on the pipeline's dispatch thread.

ByteTrack (bytetrack.py: the algorithm of Roboflow's `trackers`, on Python floats) gives each
object a `tracker_id` that stays with it; the source's zones say which zones each object stands
in (bottom centre of its box, looked up in each zone's pixel mask) and its lines which tracked
objects crossed them (supervision's `LineZone` rule, line_crossing.py). `trackers` itself runs
the same algorithm at several times the cost, and supervision's own ByteTrack is gone from
supervision 0.31 (benchmarks/events_bench.py compares them).

Only frames the detector ran on are updates: a frame the motion gate held (the very same
detections as the frame before) gets the previous frame's ids and zones without a tracker
step, and each update carries the frame's capture time, so a lost track ages by the clock, not
by how many frames happened to be detected. For each tracked object seen long enough to be an
event (`min_frames`) the frame where it scored best so far is rendered once into a JPEG (boxes,
labels and zones drawn, snapshot.py) when its score improves, at most once a
second per object: the event's snapshot. It is picked here and drawn by the publisher once the
gate has admitted the frame (`TrackedFrame.draw_snapshots`), still on the pipeline's thread:
never per frame, never for a frame the fence refuses, and never on Home Assistant's event loop.

Nothing here decides what to publish: that happens inside the fence (events.py). A resume
starts everything afresh (`epoch`), so no frame captured before a resume feeds a tracker that
publishes after it; a frame that slips through the race is refused at the fence by its id.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
import math
import time
from typing import Any

from ..contract.messages import Crossing, Detection, TrackSnapshot
from ..errors import EngineError
from ..video.sources import Frame
from .boxes import corners
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
    activation_threshold: float = 0.25  # ByteTrack: a detection this good is matched first
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
    """A track's best snapshot so far, and when the tracker last matched it."""

    score: float = -math.inf  # the rendered frame's score (none rendered yet: -inf)
    rendered_at: float = -math.inf
    seen_step: int = 0  # the tracker update that last matched it
    seen_at: float = 0.0  # the tracker's clock then
    frames: int = 0  # frames it was in, held ones too (the events' `min_frames` count)


@dataclass(frozen=True, slots=True)
class TrackedFrame:
    """What tracking adds to one frame."""

    detections: tuple[Detection, ...]
    crossings: tuple[Crossing, ...] = ()
    snapshots_due: tuple[Detection, ...] = ()  # tracks whose best frame this is: to draw

    def draw_snapshots(self, image: Frame, polygons: Sequence[Any]) -> tuple[TrackSnapshot, ...]:
        """Draw and encode the due tracks' best frames (the publisher calls this, gate open)."""
        if not self.snapshots_due:
            return ()
        from .snapshot import render_snapshot  # noqa: PLC0415 - OpenCV, lazily

        return tuple(
            TrackSnapshot(
                det.tracker_id, det.confidence, render_snapshot(image, [det], polygons=polygons)
            )
            for det in self.snapshots_due
            if det.tracker_id is not None
        )


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
        """Prepare (the tracking libraries are imported on first use, on the pipeline's thread).

        `frame_rate` is the rate updates come at when no capture time is given (tests).
        """
        self.options = options
        self.zones = zones
        self._frame_rate = frame_rate
        self._epoch: int | None = None
        self._tracker: Any = None  # bytetrack.ByteTracker, made on first use
        self._lost_budget = 0.0  # seconds the tracker keeps a lost track
        self._geometry: _Geometry | None = None
        self._best: dict[int, _Best] = {}  # by tracker id, while the tracker keeps the track
        self._steps = 0  # tracker updates since the tracker was made
        self._last_input: tuple[Detection, ...] | None = None
        self._last_output: tuple[Detection, ...] = ()
        self._last_time = -math.inf  # the tracker's clock (capture time less held time)
        self._last_captured: float | None = None
        self._held_for = 0.0  # seconds of held frames, which the tracker's clock skips

    def process(
        self,
        detections: Sequence[Detection],
        image: Frame,
        epoch: int,
        captured: float | None = None,
    ) -> TrackedFrame:
        """Track `detections` of one frame; `epoch` changes at every resume (a fresh start).

        `captured` is the frame's capture time in seconds (any clock, increasing); without it,
        updates are taken to be `frame_rate` apart.
        """
        if epoch != self._epoch:
            self._epoch = epoch
            self._tracker = None
            self._geometry = None  # line crossing histories start over too
            self._best.clear()
            self._last_input = None
        found = tuple(detections)
        height, width = int(image.shape[0]), int(image.shape[1])
        geometry = self._geometry_for((width, height))
        if self._is_held(found):
            # The motion gate's answer for an unchanged picture: the very same detections. The
            # objects have not moved, so neither have their ids, zones or scores; no step. They
            # were seen all along, so the tracker's clock skips this time: a still object's
            # track is not aged out while it stands (nor, meanwhile, is a lost one).
            if captured is not None and self._last_captured is not None:
                self._held_for += max(0.0, captured - self._last_captured)
                self._last_captured = captured
            return TrackedFrame(self._last_output, snapshots_due=self._snapshots(self._last_output))
        self._last_input = found
        boxes, scores = corners(found)
        ids = self._step(boxes, scores, captured) if self.options.enabled else None
        zones_of = self._membership(geometry, boxes, found)
        out = tuple(
            _with(det, None if ids is None or ids[i] < 0 else ids[i], zones_of[i])
            for i, det in enumerate(found)
        )
        self._last_output = out
        if ids is not None:
            self._forget_lost(out)
        crossings = self._crossings(geometry, boxes, ids, out)
        return TrackedFrame(out, crossings, self._snapshots(out))

    # -- internals ------------------------------------------------------------------------------

    def _is_held(self, found: tuple[Detection, ...]) -> bool:
        """Return True for the very same detections as the last frame (empty is an update)."""
        last = self._last_input
        return (
            bool(found)
            and last is not None
            and len(last) == len(found)
            and all(a is b for a, b in zip(last, found, strict=True))
        )

    def _step(
        self, boxes: list[list[float]], scores: list[float], captured: float | None
    ) -> list[int]:
        """One tracker update; returns each box's track id (-1: not confirmed yet)."""
        if self._tracker is None:
            from .bytetrack import REFERENCE_RATE, ByteTracker  # noqa: PLC0415 - numpy, scipy

            self._lost_budget = self.options.lost_track_buffer / REFERENCE_RATE
            self._tracker = ByteTracker(
                lost_track_buffer=self.options.lost_track_buffer,
                # In the meaning supervision's ByteTrack gave them: detections scoring above
                # `activation_threshold` are matched first, tracks start from those 0.1 above
                # it, and `matching_threshold` is the largest 1 - IoU of a match.
                activation_threshold=min(1.0, self.options.activation_threshold + 0.1),
                high_confidence=self.options.activation_threshold,
                min_iou=1.0 - self.options.matching_threshold,
            )
            self._last_time = -math.inf
            self._held_for = 0.0
            self._steps = 0
        if captured is None:
            now = max(0.0, self._last_time) + 1.0 / self._frame_rate
        else:
            self._last_captured = captured
            now = captured - self._held_for
        # The tracker skips a step whose time is not after the last (a wall clock set back):
        # keep its clock increasing instead, and the step.
        now = max(now, self._last_time + 1e-6)
        self._last_time = now
        self._steps += 1
        ids: list[int] = self._tracker.update(boxes, scores, now)
        return ids

    def _forget_lost(self, out: Sequence[Detection]) -> None:
        """Drop the best frames of tracks the tracker has let go; note the others as seen.

        Without this the table kept every id ever seen until the next resume: a busy street
        all night. A track the tracker no longer matches is kept by it for its lost-track
        buffer (frames at 30 fps, by its clock), after which its id never comes back; its
        entry goes then too.
        """
        for det in out:
            best = self._best.get(det.tracker_id) if det.tracker_id is not None else None
            if best is not None:
                best.seen_step, best.seen_at = self._steps, self._last_time
        budget = self._lost_budget
        for tid in [t for t, best in self._best.items() if self._last_time - best.seen_at > budget]:
            del self._best[tid]

    def _geometry_for(self, size: tuple[int, int]) -> _Geometry:
        if self._geometry is not None and self._geometry.size == size:
            return self._geometry
        import cv2  # noqa: PLC0415
        import numpy as np  # noqa: PLC0415

        from .line_crossing import LineCounter  # noqa: PLC0415

        width, height = size
        geometry = _Geometry(size)
        for zone in self.zones.zones:
            polygon = np.array(
                [[round(x * (width - 1)), round(y * (height - 1))] for x, y in zone.points],
                dtype=np.int32,
            )
            mask = np.zeros((height, width), dtype=np.uint8)
            cv2.fillPoly(mask, [polygon], color=(1,))  # what supervision's PolygonZone fills
            geometry.zones.append((zone.name, zone.classes, mask.astype(bool)))
            geometry.polygons.append(polygon)
        for line in self.zones.lines:
            start = (line.start[0] * (width - 1), line.start[1] * (height - 1))
            end = (line.end[0] * (width - 1), line.end[1] * (height - 1))
            geometry.lines.append((line.name, line.classes, LineCounter(start, end)))
        self._geometry = geometry
        return geometry

    @staticmethod
    def _membership(
        geometry: _Geometry, boxes: list[list[float]], found: Sequence[Detection]
    ) -> list[tuple[str, ...]]:
        """Each object's zones: its box's bottom centre, looked up in each zone's mask."""
        if not geometry.zones:
            return [()] * len(found)
        width, height = geometry.size
        zones_of = []
        for det, (x1, _, x2, y2) in zip(found, boxes, strict=True):
            x, y = round((x1 + x2) / 2), round(y2)  # to the nearest pixel, half to even
            inside = 0 <= x < width and 0 <= y < height
            zones_of.append(
                tuple(
                    name
                    for name, classes, mask in geometry.zones
                    if mask[y, x] and (not classes or det.class_name in classes)
                )
                if inside
                else ()
            )
        return zones_of

    @staticmethod
    def _crossings(
        geometry: _Geometry,
        boxes: list[list[float]],
        ids: list[int] | None,
        out: Sequence[Detection],
    ) -> tuple[Crossing, ...]:
        """Line crossings of tracked objects, by the bottom centre of their boxes."""
        if not geometry.lines or ids is None:
            return ()
        anchors = [((x1 + x2) / 2, y2) for x1, _, x2, y2 in boxes]
        crossings = []
        for name, classes, counter in geometry.lines:
            crossed_in, crossed_out = counter.trigger(anchors, ids)
            for index, det in enumerate(out):
                if not (crossed_in[index] or crossed_out[index]):
                    continue
                assert det.tracker_id is not None  # unconfirmed tracks never cross
                if classes and det.class_name not in classes:
                    continue
                direction = "in" if crossed_in[index] else "out"
                crossings.append(Crossing(name, det.tracker_id, det.class_name, direction))
        return tuple(crossings)

    def _snapshots(self, tracked: Sequence[Detection]) -> tuple[Detection, ...]:
        """Return the tracks whose best frame this is (score improved): noted, drawn later.

        A track is drawn first in the frame where it could become an event (its `min_frames`-th,
        held frames counted as the events count them), not when first seen: a flicker the
        events never announce costs no JPEG, and an object seen long enough has its snapshot by
        its `new` event. After that, again when its score beats the drawn one's.
        """
        now = time.monotonic()
        min_frames = self.options.min_frames
        due = []
        for det in tracked:
            if det.tracker_id is None:
                continue
            best = self._best.get(det.tracker_id)
            if best is None:
                best = self._best[det.tracker_id] = _Best(
                    seen_step=self._steps, seen_at=self._last_time
                )
            best.frames += 1
            if best.frames < min_frames:
                continue
            if best.rendered_at == -math.inf or (
                det.confidence >= best.score + SNAPSHOT_MIN_GAIN
                and now - best.rendered_at >= SNAPSHOT_MIN_INTERVAL
            ):
                best.score, best.rendered_at = det.confidence, now
                due.append(det)
        return tuple(due)

    @property
    def polygons(self) -> list[Any]:
        """The zones' polygons in pixels, as drawn on snapshots (empty before the first frame)."""
        return self._geometry.polygons if self._geometry is not None else []


def _with(det: Detection, tracker_id: int | None, zones: tuple[str, ...]) -> Detection:
    """`det` with its id and zones (built directly: `dataclasses.replace` costs 5x as much)."""
    if tracker_id is None and not zones:
        return det
    return Detection(
        det.class_name,
        det.class_id,
        det.confidence,
        det.x,
        det.y,
        det.width,
        det.height,
        tracker_id,
        zones,
    )
