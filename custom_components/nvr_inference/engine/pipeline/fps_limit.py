"""`max_fps` as a schedule: a live source's frames admitted at that rate on average.

The pipeline's own limiter admits a frame when at least `1 / max_fps` has passed since the last
one it admitted. A camera's frames come with jitter, so the frame that should be admitted often
arrives a little early, is dropped, and the next one is a whole source frame later: `max_fps`
10 on a 10 fps camera processed 6.5 fps, 5 on a 30 fps camera 4.5. Here each admitted frame
moves a due time on by exactly one period, and a frame is admitted from half a period before
its due time: jitter moves which frame is taken, never how many. A source slower than the limit
has every frame admitted; one that stalled for a whole period restarts the schedule rather than
catching up in a burst.

Decisions use capture times (when the camera's frame was grabbed), not the time the inference
thread gets to a frame, so a backlog ahead of the limiter does not bunch its decisions.
"""

from __future__ import annotations


class FrameRateLimiter:
    """Admit frames at `max_fps` on average, judged by their capture times in seconds."""

    def __init__(self, max_fps: float) -> None:
        """Prepare for a limit of `max_fps` frames a second (above 0)."""
        if not max_fps > 0:
            raise ValueError(f"max_fps must be above 0, got {max_fps!r}")
        self._period = 1.0 / max_fps
        self._due: float | None = None

    def admit(self, captured: float) -> bool:
        """Return True when the frame captured at `captured` is to be processed."""
        period = self._period
        due = self._due
        if due is None or captured - due >= period:
            self._due = captured + period  # the first frame, or a stall: a new schedule
            return True
        if captured >= due - period / 2:
            self._due = due + period
            return True
        return False
