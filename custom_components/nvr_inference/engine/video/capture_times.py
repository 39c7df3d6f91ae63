"""When each frame of a source was captured, and how many it dropped before dispatch.

Apart from the runner (runner.py) because three of a source's threads share it: the decoding
thread notes each capture, the inference thread's fps limiter peeks at it, and the dispatch
thread takes it for the message and counts the frames that never reached it.
"""

from __future__ import annotations

from datetime import UTC, datetime
import threading
from typing import Any

CAPTURE_BACKLOG = 256
"""Capture times kept for frames not yet dispatched; the oldest goes first beyond that.

A stream's drop-oldest buffer discards frames that are never dispatched, and a paused source
dispatches none: without a bound their entries would pile up (177 bytes a frame, all night).
"""


class CaptureTimes:
    """Frame id -> the moment `grab()` returned it (decoding thread writes, the others read)."""

    def __init__(self) -> None:
        """Start empty."""
        self._at: dict[int, datetime] = {}
        self._lock = threading.Lock()
        self._last_dispatched: tuple[int, int] | None = None  # (epoch, frame id)

    def note(self, frame_id: int, moment: datetime) -> None:
        """Record the moment `grab()` returned `frame_id` (the decoding thread), aware UTC."""
        with self._lock:
            self._at[frame_id] = moment
            if len(self._at) > CAPTURE_BACKLOG:
                del self._at[next(iter(self._at))]  # ids arrive in order: the oldest

    def forget(self) -> None:
        """Drop every capture time: the source paused, none of those frames will be sent."""
        with self._lock:
            self._at.clear()

    def peek(self, frame: Any) -> float:
        """Return when this frame was captured, in seconds (the fps limiter's clock)."""
        with self._lock:
            moment = self._at.get(frame.frame_id)
        return (moment if moment is not None else frame.frame_timestamp).timestamp()

    def take(self, frame: Any) -> datetime:
        """Return when `grab()` returned this frame: the moment it was captured.

        The pipeline's own `frame_timestamp` is taken *before* `grab()` waits for the frame
        (up to a frame period early on a live source) or derived from a file's mtime; the
        status update it sends right after `grab()` returns carries the true moment. Entries
        of frames dropped on the way (a stream's drop-oldest buffer) are pruned here.
        """
        frame_id = frame.frame_id
        with self._lock:
            moment = self._at.pop(frame_id, None)
            for stale in [fid for fid in self._at if fid < frame_id]:
                del self._at[stale]  # dropped on the way (drop-oldest): never dispatched
        # Not recorded (the bound let it go, or the gate was closed when it was captured):
        # now, late but never an hour off, rather than the pipeline's naive local stamp.
        return moment if moment is not None else datetime.now(UTC)

    def dropped_before(self, epoch: int, frame_id: int) -> int:
        """Return how many frames the source dropped before this one (the dispatch thread).

        A live source numbers every frame it grabs and, when the detector and dispatch cannot
        keep up, drops the oldest (its buffer) or all but the newest (its readout): the gap
        in the numbers that reach dispatch. A gap across a resume (a new epoch) is a pause.
        """
        last = self._last_dispatched
        self._last_dispatched = (epoch, frame_id)
        if last is None or last[0] != epoch or frame_id <= last[1] + 1:
            return 0
        return frame_id - last[1] - 1
