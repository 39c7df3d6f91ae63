"""What a source's frame needs drawn, decided on the dispatch thread and drawn by the publisher.

Two kinds of picture come from one frame: the source's snapshot (the latest frame with boxes,
at most one every `snapshot_interval`, frames with detections only) and the best frames of
tracks whose score improved (picked by the tracker). Deciding is cheap and happens here; the
JPEG encode is handed to the publisher as `DetectionMessage.draw`, which runs it only once the
gate has admitted the frame, so a frame refused at the fence costs no encode. It runs inside
`deliver`, on the dispatch thread, while the pipeline's frame buffer is still ours.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
import time
from typing import Any

from ..contract.messages import Detection, TrackSnapshot
from ..objects.tracking import TrackedFrame

Draw = Callable[[], tuple[bytes | None, tuple[TrackSnapshot, ...]]]


class SnapshotPlan:
    """One source's snapshot throttle; not thread-safe (its dispatch thread alone uses it)."""

    def __init__(self, interval: float | None) -> None:
        """Throttle the source's snapshots to one per `interval` seconds (None: none at all)."""
        self._interval = interval
        self._last = float("-inf")

    def plan(
        self,
        image: Any,
        detections: tuple[Detection, ...],
        tracked: TrackedFrame | None,
        polygons: Sequence[Any],
    ) -> Draw | None:
        """Return what to draw for this frame (None: nothing is due)."""
        now = time.monotonic()
        interval = self._interval
        source_due = interval is not None and bool(detections) and now - self._last >= interval
        if not source_due and (tracked is None or not tracked.snapshots_due):
            return None
        if source_due:
            self._last = now

        def draw() -> tuple[bytes | None, tuple[TrackSnapshot, ...]]:
            from ..objects.snapshot import render_snapshot  # noqa: PLC0415 - OpenCV, lazily

            snapshot = render_snapshot(image, detections) if source_due else None
            tracks = tracked.draw_snapshots(image, polygons) if tracked is not None else ()
            return snapshot, tracks

        return draw
