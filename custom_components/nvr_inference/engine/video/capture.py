"""Opening sources with OpenCV: the probe, the frame producers, and the stream's live state.

The producers are what the pipeline reads frames from: a file that behaves like a camera, and
a live camera that lets go of its connection while paused. Both tell the gate when a `grab()`
starts, so a frame whose grab began before a resume is never taken for one captured after it.
"""

from __future__ import annotations

from collections.abc import Callable
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
    check_reference(config)
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


def check_reference(config: SourceConfig) -> None:
    """Raise `SourceUnavailableError` for a reference written wrong (no I/O: see sources.py)."""
    problem = config.reference_problem()
    if problem is not None:
        raise SourceUnavailableError(f"{config.display_name}: {problem}")


class LoopingFileProducer:
    """A video file replayed forever at its declared frame rate: a camera made of a file.

    InferencePipeline accepts a callable returning a `VideoFrameProducer` as a video
    reference; this is one. It reports itself as a live stream (`is_file=False`), so the
    pipeline applies its stream buffering (drop oldest, newest frame first) exactly as it
    would for an RTSP camera, and `grab()` paces frames in real time from a monotonic
    schedule (no drift, no catch-up burst after a pause). The pipeline calls `interrupt()`
    when it terminates the source, so a stop never waits out the pacing (a frame period).
    """

    def __init__(
        self, path: str, fps: float | None = None, on_grab: Callable[[], None] = lambda: None
    ) -> None:
        """Open `path`; pace at `fps` or the file's own rate; `on_grab()` as each grab starts."""
        self._path = path
        self._on_grab = on_grab
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
        self._on_grab()
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
        from ..pipeline.loader import source_properties  # noqa: PLC0415 - pipeline import is lazy

        return source_properties(
            width=int(self._capture.get(cv2.CAP_PROP_FRAME_WIDTH)),
            height=int(self._capture.get(cv2.CAP_PROP_FRAME_HEIGHT)),
            fps=self._fps,
            is_file=False,
        )


class OpenStream:
    """The pipeline's own producer for a camera reference, as a callable the pipeline calls.

    A callable reference is how a custom producer reaches InferencePipeline; `str()` gives the
    reference back, so the pipeline's logs and connection errors still name the camera (it
    redacts credentials itself, and so do we).
    """

    def __init__(self, reference: str | int) -> None:
        """Remember what to open."""
        self.reference = reference

    def __call__(self) -> Any:
        """Open the camera with the decoder the pipeline would pick for the plain reference."""
        from streamvision.camera import video_source  # noqa: PLC0415 - after pipeline import

        build = getattr(video_source, "_build_default_producer", None)
        if build is None:  # an older streamvision: its OpenCV producer is the default
            return video_source.CV2VideoFrameProducer(self.reference)
        return build(self.reference)

    def __str__(self) -> str:
        """Name the camera (the pipeline's logs and errors use `str(reference)`)."""
        return str(self.reference)


class ParkableStream:
    """A live camera (RTSP, USB) that closes its connection while its source is paused.

    Muting a stream (the pipeline's `mute_stream`) still grabs and decodes every frame only to
    drop it: a paused camera would cost a decoder all night. Pausing the reader instead
    (`pause_stream`) leaves the camera's packets piling up in the socket, so the first frames
    after a resume are seconds old. So after a short grace the control thread asks this
    producer to `park()`: the next `grab()`, on the pipeline's decoding thread (the only thread
    that touches the capture), closes the camera and waits, costing nothing, until `unpark()`;
    then it connects afresh, so the first frame after a resume is a live one. The
    source meanwhile stays open as far as the pipeline can tell (`isOpened()`), so it neither
    ends nor reconnects. A reopen that fails ends the stream, and the pipeline's own reconnect
    takes over, as for a camera lost while running.
    """

    def __init__(self, open_camera: Callable[[], Any], on_grab: Callable[[], None]) -> None:
        """Open the camera now (the pipeline calls this when the source starts)."""
        self._open_camera = open_camera
        self._on_grab = on_grab
        self._camera: Any = open_camera()
        self._properties: dict[str, float | str] = {}
        self._wanted = threading.Condition()
        self._parked = False  # asked to let go of the camera at the next grab
        self._interrupted = False
        self.let_go = threading.Event()  # set while parked with the camera closed

    @property
    def parked(self) -> bool:
        """Return True while the producer is asked to keep the camera closed."""
        return self._parked

    def park(self) -> None:
        """Close the camera at the next grab and wait there until `unpark()` (any thread)."""
        with self._wanted:
            self._parked = True

    def unpark(self) -> None:
        """Let the waiting grab connect again (any thread)."""
        with self._wanted:
            self._parked = False
            self._wanted.notify_all()

    def isOpened(self) -> bool:
        """Report the camera open, also while parked: the source is paused, not gone."""
        camera = self._camera
        return camera is None or bool(camera.isOpened())

    def grab(self) -> bool:
        """Grab the next frame; while parked, close the camera and wait, then reconnect."""
        if self._parked and not self._wait_parked():
            return False
        self._on_grab()
        return bool(self._camera.grab())

    def _wait_parked(self) -> bool:
        """Close the camera, wait for `unpark()` (or the end), connect again: False to end."""
        camera, self._camera = self._camera, None
        if camera is not None:
            camera.release()
        self.let_go.set()
        with self._wanted:
            while self._parked and not self._interrupted:
                self._wanted.wait()
            if self._interrupted:
                return False
        self.let_go.clear()
        self._camera = self._open_camera()
        if not self._camera.isOpened():
            return False  # the camera went away meanwhile: the pipeline reconnects
        self._camera.initialize_source_properties(self._properties)
        return True

    def retrieve(self) -> tuple[bool, Frame]:
        """Decode the grabbed frame."""
        ok, frame = self._camera.retrieve()
        return bool(ok), frame

    def interrupt(self) -> None:
        """End the stream now, also a grab waiting while parked (the pipeline's terminate)."""
        with self._wanted:
            self._interrupted = True
            self._wanted.notify_all()
        interrupt = getattr(self._camera, "interrupt", None)
        if callable(interrupt):
            interrupt()

    def release(self) -> None:
        """Close the camera for good (the pipeline's decoding thread, as the stream ends)."""
        camera, self._camera = self._camera, None
        if camera is not None:
            camera.release()

    def initialize_source_properties(self, properties: dict[str, float | str]) -> None:
        """Apply the capture properties, and keep them for every reconnect."""
        self._properties = dict(properties)
        self._camera.initialize_source_properties(properties)

    def connection_error_message(self) -> str:
        """Explain a failed open, as the camera's own producer does."""
        camera = self._camera
        return str(camera.connection_error_message()) if camera is not None else ""

    def discover_source_properties(self) -> Any:
        """Describe the camera, as its own producer does."""
        return self._camera.discover_source_properties()


class ParkableReference:
    """The video reference the pipeline gets for a live camera: it opens a `ParkableStream`.

    The pipeline calls it at every (re)connect; the control thread parks whichever producer is
    the current one. `str()` is the camera's reference, for the pipeline's logs and errors.
    """

    def __init__(self, reference: str | int, on_grab: Callable[[], None]) -> None:
        """Remember the camera and the grab hook; nothing opens until the pipeline calls."""
        self._open = OpenStream(reference)
        self._on_grab = on_grab
        self.current: ParkableStream | None = None

    def __call__(self) -> ParkableStream:
        """Connect (the pipeline's decoding start, or a reconnect)."""
        self.current = ParkableStream(self._open, self._on_grab)
        return self.current

    def __str__(self) -> str:
        """Name the camera."""
        return str(self._open)


class StreamWatch:
    """The pipeline's watchdog hook, used for one thing: the source itself, to read its state.

    The pipeline reports a state change from whichever thread made it, after making it, so two
    reports can arrive in the reverse order of the changes (a decoding thread's late RUNNING
    after the control thread's PAUSED left a paused stream reported running). The source's own
    state (`get_state()`) is the truth; the reports only say when to read it again.
    """

    def __init__(self) -> None:
        """No source until the pipeline registers it."""
        self.source: Any = None

    def register_video_sources(self, video_sources: list[Any]) -> None:
        """Keep the pipeline's source (one per pipeline here)."""
        self.source = video_sources[0] if video_sources else None

    def state(self, reported: str) -> str:
        """Return the source's state now (`reported` when there is no source to ask)."""
        source = self.source
        if source is None:
            return reported
        state = source.get_state()
        return str(getattr(state, "value", state))

    def on_status_update(self, status_update: Any) -> None:
        """Ignore: the runner has its own status handler."""

    def on_model_inference_started(self, frames: Any) -> None:
        """Ignore (no profiling)."""

    def on_model_prediction_ready(self, frames: Any) -> None:
        """Ignore (no profiling)."""

    def on_model_prediction_completed(self, frames: Any) -> None:
        """Ignore (no profiling)."""

    def get_report(self) -> None:
        """No report."""
