"""Tracked objects become events, and zones and lines get their counts: inside the fence.

Camera owners automate on objects, not frames: "a person entered the driveway", "the car
left". Each tracked object (tracking.py) becomes an event once it has been seen in
`min_frames` frames, so a one-frame flicker makes none:

* `new`    the object is real; `entered` lists the zones it stands in;
* `update` it entered or left a zone, or became stationary or moved again (at once), or its
  score improved or a better snapshot was taken (at most once per `update_interval`);
* `end`    it has not been seen for `end_after` seconds, or its source was paused.

Messages follow Frigate's shape (`type`, `before`, `after`), so automations port. This runs
with the gate's lock held, on the thread that publishes (Home Assistant's event loop in the
integration, the dispatch threads in the worker), for frames the gate admitted only. A pause
ends every open event of the paused sources and zeroes their zone counts *before* the pause is
acknowledged (a pause hook of the control plane); after that nothing more. A resume starts
afresh: no event continues across a pause.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import UTC, datetime, timedelta
import math
import secrets
import time
from typing import Any

from ..config.camera import CameraSettings
from ..contract.messages import Detection, DetectionMessage, compact_json, iso_timestamp
from ..contract.topics import event_snapshot_topic, events_topic, source_topic
from ..contract.transport import FENCED_QOS, Outgoing
from ..video.sources import SourceConfig
from .event_records import EventRecord, TrackedObject, event_type, event_types
from .filters import computed_score
from .tracking import TrackingOptions
from .zones import ANY_CLASS, SourceZones

SCORE_GAIN = 0.05
"""An `update` for a better score needs at least this much over the last one sent."""

STILL_FRACTION = 0.1
"""An object is still while its centre stays within this share of its box's diagonal."""


Listener = Callable[[int, str, Any], None]
"""`listener(source_id, what, value)`: what is `event` (an EventRecord), `zones` or `lines`."""


class EventEngine:
    """Every source's tracked objects, zones and lines; one per host, inside the fence."""

    def __init__(
        self,
        *,
        base_topic: str,
        sources: Mapping[int, SourceConfig],
        zones: Mapping[int, SourceZones],
        classes: Sequence[str],
        options: TrackingOptions,
        cameras: Mapping[int, CameraSettings] | None = None,
    ) -> None:
        """Prepare an empty state for every source (`cameras`: each one's own settings)."""
        self.base_topic = base_topic
        self.options = options
        self.classes: tuple[str, ...] = tuple(classes) or (ANY_CLASS,)
        self.event_types = event_types(classes)  # what the hosts' event entities list
        self._names = {sid: s.display_name for sid, s in sources.items()}
        self._zones = {sid: zones.get(sid, SourceZones()) for sid in sources}
        self._cameras = {sid: (cameras or {}).get(sid, CameraSettings()) for sid in sources}
        self._objects: dict[int, dict[int, TrackedObject]] = {sid: {} for sid in sources}
        self._epochs: dict[int, int] = dict.fromkeys(sources, 0)
        self._last_frame: dict[int, tuple[datetime, float]] = {}  # capture time, arrival
        self._zone_counts: dict[int, dict[str, dict[str, int]]] = {
            sid: self._empty_counts(sid) for sid in sources
        }
        self._line_counts: dict[int, dict[str, dict[str, int]]] = {
            sid: {line.name: {"in": 0, "out": 0} for line in self._zones[sid].lines}
            for sid in sources
        }
        self._listeners: list[Listener] = []
        # Told after the gate's lock is released (flush): a listener may read the gate.
        self._pending: deque[tuple[int, str, Any]] = deque()
        self._live = True  # False while the transport is offline: nothing counts as sent
        self.published_events = 0

    # -- what hosts read -----------------------------------------------------------------------

    def add_listener(self, listener: Listener) -> Callable[[], None]:
        """Call `listener` after each event and each zone or line change; return an unsub.

        Listeners are called by `flush()`, which the publisher calls once the gate's lock is
        released, never inside the fence: they may read the gate (entity states do).
        """
        self._listeners.append(listener)
        return lambda: self._listeners.remove(listener)

    def flush(self) -> None:
        """Tell the listeners what happened since the last flush (outside the fence)."""
        while True:
            try:
                sid, what, value = self._pending.popleft()
            except IndexError:
                return
            for listener in list(self._listeners):
                listener(sid, what, value)

    def zone_counts(self, source_id: int) -> dict[str, dict[str, int]]:
        """Objects per zone and class, as last published."""
        return self._zone_counts[source_id]

    def line_counts(self, source_id: int) -> dict[str, dict[str, int]]:
        """Crossings per line, in and out, since the host started."""
        return self._line_counts[source_id]

    def retained(self) -> list[Outgoing]:
        """Return every source's retained zone and line counts (the announce republishes them)."""
        out = []
        for sid in self._objects:
            if self._zones[sid].zones:
                out.append(self._counts_message(sid, "zones", self._zone_counts[sid]))
            if self._zones[sid].lines:
                out.append(self._counts_message(sid, "lines", self._line_counts[sid]))
        return out

    # -- inside the fence ----------------------------------------------------------------------

    def on_frame(self, message: DetectionMessage, *, live: bool = True) -> list[Outgoing]:
        """Take one admitted frame; return what to publish (events, snapshots, counts).

        With `live` False (the broker is away) objects are still followed, but no `new` or
        `update` counts as sent: a `new` goes out once the broker is back, never an `update`
        of an event nobody was told about. An `end` of an event that was told is returned
        all the same: consumers that saw `new` must see it end, so the publisher keeps it
        for the reconnect (its outbox).
        """
        self._live = live
        sid = message.source_id
        objects = self._objects[sid]
        out: list[Outgoing] = []
        now = _utc(message.frame_timestamp)
        self._last_frame[sid] = (now, time.monotonic())
        if message.epoch != self._epochs[sid]:  # a resume: tracker ids started over
            self._epochs[sid] = message.epoch
            out += self._end_all(sid, now)
        seen: set[int] = set()
        for det in message.detections:
            if det.tracker_id is None:
                continue
            seen.add(det.tracker_id)
            obj = objects.get(det.tracker_id)
            if obj is None:
                obj = objects[det.tracker_id] = self._open(det, now)
            else:
                self._observe(obj, det, now)
            obj.sighted(det.confidence, det.zones, self._zones[sid].zones, now)
        for snap in message.track_snapshots:
            tracked = objects.get(snap.tracker_id)
            if tracked is not None:
                tracked.snapshot, tracked.snapshot_fresh = snap.jpeg, True
        for tid in seen:
            out += self._maybe_send(sid, objects[tid], now)
        out += self._expire_source(sid, now)
        counts = self._line_counts[sid]
        changed_lines = False
        for crossing in message.crossings:
            if crossing.line in counts:
                counts[crossing.line][crossing.direction] += 1
                changed_lines = True
        if changed_lines:
            out.append(self._counts_message(sid, "lines", counts))
            self._notify(sid, "lines", counts)
        out += self._recount(sid)
        return out

    def end_sources(
        self, source_ids: Iterable[int], now: datetime | None = None, *, live: bool = True
    ) -> list[Outgoing]:
        """End every open event of these sources and zero their zones (a pause)."""
        self._live = live
        moment = now or datetime.now(UTC)
        out: list[Outgoing] = []
        for sid in source_ids:
            if sid in self._objects:
                out += self._end_all(sid, moment)
                out += self._recount(sid)
        return out

    def expire(self, *, live: bool = True) -> list[Outgoing]:
        """End events of sources gone quiet (no frame for `end_after`: down, or ended).

        Time runs on each source's own clock: the capture time of its last frame, plus what
        has passed since that frame arrived. (Frames are captured ahead of their processing,
        by a buffer's worth on a file, so wall-clock time would end objects still in view.)
        """
        self._live = live
        now = time.monotonic()
        out: list[Outgoing] = []
        for sid, (captured, arrived) in self._last_frame.items():
            if not self._objects[sid] or now - arrived < self.options.end_after:
                continue
            expired = self._expire_source(sid, captured + timedelta(seconds=now - arrived))
            if expired:
                out += expired
                out += self._recount(sid)
        return out

    # -- objects -------------------------------------------------------------------------------

    def _open(self, det: Detection, now: datetime) -> TrackedObject:
        stamp = f"{now.timestamp():.3f}"
        return TrackedObject(
            event_id=f"{stamp}-{secrets.token_hex(3)}",
            tracker_id=det.tracker_id or 0,
            label=det.class_name,
            class_id=det.class_id,
            score=det.confidence,
            top_score=det.confidence,
            start=now,
            last_seen=now,
            frames=1,
            seen_as=det,
            centre=(det.x, det.y),
            diagonal=math.hypot(det.width, det.height),
            still_anchor=(det.x, det.y),
            still_since=now,
        )

    def _observe(self, obj: TrackedObject, det: Detection, now: datetime) -> None:
        obj.frames += 1
        obj.score = det.confidence
        obj.top_score = max(obj.top_score, det.confidence)
        obj.last_seen = now
        obj.seen_as = det
        obj.centre = (det.x, det.y)
        obj.diagonal = math.hypot(det.width, det.height)
        moved = math.dist(obj.centre, obj.still_anchor) > STILL_FRACTION * max(obj.diagonal, 1.0)
        if moved:
            obj.still_anchor, obj.still_since, obj.stationary = obj.centre, now, False
        elif obj.still_since is not None and (
            now - obj.still_since >= timedelta(seconds=self.options.stationary_after)
        ):
            obj.stationary = True

    def _qualifies(self, sid: int, obj: TrackedObject) -> bool:
        """Return True once the object may be an event: its median score, a required zone."""
        camera = self._cameras[sid]
        if computed_score(obj.scores) < camera.filters.threshold(obj.label):
            return False
        required = camera.required_zones
        return not required or any(zone in required for zone in obj.entered_zones)

    def _maybe_send(self, sid: int, obj: TrackedObject, now: datetime) -> list[Outgoing]:
        if not self._live:
            return []
        if not obj.announced:
            if obj.frames < self.options.min_frames or not self._qualifies(sid, obj):
                return []
            obj.announced = True
            return self._send(sid, obj, "new", now)
        if obj.current_zones != obj.sent_zones or obj.stationary != obj.sent_stationary:
            return self._send(sid, obj, "update", now)
        better = obj.top_score >= obj.sent_top_score + SCORE_GAIN or obj.snapshot_fresh
        quiet = obj.last_sent is None or now - obj.last_sent >= timedelta(
            seconds=self.options.update_interval
        )
        return self._send(sid, obj, "update", now) if better and quiet else []

    def _expire_source(self, sid: int, now: datetime) -> list[Outgoing]:
        objects = self._objects[sid]
        limit = timedelta(seconds=self.options.end_after)
        gone = [tid for tid, obj in objects.items() if now - obj.last_seen >= limit]
        out: list[Outgoing] = []
        for tid in gone:
            obj = objects.pop(tid)
            if obj.announced:  # offline too: the publisher keeps an `end` for the reconnect
                out += self._send(sid, obj, "end", now, ended=True)
        return out

    def _end_all(self, sid: int, now: datetime) -> list[Outgoing]:
        objects = self._objects[sid]
        out: list[Outgoing] = []
        for obj in objects.values():
            if obj.announced:  # offline too: the publisher keeps an `end` for the reconnect
                out += self._send(sid, obj, "end", now, ended=True)
        objects.clear()
        return out

    # -- messages ------------------------------------------------------------------------------

    def _after(self, sid: int, obj: TrackedObject, ended: bool) -> dict[str, Any]:
        has_snapshot = obj.snapshot is not None
        return {
            "id": obj.event_id,
            "event_id": obj.event_id,
            "source_id": sid,
            "camera": self._names[sid],
            "tracker_id": obj.tracker_id,
            "label": obj.label,
            "class": obj.label,
            "class_id": obj.class_id,
            "score": round(obj.score, 4),
            "top_score": round(obj.top_score, 4),
            "start_time": iso_timestamp(obj.start),
            "end_time": iso_timestamp(obj.last_seen) if ended else None,
            "frame_time": iso_timestamp(obj.last_seen),
            "box": obj.seen_as.box(),
            "current_zones": [] if ended else list(obj.current_zones),
            "entered_zones": list(obj.entered_zones),
            "stationary": obj.stationary,
            "has_snapshot": has_snapshot,
            "snapshot_topic": event_snapshot_topic(self.base_topic, obj.event_id)
            if has_snapshot
            else None,
        }

    def _send(
        self, sid: int, obj: TrackedObject, kind: str, now: datetime, *, ended: bool = False
    ) -> list[Outgoing]:
        after = self._after(sid, obj, ended)
        before = obj.before if kind != "new" else after
        previous = set(obj.sent_zones) if kind != "new" else set()
        current = set(after["current_zones"])
        entered = sorted(current - previous)
        left = sorted(previous - current)
        out: list[Outgoing] = []
        snapshot = obj.snapshot if obj.snapshot_fresh else None
        if snapshot is not None:
            out.append(
                Outgoing(
                    event_snapshot_topic(self.base_topic, obj.event_id), snapshot, FENCED_QOS, False
                )
            )
            out.append(
                Outgoing(
                    source_topic(self.base_topic, sid, "event_snapshot"), snapshot, FENCED_QOS, True
                )
            )
            obj.snapshot_fresh = False
        body = {"type": kind, "before": before, "after": after, "entered": entered, "left": left}
        out.append(Outgoing(events_topic(self.base_topic), compact_json(body), FENCED_QOS, False))
        # `<class>_<kind>`; `label` and `class` (in `after`) name the class, to filter on.
        fired = event_type(obj.label if obj.label in self.classes else ANY_CLASS, kind)
        flat = {"event_type": fired, "type": kind, **after, "entered": entered, "left": left}
        event_topic = source_topic(self.base_topic, sid, "event")
        out.append(Outgoing(event_topic, compact_json(flat), FENCED_QOS, False))
        obj.before = after
        obj.last_sent = now
        obj.sent_top_score = obj.top_score
        obj.sent_zones = tuple(after["current_zones"])
        obj.sent_stationary = obj.stationary
        self.published_events += 1
        record = EventRecord(
            sid, fired, kind, {k: v for k, v in flat.items() if k != "event_type"}, snapshot
        )
        self._notify(sid, "event", record)
        return out

    # -- zones ---------------------------------------------------------------------------------

    def _empty_counts(self, sid: int) -> dict[str, dict[str, int]]:
        return {
            zone.name: dict.fromkeys(zone.counted_classes(self._reported()), 0)
            for zone in self._zones[sid].zones
        }

    def _reported(self) -> tuple[str, ...]:
        return () if self.classes == (ANY_CLASS,) else self.classes

    def _recount(self, sid: int) -> list[Outgoing]:
        """Objects per zone and class from the open events in view; publish when it changed."""
        if not self._zones[sid].zones:
            return []
        counts = self._empty_counts(sid)
        latest = self._last_frame.get(sid, (None, 0.0))[0]
        for obj in self._objects[sid].values():
            # Events in the camera's latest frame only: an object out of sight counts in no
            # zone, as in the camera's object count, though its event lasts `end_after` more.
            if not obj.announced or obj.last_seen != latest:
                continue
            for zone in obj.current_zones:
                classes = counts.get(zone)
                if classes is None:
                    continue
                key = obj.label if obj.label in classes else ANY_CLASS
                if key in classes:
                    classes[key] += 1
        if counts == self._zone_counts[sid]:
            return []
        self._zone_counts[sid] = counts
        self._notify(sid, "zones", counts)
        return [self._counts_message(sid, "zones", counts)]

    def _counts_message(self, sid: int, leaf: str, counts: Mapping[str, Any]) -> Outgoing:
        return Outgoing(
            source_topic(self.base_topic, sid, leaf), compact_json(counts), FENCED_QOS, True
        )

    def _notify(self, sid: int, what: str, value: Any) -> None:
        if self._listeners:
            self._pending.append((sid, what, value))


def _utc(moment: datetime) -> datetime:
    return (
        moment.astimezone(UTC) if moment.tzinfo is not None else moment.astimezone().astimezone(UTC)
    )
