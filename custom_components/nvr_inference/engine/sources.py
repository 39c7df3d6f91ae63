"""Video sources: what a user configures, how it is opened, and a file that behaves like a camera.

A source is a file path, an RTSP/HTTP(S) URL or a USB device index. Each has a stable integer
`source_id` chosen by the user (it is the `<source_id>` of the detections topic), an optional
name, and for files an option to loop, so the bundled sample video can stand in for a live
camera in the demo and the tests.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
import os
import re
import threading
import time
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import cv2
import numpy as np
import numpy.typing as npt

from .errors import SourceUnavailableError

Frame = npt.NDArray[np.uint8]

STREAM_SCHEMES = ("rtsp", "rtsps", "rtmp", "http", "https", "udp", "tcp")


class SourceKind(StrEnum):
    """How a source behaves, which decides how a pause stops its work."""

    FILE = "file"  # played once, every frame; pausing stops the reader
    LOOP = "loop"  # a file replayed forever at its own frame rate, like a camera
    STREAM = "stream"  # RTSP/HTTP: muted on pause, so the connection stays up
    DEVICE = "device"  # USB/V4L2 camera: muted on pause, like a stream


@dataclass(frozen=True, slots=True)
class SourceConfig:
    """One configured video source."""

    source_id: int
    reference: str | int
    name: str | None = None
    loop: bool = False

    @property
    def kind(self) -> SourceKind:
        """Classify the reference (a digit-only string is a device index)."""
        ref = self.reference
        if isinstance(ref, int) or (isinstance(ref, str) and ref.isdigit()):
            return SourceKind.DEVICE
        if urlsplit(ref).scheme.lower() in STREAM_SCHEMES:
            return SourceKind.STREAM
        return SourceKind.LOOP if self.loop else SourceKind.FILE

    @property
    def display_name(self) -> str:
        """A name for logs and entities; never contains URL credentials."""
        return self.name or f"Source {self.source_id}"

    @property
    def safe_reference(self) -> str:
        """The reference with any password removed, fit for logs and diagnostics."""
        return redact_url(str(self.reference))

    def capture_reference(self) -> str | int:
        """Return what cv2.VideoCapture takes: an int for a device index."""
        if self.kind is SourceKind.DEVICE:
            return int(self.reference)
        return self.reference


_CREDENTIALS_IN_TEXT = re.compile(r"(?P<scheme>[a-zA-Z][a-zA-Z0-9+.-]*://)[^/@\s]+@")


def redact_url(url: str) -> str:
    """Replace `user:password@` in a URL by `***@` (the host and path stay, for debugging)."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return _CREDENTIALS_IN_TEXT.sub(r"\g<scheme>***@", url)
    if not parts.username and not parts.password:
        return url
    host = parts.hostname or ""
    if parts.port:
        host = f"{host}:{parts.port}"
    return urlunsplit(parts._replace(netloc=f"***@{host}"))


def redact_text(text: str) -> str:
    """Remove URL credentials from any text (error messages from OpenCV or the pipeline)."""
    return _CREDENTIALS_IN_TEXT.sub(r"\g<scheme>***@", text)


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
    schedule (no drift, no catch-up burst after a pause).
    """

    def __init__(self, path: str, fps: float | None = None) -> None:
        """Open `path`; pace at `fps` or the file's own rate."""
        self._path = path
        self._capture = cv2.VideoCapture(path)
        declared = self._capture.get(cv2.CAP_PROP_FPS) if self._capture.isOpened() else 0.0
        self._fps = float(fps or declared or 25.0)
        self._period = 1.0 / self._fps
        self._next_due: float | None = None

    def isOpened(self) -> bool:
        """Report whether the file is open."""
        return bool(self._capture.isOpened())

    def grab(self) -> bool:
        """Wait for the next frame's due time, then grab it, rewinding at the end."""
        now = time.monotonic()
        if self._next_due is None or now - self._next_due > 1.0:
            self._next_due = now  # first frame, or resumed after a pause: restart the clock
        elif self._next_due > now:
            time.sleep(self._next_due - now)  # the camera's shutter: real-time pacing
        self._next_due += self._period
        if self._capture.grab():
            return True
        self._capture.set(cv2.CAP_PROP_POS_FRAMES, 0)
        return bool(self._capture.grab())

    def retrieve(self) -> tuple[bool, Frame]:
        """Decode the grabbed frame."""
        ok, frame = self._capture.retrieve()
        return bool(ok), np.asarray(frame, dtype=np.uint8)

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
