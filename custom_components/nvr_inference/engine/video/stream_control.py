"""The `nvr-control-<id>` thread: the stream's own pause brought in line with the gate.

The gate alone decides what is published; this only stops the work of a paused source. It is
the one thread that calls `pause_stream`/`mute_stream`/`resume_stream` (they take the source's
state lock, which a reconnect can hold for seconds, so never on a caller's thread):

* a file (or looping file) is paused: its reader stops, nothing is decoded;
* a live camera (RTSP, USB) is muted at once, so a quick pause and resume keeps the
  connection; after `RELEASE_GRACE` seconds still paused its producer is parked (capture.py's
  `ParkableStream`: the connection closed, nothing grabbed or decoded, all night), and a
  resume connects afresh, so its first frame is live;
* when the source is not RUNNING (`StreamOperationNotAllowedError`, e.g. mid-reconnect) it
  says so in the status and tries again every `CONVERGE_RETRY` seconds; the gate holds.
"""

from __future__ import annotations

from collections.abc import Callable
import threading
import time
from typing import Any

from ..fence.gate import PauseGate
from ..pipeline.loader import stream_operation_not_allowed_error
from .sources import SourceKind

CONVERGE_RETRY = 0.5
"""Seconds between two tries to pause (or resume) a stream that did not follow the gate."""

RELEASE_GRACE = 5.0
"""Seconds a live camera stays connected (muted) after a pause before its stream is closed.

Short, because a muted camera still decodes every frame; not zero, so that toggling a pause
(a user trying the switch, an automation flapping) does not reconnect the camera every time.
"""

STREAM_RUNNING = "RUNNING"
STREAM_PAUSED = frozenset({"PAUSED", "MUTED"})
LIVE_KINDS = frozenset({SourceKind.STREAM, SourceKind.DEVICE})


class StreamControl:
    """One source's control thread, and what it knows of the stream."""

    def __init__(
        self,
        name: str,
        source_id: int,
        kind: SourceKind,
        gate: PauseGate,
        note: Callable[[str | None], None],
        on_paused: Callable[[], None] = lambda: None,
    ) -> None:
        """Prepare; nothing runs until `start()`.

        `note(text)` puts why the stream lags the gate in the status; `on_paused()` runs on
        this thread whenever it finds the source paused (the runner drops its capture map).
        """
        self.name = name
        self.source_id = source_id
        self.kind = kind
        self.state = "NOT_STARTED"  # the stream's state as last read from the source
        self.pipeline: Any = None
        self.parkable: Any = None  # capture.ParkableReference of a live camera
        self._gate = gate
        self._note = note
        self._on_paused = on_paused
        self._wake = threading.Event()
        self._stopping = False
        self._thread: threading.Thread | None = None
        self._muted_since: float | None = None  # monotonic: when the live stream was muted

    def start(self) -> None:
        """Start the thread (before the pipeline, so no state change is missed)."""
        self._thread = threading.Thread(target=self.run, name=f"nvr-control-{self.source_id}")
        self._thread.start()

    def stop(self) -> None:
        """Stop the thread and join it (a parked camera ends with the pipeline's terminate)."""
        self._stopping = True
        self._wake.set()
        if self._thread is not None:
            self._thread.join()
            self._thread = None

    def wake(self) -> None:
        """Ask the thread to look again (the gate or the stream changed)."""
        self._wake.set()

    def run(self) -> None:
        """Converge whenever woken, and again while the stream still lags the gate."""
        retry: float | None = None
        while True:
            self._wake.wait(retry)
            self._wake.clear()
            if self._stopping:
                return
            self.converge()
            retry = self._next_check()

    def _next_check(self) -> float | None:
        """Seconds until the next look without a wake: a retry, the grace's end, or never."""
        want_paused = not self._gate.is_open(self.source_id)
        state = self.state
        if want_paused and state == STREAM_RUNNING:
            return CONVERGE_RETRY
        if not want_paused and (state in STREAM_PAUSED or self._parked()):
            return CONVERGE_RETRY
        if want_paused and self._muted_since is not None and not self._parked():
            return max(0.0, self._muted_since + RELEASE_GRACE - time.monotonic())
        return None

    def _parked(self) -> bool:
        producer = self.parkable.current if self.parkable is not None else None
        return producer is not None and bool(producer.parked)

    def converge(self) -> None:
        """One try to bring the stream in line with the gate."""
        pipeline = self.pipeline
        if pipeline is None:
            return
        want_paused = not self._gate.is_open(self.source_id)
        state = self.state
        if want_paused:
            self._on_paused()
        try:
            if want_paused and state == STREAM_RUNNING:
                if self.kind in LIVE_KINDS:
                    pipeline.mute_stream()  # keep the connection for a while, drop frames
                    self._muted_since = time.monotonic()
                else:
                    pipeline.pause_stream()  # a file (or looping file) simply stops reading
            elif want_paused and state in STREAM_PAUSED:
                self._park_after_grace()
            elif not want_paused:
                self._muted_since = None
                producer = self.parkable.current if self.parkable is not None else None
                if producer is not None and producer.parked:
                    producer.unpark()  # the decoding thread connects again, afresh
                if state in STREAM_PAUSED:
                    pipeline.resume_stream()
            if (
                want_paused
                and state not in STREAM_PAUSED
                and state
                not in (
                    STREAM_RUNNING,
                    "ENDED",
                )
            ):
                self._note(f"stream is {state.lower()}; it is paused once it runs again")
        except stream_operation_not_allowed_error() as err:
            # The source changed state under us (a reconnect began). Not swallowed: it is in
            # the status, and we try again shortly. The gate holds meanwhile.
            self._note(f"cannot {'pause' if want_paused else 'resume'} the stream yet: {err}")

    def _park_after_grace(self) -> None:
        """Close a muted live camera once it has been paused for `RELEASE_GRACE` seconds."""
        producer = self.parkable.current if self.parkable is not None else None
        if producer is None or producer.parked:
            return
        if self._muted_since is None:  # muted by an earlier run of this thread's state
            self._muted_since = time.monotonic()
        if time.monotonic() - self._muted_since >= RELEASE_GRACE:
            producer.park()
