"""The one place where pipeline threads meet Home Assistant's event loop.

Pipeline threads call `deliver()` (a detection message) and `status()` (a source's state).
Both only append to a bounded buffer and, if no drain is pending, schedule one with
`call_soon_threadsafe`: however busy the cameras, the loop sees at most one wake-up per burst,
and the buffer drops the oldest messages rather than growing (counted in `dropped`).

The drain runs on the loop and hands each message to the engine's `FencedPublisher`, which
checks the gate and publishes as one step *there*: the loop is also where every pause is handled
(switch, MQTT command), so the check and the hand-off to the MQTT client are ordered against
every pause.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
import threading

from homeassistant.core import HomeAssistant, callback

from .engine.contract.messages import DetectionMessage
from .engine.pipeline.source_status import SourceStatus

MAX_PENDING = 256
"""Messages buffered between two drains; older ones are dropped first (a live view wins)."""


class LoopBridge:
    """Carry messages and statuses from pipeline threads to the loop, coalescing bursts."""

    def __init__(
        self,
        hass: HomeAssistant,
        publish: Callable[[DetectionMessage], object],
        on_status: Callable[[SourceStatus], None],
    ) -> None:
        """`publish(message)` and `on_status(status)` are called on the loop."""
        self._loop = hass.loop
        self._publish = publish
        self._on_status = on_status
        self._lock = threading.Lock()
        self._messages: deque[DetectionMessage] = deque()
        self._statuses: list[SourceStatus] = []
        self._scheduled = False
        self._closed = False
        self.dropped = 0  # buffer overflow (the loop fell behind)

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
