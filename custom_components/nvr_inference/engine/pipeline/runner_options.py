"""The knobs a host sets for every source of an engine (runner.py reads them).

Apart from the runner so that it stays about one source's threads; `runner` re-exports
`RunnerOptions` and `SNAPSHOT_INTERVAL` for the hosts.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from ..config.camera import CameraSettings
from ..objects.tracking import TrackingOptions
from ..objects.zones import SourceZones
from ..video.sources import SourceKind

LIVE_PREDICTIONS_QUEUE = 2
FILE_PREDICTIONS_QUEUE = 64

SNAPSHOT_INTERVAL = 2.0
"""Seconds between two snapshots of one source (a JPEG encode on the dispatch thread)."""


@dataclass(frozen=True, slots=True)
class RunnerOptions:
    """Knobs shared by every source of an engine."""

    max_fps: float | None = None
    api_key: str | None = None
    # Smaller than the pipeline's 64 / 512: a camera is live; a deep backlog only adds latency.
    decoding_buffer_size: int = 16
    # Frames between detection and dispatch; None: LIVE_PREDICTIONS_QUEUE for a live source
    # (when dispatch falls behind, the detector waits and the source drops its oldest frames
    # instead of seconds of detected frames queueing here), FILE_PREDICTIONS_QUEUE for a file
    # (it loses nothing by waiting, and a deeper queue lets detection and dispatch overlap).
    predictions_queue_size: int | None = None
    snapshot_interval: float | None = None  # seconds between snapshots per source; None: off
    extra_status_handlers: Sequence[Callable[[Any], None]] = ()
    tracking: TrackingOptions = field(default_factory=TrackingOptions)
    zones: Mapping[int, SourceZones] = field(default_factory=dict)
    cameras: Mapping[int, CameraSettings] = field(default_factory=dict)  # each one's own

    def predictions_queue(self, kind: SourceKind) -> int:
        """Frames between detection and dispatch for a source of this kind."""
        if self.predictions_queue_size is not None:
            return self.predictions_queue_size
        return FILE_PREDICTIONS_QUEUE if kind is SourceKind.FILE else LIVE_PREDICTIONS_QUEUE
