"""Publishing what a frame yields through the fence: one rule for both hosts.

The gate check, the "one empty message when detections stop" rule and the hand-off to the MQTT
client happen as one step under the gate's lock, the lock `pause()` takes: once a pause has
returned, nothing derived from a frame can be handed over. What a frame yields: its detection
message, and with tracking on, the events, snapshots and zone and line counts the event engine
builds from it (events.py), and for the worker (`snapshots`) the source's latest snapshot as
a JPEG for its discovered image entity. The worker calls this on the pipeline's dispatch
threads; the integration on Home Assistant's event loop (through its bridge). Everything
goes out at one QoS (`FENCED_QOS`, transport.py says why). Only the gate check and the hand-off
stand inside the lock: the detection JSON is built before it is taken. A pause (inside the
fence, before its acknowledgement) ends the source's events, makes its next frame a message
whatever it holds, and replaces its snapshot with a placeholder: what consumers hold from
before a pause is never shown as current after it.

While the client is offline nothing is queued to arrive stale later, with one exception: the
`end` of an event consumers were told about (a pause or an expiry ends it while the broker is
away) waits in a bounded outbox and goes out first at the reconnect, before the re-announced
status (`owed_locked`). When the transport is backlogged (more handed over than written),
detection messages with objects are dropped and counted; the status, events and the messages
that clear a source never are.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterable
import logging

from ..contract.messages import DetectionMessage, DetectionsStoppedTracker
from ..contract.topics import detections_topic, snapshot_topic
from ..contract.transport import FENCED_QOS, Outgoing, Transport
from ..objects.events import EventEngine
from ..pipeline.engine import Engine
from .gate import PauseGate

_LOGGER = logging.getLogger(__name__)

MAX_OWED = 256
"""`end` messages kept while the broker is away; beyond that the oldest go (counted)."""


class FencedPublisher:
    """`deliver` callback for `Engine`: check the gate and publish, as one step."""

    def __init__(
        self,
        gate: PauseGate,
        transport: Transport,
        base_topic: str = "nvr",
        on_published: Callable[[DetectionMessage], None] | None = None,
        events: EventEngine | None = None,
        *,
        snapshots: bool = False,
    ) -> None:
        """Publish under `base_topic`; `on_published(message)` follows each detection message.

        With `snapshots`, a message's snapshot (JPEG) goes out on the source's snapshot topic.
        """
        self._gate = gate
        self._snapshots = snapshots
        self._transport = transport
        self._base_topic = base_topic
        self._on_published = on_published
        self.events = events
        self._tracker = DetectionsStoppedTracker()
        self._holding: dict[int, DetectionMessage] = {}  # last published, with detections
        self.published = 0
        self.refused = 0  # refused by the gate (paused, or captured before a resume)
        self.offline = 0  # dropped because the client was not connected
        self.backlog_dropped = 0  # detections dropped because the client's backlog was full
        self.owed_dropped = 0  # `end` messages the outbox could not keep
        self._owed: deque[Outgoing] = deque()  # `end`s to deliver at the reconnect
        self.published_by_source: dict[int, int] = {}

    @classmethod
    def for_engine(
        cls,
        engine: Engine,
        transport: Transport,
        base_topic: str,
        on_published: Callable[[DetectionMessage], None] | None = None,
        *,
        snapshots: bool = False,
    ) -> FencedPublisher:
        """Build the publisher of `engine`'s frames, with an event engine when tracking is on."""
        options = engine.options
        events = (
            EventEngine(
                base_topic=base_topic,
                sources=engine.sources,
                zones=options.zones,
                classes=engine.reported_classes,
                options=options.tracking,
                cameras=options.cameras,
            )
            if options.tracking.enabled
            else None
        )
        return cls(engine.gate, transport, base_topic, on_published, events, snapshots=snapshots)

    def __call__(self, message: DetectionMessage) -> bool:
        """Publish `message` (and its events) if, and only if, the gate admits it right now."""
        sid = message.source_id
        topic = detections_topic(self._base_topic, sid)
        if message.draw is not None:
            # Drawn (JPEG-encoded) only for a frame the gate still admits, and outside the lock;
            # the check inside the lock below stays the one that counts.
            if not self._gate.is_open(sid):
                self.refused += 1
                return False
            message = message.drawn()
        # Built before the lock: inside it stand only the gate check and the hand-off.
        payload = message.to_json() if message.detections else None
        with self._gate.lock:
            if not self._gate.admits(sid, message.frame_id):
                self.refused += 1
                return False
            connected = self._transport.connected
            backlogged = connected and self._transport.backlogged
            published = False
            if self._tracker.should_publish(message):
                if not connected:
                    self.offline += 1
                elif payload is not None and backlogged:
                    self.backlog_dropped += 1  # a later frame says the same, or clears it
                else:
                    self._publish_locked(topic, payload or message.to_json())
                    published = True
                    if message.detections:
                        self._holding[sid] = message
                    else:
                        self._holding.pop(sid, None)
                    if self._snapshots and message.snapshot is not None and not backlogged:
                        self._publish_locked(
                            snapshot_topic(self._base_topic, sid), message.snapshot
                        )
                    self.published += 1
                    self.published_by_source[sid] = self.published_by_source.get(sid, 0) + 1
            if self.events is not None:
                self._send_locked(self.events.on_frame(message, live=connected))
        self.flush()
        if published and self._on_published is not None:
            self._on_published(message)
        return published

    def flush(self) -> None:
        """Tell the host what the events changed, outside the fence (entities read the gate)."""
        if self.events is not None:
            self.events.flush()

    def sources_paused(self, source_ids: frozenset[int]) -> None:
        """Pause hook, inside the fence: nothing from before the pause is left as current.

        A source whose last message had detections gets an empty one (`"paused": true`), so a
        consumer holds "nothing" while it is paused and after the resume, not the old objects;
        its events end and its zones go to zero; its next frame after the resume is published
        whatever it holds; its snapshot becomes the placeholder.
        """
        connected = self._transport.connected
        for source_id in source_ids:
            self._tracker.reset(source_id)
            holding = self._holding.pop(source_id, None)
            if holding is not None and connected:
                self._publish_locked(
                    detections_topic(self._base_topic, source_id), holding.cleared().to_json()
                )
        if self.events is not None:
            self._send_locked(self.events.end_sources(source_ids, live=connected))
        self._placeholders_locked(source_ids)

    def owed_locked(self) -> None:
        """Announce's first step, inside the fence: the `end`s the broker missed, in order."""
        if not self._transport.connected or not self._owed:
            return
        _LOGGER.info("Sending %d event messages the broker missed", len(self._owed))
        while self._owed:
            out = self._owed.popleft()
            self._transport.publish(out.topic, out.payload, qos=out.qos, retain=out.retain)

    def announce_locked(self, source_ids: Iterable[int]) -> None:
        """Announce hook, inside the fence: the retained counts, and no stale snapshot."""
        if self.events is not None:
            self._send_locked(self.events.retained())
        self._placeholders_locked(source_ids)

    def _placeholders_locked(self, source_ids: Iterable[int]) -> None:
        if not self._snapshots or not self._transport.connected:
            return
        from ..objects.snapshot import placeholder_jpeg  # noqa: PLC0415 - OpenCV, lazily

        for source_id in source_ids:
            self._publish_locked(snapshot_topic(self._base_topic, source_id), placeholder_jpeg())

    def tick(self) -> None:
        """End events whose object went unseen (a source gone quiet); call every second."""
        if self.events is None:
            return
        with self._gate.lock:
            self._send_locked(self.events.expire(live=self._transport.connected))
        self.flush()

    def _send_locked(self, messages: Iterable[Outgoing]) -> None:
        if not self._transport.connected:
            self._owe_locked(messages)
            return
        for out in messages:
            self._transport.publish(out.topic, out.payload, qos=out.qos, retain=out.retain)

    def _owe_locked(self, messages: Iterable[Outgoing]) -> None:
        """Keep the events (JSON, not retained) for the reconnect; pictures and counts wait not.

        Only `end`s reach here while offline (events.py); the retained counts are
        republished by the announce, and a picture from then is not worth a stale delivery.
        """
        for out in messages:
            if out.retain or not isinstance(out.payload, str):
                continue
            if len(self._owed) >= MAX_OWED:
                self._owed.popleft()
                self.owed_dropped += 1
            self._owed.append(out)
            _LOGGER.debug("Kept a message on %s for when the broker is back", out.topic)

    def _publish_locked(self, topic: str, payload: str | bytes) -> None:
        self._transport.publish(topic, payload, qos=FENCED_QOS, retain=False)
