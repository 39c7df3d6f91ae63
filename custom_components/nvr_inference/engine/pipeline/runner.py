"""One source on Roboflow's InferencePipeline, with the pause gate wired through it.

Threads, per source: the pipeline's decoding, inference and dispatch threads, plus our
`nvr-control-<id>` thread, which alone calls `pause_stream`/`mute_stream`/`resume_stream`
(they take the source's state lock, which a reconnect can hold for seconds, so they never run
on a caller's thread). Where each step of the pause happens:

1. `Engine.pause()` (engine.py) closes the gate (fast, any thread): from its return, the
   fence holds.
2. The inference thread drops frames of a closed source before running the detector, so
   the backlog the pipeline still delivers costs no inference.
3. The dispatch thread drops predictions of a closed source before building messages; the
   publisher checks the gate again inside the fence.
4. The control thread (stream_control.py) pauses a file, and mutes then, after a short
   grace, disconnects a live camera, to stop the decoding; the gate holds meanwhile.

A live camera that cannot be reached when its source starts gets a fresh pipeline after a
backoff, for as long as it runs (first_connect.py): streamvision itself reconnects only a
camera it once reached.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import replace
import logging
import threading
import time
from typing import Any

from ..config.camera import CameraSettings
from ..contract.messages import Detection, DetectionMessage
from ..detect.registry import build_builtin
from ..detect.spec import Detector, DetectorSpec
from ..fence.gate import PauseGate
from ..objects.tracking import SourceTracker, TrackedFrame
from ..objects.zones import SourceZones
from ..video.capture_times import CaptureTimes
from ..video.first_connect import (
    CONNECTION_ERROR,
    FirstConnectRetry,
    connect_error_text,
    quiet_pipeline_connect_errors,
)
from ..video.sources import SourceConfig, SourceKind, redact_text
from ..video.stream_control import LIVE_KINDS, STREAM_PAUSED, STREAM_RUNNING, StreamControl
from .drawing import SnapshotPlan
from .fps_limit import FrameRateLimiter
from .loader import (
    inference_pipeline_class,
    sequential_sink_mode,
    stream_operation_not_allowed_error,
)
from .runner_options import SNAPSHOT_INTERVAL, RunnerOptions
from .source_status import SourceState, SourceStats, SourceStatus, utc_now

__all__ = ["SNAPSHOT_INTERVAL", "Deliver", "RunnerOptions", "SourceRunner"]  # the hosts' names

_LOGGER = logging.getLogger(__name__)

Deliver = Callable[[DetectionMessage], object]


class SourceRunner:
    """One source: its InferencePipeline, its control thread, and its status."""

    def __init__(
        self,
        config: SourceConfig,
        spec: DetectorSpec,
        gate: PauseGate,
        deliver: Deliver,
        on_status: Callable[[SourceStatus], None],
        options: RunnerOptions,
    ) -> None:
        """Prepare (nothing starts until `start()`)."""
        # The camera's own settings over the host's (config/camera.py): from here on
        # `spec` and `options` are this camera's.
        camera = options.cameras.get(config.source_id, CameraSettings())
        spec = camera.detector_spec(spec)
        options = replace(options, max_fps=camera.frame_rate(options.max_fps))
        self._filters = camera.filters
        self.config = config
        self.source_id = config.source_id
        self.spec = spec
        self.stats = SourceStats()
        self._gate = gate
        self._deliver = deliver
        self._on_status = on_status
        self._options = options
        self._pipeline: Any = None
        self._detector: Detector | None = None
        self._was_running = False
        self._stopping = False
        self._watch: Any = None  # capture.StreamWatch: the source's own state
        self._captures = CaptureTimes()
        self._control = StreamControl(
            config.display_name,
            self.source_id,
            config.kind,
            gate,
            self._note_stream,
            on_paused=self._captures.forget,
        )
        self._retry = FirstConnectRetry(self.source_id, self._rebuild)
        self._status = SourceStatus(self.source_id, SourceState.CONNECTING, utc_now())
        # Held while a status is computed *and* handed to the host, so hosts see the changes
        # in the order they were made, whichever pipeline thread reported them.
        self._status_lock = threading.RLock()
        self._snapshots = SnapshotPlan(options.snapshot_interval)
        # `max_fps` on a live source with our own detector: our limiter (fps_limit.py), on the
        # inference thread; a file, or a Roboflow model, keeps the pipeline's.
        self._limiter = (
            FrameRateLimiter(options.max_fps)
            if options.max_fps and config.kind is not SourceKind.FILE and not spec.is_roboflow
            else None
        )
        zones = options.zones.get(self.source_id, SourceZones())
        self._tracker = (
            SourceTracker(options.tracking, zones, options.max_fps or 30.0)
            if options.tracking.enabled or zones
            else None
        )

    @property
    def status(self) -> SourceStatus:
        """Return the latest status."""
        return self._status

    # -- lifecycle (blocking: hosts call these in an executor) -----------------------------------

    def start(self) -> None:
        """Build and start the pipeline. Raises `EngineError` for what the user must fix."""
        self._pipeline = self._build_pipeline()
        self._control.pipeline = self._pipeline
        self._control.start()
        try:
            self._pipeline.start(use_main_thread=False)
        except BaseException:
            self.stop()  # the control thread, and whatever the pipeline did start
            raise

    def _build_pipeline(self) -> Any:
        """Build a pipeline for this source (not started: it connects on its own thread)."""
        pipeline_cls = inference_pipeline_class()
        quiet_pipeline_connect_errors()
        from ..video.capture import (  # noqa: PLC0415 - OpenCV, lazily
            LoopingFileProducer,
            ParkableReference,
            StreamWatch,
        )

        reference: Any = self.config.capture_reference()
        source_id, gate = self.source_id, self._gate

        def on_grab() -> None:
            gate.note_grabbing(source_id)

        if self.config.kind is SourceKind.LOOP:
            path = str(self.config.reference)
            reference = lambda: LoopingFileProducer(path, on_grab=on_grab)  # noqa: E731
        elif self.config.kind in LIVE_KINDS:
            reference = self._control.parkable = ParkableReference(reference, on_grab)
        self._watch = StreamWatch()
        sink_mode = sequential_sink_mode()
        handlers = [self._on_pipeline_status, *self._options.extra_status_handlers]
        common: dict[str, Any] = {
            "video_reference": reference,
            "watchdog": self._watch,
            "on_prediction": self._on_prediction,
            "max_fps": None if self._limiter is not None else self._options.max_fps,
            "status_update_handlers": handlers,
            "sink_mode": sink_mode,
            "decoding_buffer_size": self._options.decoding_buffer_size,
            "predictions_queue_size": self._options.predictions_queue(self.config.kind),
        }
        if self.spec.is_roboflow:
            from ..detect.roboflow import init_roboflow_pipeline  # noqa: PLC0415

            return init_roboflow_pipeline(pipeline_cls, self.spec, self._options.api_key, common)
        if self._detector is None:  # built once: a rebuilt pipeline keeps it
            self._detector = build_builtin(self.spec)
        return pipeline_cls.init_with_custom_logic(on_video_frame=self._on_video_frame, **common)

    def _rebuild(self) -> None:
        """Replace the pipeline of a camera down at its first connect (the `nvr-connect` thread).

        The failed pipeline is joined first (its inference thread ended with the failure), so
        none of its frames is left when the gate's numbering starts over for the new one.
        """
        if self._stopping:
            return
        old = self._pipeline
        if old is not None:
            old.join()
        self._gate.renumber(self.source_id)
        self._captures.forget()
        try:
            pipeline = self._build_pipeline()
            self._pipeline = self._control.pipeline = pipeline
            self._control.state = "NOT_STARTED"
            pipeline.start(use_main_thread=False)
        except Exception as err:  # on our own thread: nobody else would hear of it
            _LOGGER.exception("%s: cannot restart the source", self.config.display_name)
            self._set_status(state=SourceState.ERROR, error=redact_text(str(err)))

    def stop(self) -> None:
        """Terminate the pipeline and join every thread it and we started."""
        self._stopping = True
        self._retry.stop()  # no rebuild from now on; one under way has finished
        self._control.stop()
        self._control.pipeline = None
        pipeline, self._pipeline = self._pipeline, None
        if pipeline is not None:
            not_allowed = stream_operation_not_allowed_error()
            for _ in range(50):  # a source still INITIALISING cannot be terminated yet
                try:
                    pipeline.terminate()
                    break
                except not_allowed:
                    time.sleep(0.05)
            pipeline.join()
        self._set_status(state=SourceState.STOPPED, error=None, stream_paused=False)

    def wake(self) -> None:
        """Ask the control thread to bring the stream in line with the gate."""
        self._control.wake()

    # -- pipeline threads -------------------------------------------------------------------------

    def _on_video_frame(self, frames: list[Any]) -> list[list[Detection] | None]:
        """Inference thread: run the detector, unless the gate is closed (early drop)."""
        detector = self._detector
        assert detector is not None
        keeps = self.spec.keeps
        limiter = self._limiter
        out: list[list[Detection] | None] = []
        for frame in frames:
            if not self._gate.is_open(self.source_id):
                self.stats.frames_dropped_paused += 1
                out.append(None)
                continue
            if limiter is not None and not limiter.admit(self._captures.peek(frame)):
                out.append(None)  # over max_fps: not detected, so not tracked either
                continue
            started = time.perf_counter()
            found = [d for d in detector(frame.image) if keeps(d)]
            self.stats.record(time.perf_counter() - started)
            out.append(found)
        return out

    def _on_prediction(self, prediction: Any, frame: Any) -> None:
        """Dispatch thread: turn a prediction into a message and hand it to the publisher."""
        epoch = self._gate.epoch(self.source_id)
        self.stats.frames_dropped_overload += self._captures.dropped_before(epoch, frame.frame_id)
        if prediction is None:
            return  # refused by the gate or over max_fps on the inference thread (counted there)
        if not self._gate.is_open(self.source_id):
            self.stats.frames_dropped_paused += 1
            return
        if isinstance(prediction, list):
            detections = tuple(prediction)
        else:  # a Roboflow model's prediction dict
            from ..detect.roboflow import detections_from_prediction  # noqa: PLC0415

            detections = tuple(
                d for d in detections_from_prediction(prediction) if self.spec.keeps(d)
            )
            self.stats.record(None)  # the model ran inside the pipeline: no timing of ours
        image = frame.image
        # Object filters and masks (objects/filters.py): what they drop is never tracked,
        # published or counted.
        detections = self._filters.apply(detections, int(image.shape[1]), int(image.shape[0]))
        tracked: TrackedFrame | None = None
        captured = self._captures.take(frame)
        # The tracker epoch and the admission in one hold of the gate's lock: the first frame
        # after a resume can never reach the old tracker.
        admitted = self._gate.admitted_epoch(self.source_id, frame.frame_id)
        if admitted is None:  # captured before a resume, or paused meanwhile: not fed, not sent
            self.stats.frames_dropped_paused += 1
            return
        epoch = admitted
        if self._tracker is not None:
            # A live source's frames are tracked by their capture times (frames it dropped
            # or we skipped are time, not missing steps); a file's, read as fast as we go,
            # one step a frame, as its own clock has it.
            live = self.config.kind is not SourceKind.FILE
            when = captured.timestamp() if live else None
            tracked = self._tracker.process(detections, image, epoch, when)
            detections = tracked.detections
        self._deliver(
            DetectionMessage(
                source_id=self.source_id,
                frame_id=frame.frame_id,
                frame_timestamp=captured,
                model_id=self.spec.model_id,
                image_width=int(image.shape[1]),
                image_height=int(image.shape[0]),
                detections=detections,
                crossings=tracked.crossings if tracked else (),
                epoch=epoch,
                draw=self._snapshots.plan(
                    image,
                    detections,
                    tracked,
                    self._tracker.polygons if self._tracker is not None else (),
                ),
            )
        )

    def _on_pipeline_status(self, update: Any) -> None:
        """Pipeline threads: record captures for the gate, and map state changes to status."""
        event = update.event_type
        payload = update.payload
        if event == "FRAME_CAPTURED":  # on the decoding thread, right after grab() returned
            moment = utc_now()  # not update.timestamp: naive local time
            frame_id = payload["frame_id"]
            self._gate.note_captured(self.source_id, frame_id)
            if self._gate.is_open(self.source_id):  # a paused source's frames are never sent
                self._captures.note(frame_id, moment)
            return
        if event == "SOURCE_STATE_UPDATE":
            reported = getattr(payload["new_state"], "value", str(payload["new_state"]))
            with self._status_lock:  # read and report in one hold: the last report is the truth
                state = self._watch.state(reported) if self._watch is not None else reported
                self._control.state = state
                self._on_stream_state(state)
            self._control.wake()  # a RUNNING source may now be paused: let the control thread try
        elif event in ("SOURCE_ERROR", "SOURCE_CONNECTION_ATTEMPT_FAILED", "INFERENCE_ERROR"):
            message = redact_text(str(payload.get("error_message", event)))
            if event == "INFERENCE_ERROR" and self._first_connect_failed(payload, message):
                return
            if event == "INFERENCE_ERROR" or self.config.kind is SourceKind.FILE:
                self._set_status(state=SourceState.ERROR, error=message)
            else:
                self._set_status(state=SourceState.RECONNECTING, error=message)
        elif event == "INFERENCE_THREAD_FINISHED" and not self._stopping:
            if self._status.state is not SourceState.ERROR and not self._retry.failures:
                self._set_status(state=SourceState.ENDED, stream_paused=False)

    def _first_connect_failed(self, payload: Mapping[str, Any], message: str) -> bool:
        """Report a live camera not reached at start `reconnecting`; rebuild after a backoff.

        Returns False for any other inference error (terminal, as before).
        """
        if payload.get("error_type") != CONNECTION_ERROR or self.config.kind not in LIVE_KINDS:
            return False
        delay = self._retry.failed()
        if delay is None:  # stopping
            return True
        message = connect_error_text(message)
        log = _LOGGER.warning if self._retry.failures == 1 else _LOGGER.debug
        log(
            "%s: cannot connect (%s); trying again in %g s",
            self.config.display_name,
            message,
            delay,
        )
        self._set_status(state=SourceState.RECONNECTING, error=message)
        return True

    def _on_stream_state(self, new_state: str) -> None:
        if self._stopping:
            return
        if new_state == STREAM_RUNNING or new_state in STREAM_PAUSED:
            if self._retry.failures:
                _LOGGER.info("%s: connected", self.config.display_name)
                self._retry.connected()
            self._was_running = True
            self._set_status(
                state=SourceState.RUNNING,
                error=None,
                stream_paused=new_state in STREAM_PAUSED,
                stream_note=None,
            )
        elif new_state in ("INITIALISING", "NOT_STARTED"):
            if self._was_running or self._retry.failures:  # a rebuild is still reconnecting
                self._lost("the stream was lost; reconnecting")
            else:
                self._set_status(state=SourceState.CONNECTING)
        elif new_state == "RESTARTING":
            self._lost("the stream was lost; reconnecting")
        elif new_state == "ENDED" and self.config.kind is SourceKind.FILE:
            self._set_status(state=SourceState.ENDED, stream_paused=False)
        elif new_state == "ENDED":
            self._lost("the stream ended; reconnecting")  # a live source ends to reconnect
        elif new_state == "ERROR":
            self._lost("the stream failed; reconnecting")

    def _lost(self, why: str) -> None:
        """Reconnecting: say why, unless the pipeline already said it more precisely.

        streamvision reports a failed reconnect attempt only to its own logger, so without
        this a camera that went away would read `reconnecting` with no error at all.
        """
        with self._status_lock:
            error = self._status.error
        self._set_status(state=SourceState.RECONNECTING, error=error or why)

    def _set_status(self, **changes: Any) -> None:
        with self._status_lock:
            current = self._status
            updated = replace(current, **changes)
            if updated == current:
                return
            if updated.state is not current.state:
                updated = replace(updated, since=utc_now())
            self._status = updated
            self._on_status(updated)  # in the lock: in the order of the changes

    def _note_stream(self, note: str | None) -> None:
        """Put the control thread's word on a lagging stream in the status (logged once)."""
        if note is not None and self._status.stream_note != note:
            _LOGGER.info("%s: %s", self.config.display_name, note)
        self._set_status(stream_note=note)
