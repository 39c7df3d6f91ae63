"""Opening sources with OpenCV: the probe, and a file that behaves like a camera."""

from __future__ import annotations

import os
import threading
import time
from typing import Any

import cv2
import numpy as np

from ..errors import SourceUnavailableError
from .sources import Frame, SourceConfig, SourceKind


def probe_source(config: SourceConfig, timeout: float = 10.0) -> tuple[int, int, float]:
    """Open the source, read one frame, and return (width, height, fps). Blocking.

    Run it in an executor. OpenCV's open of a dead RTSP URL can block for a long time, so the
    open happens on a helper thread and we stop waiting after `timeout`.
    """
    if config.kind in (SourceKind.FILE, SourceKind.LOOP) and not os.path.isfile(
        str(config.reference)
    ):
        raise SourceUnavailableError(
            f"{config.display_name}: file not found: {config.safe_reference}"
        )
    result: dict[str, Any] = {}

    def _open() -> None:
        capture = cv2.VideoCapture(config.capture_reference())
        try:
            ok, frame = capture.read() if capture.isOpened() else (False, None)
            result["ok"] = bool(ok)
            if ok and frame is not None:
                fps = capture.get(cv2.CAP_PROP_FPS) or 0.0
                result["shape"] = (frame.shape[1], frame.shape[0], float(fps))
        finally:
            capture.release()

    worker = threading.Thread(target=_open, name=f"nvr-probe-{config.source_id}", daemon=True)
    worker.start()
    worker.join(timeout)
    if worker.is_alive():
        raise SourceUnavailableError(
            f"{config.display_name}: no answer from {config.safe_reference} within {timeout:g} s"
        )
    if not result.get("ok"):
        raise SourceUnavailableError(
            f"{config.display_name}: cannot read video from {config.safe_reference}"
        )
    width, height, fps = result["shape"]
    return int(width), int(height), fps


class LoopingFileProducer:
    """A video file replayed forever at its declared frame rate: a camera made of a file.

    InferencePipeline accepts a callable returning a `VideoFrameProducer` as a video
    reference; this is one. It reports itself as a live stream (`is_file=False`), so the
    pipeline applies its stream buffering (drop oldest, newest frame first) exactly as it
    would for an RTSP camera, and `grab()` paces frames in real time from a monotonic
    schedule (no drift, no catch-up burst after a pause). The pipeline calls `interrupt()`
    when it terminates the source, so a stop never waits out the pacing (a frame period).
    """

    def __init__(self, path: str, fps: float | None = None) -> None:
        """Open `path`; pace at `fps` or the file's own rate."""
        self._path = path
        self._capture = cv2.VideoCapture(path)
        declared = self._capture.get(cv2.CAP_PROP_FPS) if self._capture.isOpened() else 0.0
        self._fps = float(fps or declared or 25.0)
        self._period = 1.0 / self._fps
        self._next_due: float | None = None
        self._interrupted = threading.Event()

    def isOpened(self) -> bool:
        """Report whether the file is open."""
        return bool(self._capture.isOpened())

    def grab(self) -> bool:
        """Wait for the next frame's due time, then grab it, rewinding at the end.

        False once interrupted: the stream ends there, as a camera's does when it is closed.
        """
        now = time.monotonic()
        if self._next_due is None or now - self._next_due > 1.0:
            self._next_due = now  # first frame, or resumed after a pause: restart the clock
        elif self._next_due > now:
            self._interrupted.wait(self._next_due - now)  # the camera's shutter: real time
        if self._interrupted.is_set():
            return False
        self._next_due += self._period
        if self._capture.grab():
            return True
        self._capture.set(cv2.CAP_PROP_POS_FRAMES, 0)
        return bool(self._capture.grab())

    def retrieve(self) -> tuple[bool, Frame]:
        """Decode the grabbed frame."""
        ok, frame = self._capture.retrieve()
        return bool(ok), np.asarray(frame, dtype=np.uint8)

    def interrupt(self) -> None:
        """End the stream now, even mid-wait (InferencePipeline calls it on terminate)."""
        self._interrupted.set()

    def release(self) -> None:
        """Close the file."""
        self._capture.release()

    def initialize_source_properties(self, properties: dict[str, float | str]) -> None:
        """Ignore capture properties: a file has none to set."""

    def connection_error_message(self) -> str:
        """Explain a failed open."""
        return f"cannot open video file {self._path}"

    def discover_source_properties(self) -> Any:
        """Describe the source to the pipeline as a live stream."""
        from .pipeline import source_properties  # noqa: PLC0415 - pipeline import is lazy

        return source_properties(
            width=int(self._capture.get(cv2.CAP_PROP_FRAME_WIDTH)),
            height=int(self._capture.get(cv2.CAP_PROP_FRAME_HEIGHT)),
            fps=self._fps,
            is_file=False,
        )
