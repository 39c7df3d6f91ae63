"""The one place where pipeline threads meet Home Assistant's event loop.

Pipeline threads call `deliver()` (a detection message) and `status()` (a source's state).
Both only append to a bounded buffer and, if no drain is pending, schedule one with
`call_soon_threadsafe`: however busy the cameras, the loop sees at most one wake-up per burst,
and the buffer drops the oldest messages rather than growing (counted in `dropped`).

The drain runs on the loop and publishes each message only if the gate admits it *there*:
the loop is also where pauses are handled (switch, MQTT command), so the check and the hand-off
to the MQTT client are one uninterrupted step ordered against every pause. Home Assistant's
`mqtt.async_publish` reaches paho's `publish()` before its first await; starting it as an eager
task therefore hands the message over synchronously, inside the fence.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
import threading

from homeassistant.components import mqtt
from homeassistant.core import HomeAssistant, callback
from homeassistant.exceptions import HomeAssistantError

from .const import LOGGER
from .engine.gate import PauseGate
from .engine.messages import DetectionMessage, DetectionsStoppedTracker, detections_topic
from .engine.runner import SourceStatus

MAX_PENDING = 256
"""Messages buffered between two drains; older ones are dropped first (a live view wins)."""


class LoopBridge:
    """Carry messages and statuses from pipeline threads to the loop, coalescing bursts."""

    def __init__(
        self,
        hass: HomeAssistant,
        gate: PauseGate,
        base_topic: str,
        on_status: Callable[[SourceStatus], None],
        on_published: Callable[[DetectionMessage], None],
    ) -> None:
        """Bind to a gate; `on_status`/`on_published` are called on the loop."""
        self._hass = hass
        self._loop = hass.loop
        self._gate = gate
        self._base_topic = base_topic
        self._on_status = on_status
        self._on_published = on_published
        self._tracker = DetectionsStoppedTracker()
        self._lock = threading.Lock()
        self._messages: deque[DetectionMessage] = deque()
        self._statuses: list[SourceStatus] = []
        self._scheduled = False
        self._closed = False
        self.dropped = 0  # buffer overflow (the loop fell behind)
        self.refused = 0  # refused by the gate on the loop
        self.published = 0
        self.failed = 0  # MQTT refused the publish (disconnected)
        self._failure_logged = False

    # -- pipeline threads -----------------------------------------------------------------------

    def deliver(self, message: DetectionMessage) -> None:
        """Queue a message for publishing (any thread; never blocks on the loop)."""
        with self._lock:
            if self._closed:
                return
            if len(self._messages) >= MAX_PENDING:
                self._messages.popleft()
                self.dropped += 1
            self._messages.append(message)
            if self._scheduled:
                return
            self._scheduled = True
        self._loop.call_soon_threadsafe(self._drain)

    def status(self, status: SourceStatus) -> None:
        """Queue a source status for the loop (any thread)."""
        with self._lock:
            if self._closed:
                return
            self._statuses.append(status)
            if self._scheduled:
                return
            self._scheduled = True
        self._loop.call_soon_threadsafe(self._drain)

    def close(self) -> None:
        """Stop accepting; whatever is still buffered is dropped."""
        with self._lock:
            self._closed = True
            self._messages.clear()
            self._statuses.clear()

    # -- the loop ------------------------------------------------------------------------------

    @callback
    def _drain(self) -> None:
        with self._lock:
            messages = list(self._messages)
            self._messages.clear()
            statuses, self._statuses = self._statuses, []
            self._scheduled = False
        for status in statuses:
            self._on_status(status)
        for message in messages:
            self._publish(message)

    @callback
    def _publish(self, message: DetectionMessage) -> None:
        gate = self._gate
        with gate.lock:  # uncontended here: every gate change happens on this loop
            if not gate.admits(message.source_id, message.frame_id):
                self.refused += 1
                return
            if not self._tracker.should_publish(message):
                return
            if not mqtt.is_connected(self._hass):
                self.failed += 1  # QoS 0 is never queued offline: nothing stale later
                return
            self._hass.async_create_task(
                self._async_publish(message), "nvr_inference publish", eager_start=True
            )
        self.published += 1
        self._on_published(message)

    async def _async_publish(self, message: DetectionMessage) -> None:
        try:
            await mqtt.async_publish(
                self._hass,
                detections_topic(self._base_topic, message.source_id),
                message.to_json(),
                qos=0,
                retain=False,
            )
        except HomeAssistantError as err:
            self.failed += 1
            if not self._failure_logged:
                self._failure_logged = True
                LOGGER.warning("Cannot publish detections: %s (logged once)", err)
