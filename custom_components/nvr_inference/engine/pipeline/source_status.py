"""What a source is doing and how fast: the values a runner reports and hosts show.

Apart from the runner (runner.py) so that what only reads them (the retained status, the
control plane, the hosts' entities) does not import the detectors, tracking and the gate.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
import time


class SourceState(StrEnum):
    """What a source is doing, as hosts show it."""

    CONNECTING = "connecting"
    RUNNING = "running"
    RECONNECTING = "reconnecting"
    ENDED = "ended"
    ERROR = "error"
    STOPPED = "stopped"


@dataclass(frozen=True, slots=True)
class SourceStatus:
    """A source's state; hosts get a new one on every change."""

    source_id: int
    state: SourceState
    since: datetime
    error: str | None = None
    stream_paused: bool = False  # the stream itself is paused/muted (work stopped)
    stream_note: str | None = None  # why the stream could not be paused/resumed yet

    @property
    def available(self) -> bool:
        """Return True when the source delivers frames (or would, but for a pause)."""
        return self.state is SourceState.RUNNING


@dataclass(slots=True)
class SourceStats:
    """Counters and rates for one source (read from any thread; approximate by design)."""

    frames_inferred: int = 0
    frames_dropped_paused: int = 0  # frames and predictions refused by the gate early
    # frames a live source dropped, oldest first, because detection and dispatch fell behind
    frames_dropped_overload: int = 0
    inference_ms: float = 0.0  # exponential moving average of the detector's time
    _completed: deque[float] = field(default_factory=lambda: deque(maxlen=30))

    def record(self, seconds: float | None) -> None:
        """Count one inferred frame; `seconds` is the detector's time when we measured it."""
        self.frames_inferred += 1
        self._completed.append(time.monotonic())
        if seconds is not None:
            ms = seconds * 1000.0
            first = self.inference_ms == 0.0
            self.inference_ms = ms if first else 0.9 * self.inference_ms + 0.1 * ms

    @property
    def fps(self) -> float:
        """Return frames inferred per second over the last 30 frames (0 when idle for 2 s)."""
        times = self._completed
        if len(times) < 2 or time.monotonic() - times[-1] > 2.0:
            return 0.0
        return (len(times) - 1) / max(times[-1] - times[0], 1e-9)


def utc_now() -> datetime:
    """Return the current moment, in UTC (a status's `since`)."""
    return datetime.now(UTC)
