"""Publishing detections through the fence, for hosts whose publisher runs on pipeline threads.

The worker publishes from the pipeline's dispatch threads while commands arrive on paho's
network thread, so publishing and pausing must share a lock: this class holds the gate's lock
from the check to the hand-off to the MQTT client. (The Home Assistant integration instead does
both on the event loop; see its bridge module.)
"""

from __future__ import annotations

from collections.abc import Callable

from .gate import PauseGate
from .messages import DetectionMessage, DetectionsStoppedTracker, detections_topic

Publish = Callable[[str, str], object]


class FencedPublisher:
    """`deliver` callback for `Engine`: check the gate and publish, as one step."""

    def __init__(self, gate: PauseGate, publish: Publish, base_topic: str = "nvr") -> None:
        """Publish with `publish(topic, payload)` under `base_topic`."""
        self._gate = gate
        self._publish = publish
        self._base_topic = base_topic
        self._tracker = DetectionsStoppedTracker()
        self.published = 0
        self.refused = 0

    def __call__(self, message: DetectionMessage) -> None:
        """Publish `message` if, and only if, the gate admits it right now."""
        with self._gate.lock:
            if not self._gate.admits(message.source_id, message.frame_id):
                self.refused += 1
                return
            if not self._tracker.should_publish(message):
                return
            self._publish(detections_topic(self._base_topic, message.source_id), message.to_json())
            self.published += 1
