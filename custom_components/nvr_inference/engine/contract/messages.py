"""Detection messages: the JSON published on `<base>/detections/<source_id>`.

The contract (docs/mqtt-contract.md): `source_id` (int), `frame_id`, `frame_timestamp`
(ISO 8601 with a UTC offset: the capture time), `model_id`, `image` `{width, height}`, and
`detections`, each `{class, class_id, confidence, x, y, width, height}` with the box centre
and size in pixels (Roboflow's convention), plus `tracker_id` when tracking is on.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any

import orjson


@dataclass(frozen=True, slots=True)
class Detection:
    """One object in one frame; `x`/`y` are the box centre, in pixels."""

    class_name: str
    class_id: int
    confidence: float
    x: float
    y: float
    width: float
    height: float
    tracker_id: int | None = None
    zones: tuple[str, ...] = ()  # the zones it stands in (bottom centre of its box)

    @classmethod
    def from_corners(
        cls,
        *,
        class_name: str,
        class_id: int,
        confidence: float,
        x1: float,
        y1: float,
        x2: float,
        y2: float,
        tracker_id: int | None = None,
    ) -> Detection:
        """Build from the corner form (x1, y1, x2, y2) that OpenCV and supervision use."""
        return cls(
            class_name=class_name,
            class_id=class_id,
            confidence=confidence,
            x=(x1 + x2) / 2,
            y=(y1 + y2) / 2,
            width=x2 - x1,
            height=y2 - y1,
            tracker_id=tracker_id,
        )

    def corners(self) -> tuple[float, float, float, float]:
        """Return the corner form (x1, y1, x2, y2): `from_corners`' inverse."""
        half_w, half_h = self.width / 2, self.height / 2
        return self.x - half_w, self.y - half_h, self.x + half_w, self.y + half_h

    def as_dict(self) -> dict[str, Any]:
        """Return the contract's dict (`class`, not `class_name`; rounded for the wire)."""
        out: dict[str, Any] = {
            "class": self.class_name,
            "class_id": self.class_id,
            "confidence": round(self.confidence, 4),
            "x": round(self.x, 1),
            "y": round(self.y, 1),
            "width": round(self.width, 1),
            "height": round(self.height, 1),
        }
        if self.tracker_id is not None:
            out["tracker_id"] = self.tracker_id
        if self.zones:
            out["zones"] = list(self.zones)
        return out

    def box(self) -> dict[str, float]:
        """Return the box alone, in the contract's convention (centre and size, pixels)."""
        return {
            "x": round(self.x, 1),
            "y": round(self.y, 1),
            "width": round(self.width, 1),
            "height": round(self.height, 1),
        }


@dataclass(frozen=True, slots=True)
class Crossing:
    """A tracked object crossed a line in one frame."""

    line: str
    tracker_id: int
    class_name: str
    direction: str  # "in" or "out"


@dataclass(frozen=True, slots=True)
class TrackSnapshot:
    """A tracked object's best frame so far, drawn and encoded (JPEG)."""

    tracker_id: int
    score: float
    jpeg: bytes = field(repr=False)


@dataclass(frozen=True, slots=True)
class DetectionMessage:
    """Everything published for one processed frame of one source."""

    source_id: int
    frame_id: int
    frame_timestamp: datetime
    model_id: str
    image_width: int
    image_height: int
    detections: tuple[Detection, ...] = field(default_factory=tuple)
    # A JPEG of the frame with boxes drawn, on some messages only (see snapshot.py); never
    # part of the JSON. It is kept by the host only if the message itself passed the gate.
    snapshot: bytes | None = field(default=None, compare=False, repr=False)
    # What tracking added (tracking.py): line crossings, tracks' best-frame snapshots, and the
    # tracker's epoch (a resume starts a new one). Events are built from them in the fence.
    crossings: tuple[Crossing, ...] = field(default=(), compare=False)
    track_snapshots: tuple[TrackSnapshot, ...] = field(default=(), compare=False, repr=False)
    epoch: int = 0
    # The source paused: this empty message clears what its last one said (same frame).
    paused: bool = False
    # Snapshots decided on but not drawn yet: the publisher draws them (`drawn()`) only for a
    # frame the gate still admits, so a frame refused at the fence costs no JPEG encode.
    draw: Callable[[], tuple[bytes | None, tuple[TrackSnapshot, ...]]] | None = field(
        default=None, compare=False, repr=False
    )

    def drawn(self) -> DetectionMessage:
        """Return this message with its pending snapshots drawn (itself when none are)."""
        if self.draw is None:
            return self
        snapshot, tracks = self.draw()
        return replace(
            self,
            snapshot=snapshot if snapshot is not None else self.snapshot,
            track_snapshots=self.track_snapshots + tracks,
            draw=None,
        )

    def as_dict(self) -> dict[str, Any]:
        """Return the contract's dict."""
        found = {
            "source_id": self.source_id,
            "frame_id": self.frame_id,
            "frame_timestamp": iso_timestamp(self.frame_timestamp),
            "model_id": self.model_id,
            "image": {"width": self.image_width, "height": self.image_height},
            "detections": [d.as_dict() for d in self.detections],
        }
        if self.paused:
            found["paused"] = True
        return found

    def cleared(self) -> DetectionMessage:
        """Return the message that says this one's objects are no longer current (a pause)."""
        return DetectionMessage(
            self.source_id,
            self.frame_id,
            self.frame_timestamp,
            self.model_id,
            self.image_width,
            self.image_height,
            paused=True,
        )

    def to_json(self) -> str:
        """Serialise compactly (it goes out once per frame with detections)."""
        return compact_json(self.as_dict())

    def counts(self) -> dict[str, int]:
        """Return objects per class in this frame (for count/occupancy sensors)."""
        counts: dict[str, int] = {}
        for det in self.detections:
            counts[det.class_name] = counts.get(det.class_name, 0) + 1
        return counts


_JSON_OPTIONS = orjson.OPT_NON_STR_KEYS | orjson.OPT_SERIALIZE_NUMPY


def compact_json(value: Any) -> str:
    """Serialise a message body as compact JSON (no spaces; UTF-8 text, no ASCII escapes).

    orjson (a dependency of Home Assistant's, and of the engine's for the worker) rather than
    the standard library: a detection message is encoded on the pipeline's dispatch thread for
    every frame with objects, and there it is six times cheaper. Numpy numbers (a detector's
    scores) and integer keys come out as the standard library writes them.
    """
    return orjson.dumps(value, option=_JSON_OPTIONS).decode()


def iso_timestamp(moment: datetime) -> str:
    """Return ISO 8601 with a UTC offset.

    InferencePipeline stamps frames with naive local datetimes (`datetime.now()` for streams,
    the file's mtime plus the frame offset for files), so a naive value is read as local time.
    """
    if moment.tzinfo is None:
        moment = moment.astimezone()
    return moment.astimezone(UTC).isoformat(timespec="milliseconds")


class DetectionsStoppedTracker:
    """Decides which frames become messages: every frame with detections, and one empty one.

    The contract promises one message with an empty list when a source's detections stop, so
    consumers can clear their state, and nothing more while the scene stays empty. A source's
    first frame after a start or a resume is always published, empty or not: what a consumer
    holds from before (a count, an occupancy) is then replaced by what the camera sees now,
    instead of a number from before the pause coming back as current.
    """

    __slots__ = ("_had_detections",)

    def __init__(self) -> None:
        """Know nothing of any source yet: its first frame is published."""
        self._had_detections: dict[int, bool] = {}

    def should_publish(self, message: DetectionMessage) -> bool:
        """Return True if this frame's message is to be published."""
        had = self._had_detections.get(message.source_id, True)
        has = bool(message.detections)
        self._had_detections[message.source_id] = has
        return has or had

    def reset(self, source_id: int) -> None:
        """Forget a source's last state (it paused): its next frame is published."""
        self._had_detections.pop(source_id, None)
