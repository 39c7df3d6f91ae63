"""Publishing detections through the fence: one rule for both hosts.

The gate check, the "one empty message when detections stop" rule and the hand-off to the MQTT
client happen as one step under the gate's lock, the lock `pause()` takes: once a pause has
returned, no detection can be handed over. The worker calls this on the pipeline's dispatch
threads; the integration on Home Assistant's event loop (through its bridge). Detections are
QoS 0 and dropped while the client is offline: nothing is queued to arrive stale later.
"""

from __future__ import annotations

from collections.abc import Callable

from .gate import PauseGate
from .messages import DetectionMessage, DetectionsStoppedTracker, detections_topic
from .transport import Transport


class FencedPublisher:
    """`deliver` callback for `Engine`: check the gate and publish, as one step."""

    def __init__(
        self,
        gate: PauseGate,
        transport: Transport,
        base_topic: str = "nvr",
        on_published: Callable[[DetectionMessage], None] | None = None,
    ) -> None:
        """Publish under `base_topic`; `on_published(message)` follows each publish."""
        self._gate = gate
        self._transport = transport
        self._base_topic = base_topic
        self._on_published = on_published
        self._tracker = DetectionsStoppedTracker()
        self.published = 0
        self.refused = 0  # refused by the gate (paused, or captured before a resume)
        self.offline = 0  # dropped because the client was not connected
        self.published_by_source: dict[int, int] = {}

    def __call__(self, message: DetectionMessage) -> bool:
        """Publish `message` if, and only if, the gate admits it right now."""
        with self._gate.lock:
            if not self._gate.admits(message.source_id, message.frame_id):
                self.refused += 1
                return False
            if not self._tracker.should_publish(message):
                return False
            if not self._transport.connected:
                self.offline += 1
                return False
            self._transport.publish(
                detections_topic(self._base_topic, message.source_id),
                message.to_json(),
                qos=0,
                retain=False,
            )
            self.published += 1
            sid = message.source_id
            self.published_by_source[sid] = self.published_by_source.get(sid, 0) + 1
        if self._on_published is not None:
            self._on_published(message)
        return True
