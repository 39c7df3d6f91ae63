"""The engine with Roboflow's real InferencePipeline on generated videos.

What these prove: boxes land where the objects are; once `pause()` returns nothing more is
published, even with full buffers, a slow publisher and pause/resume hammered from another
thread; pausing one source leaves the others alone; no frame captured before a resume is
published after it; stopping leaves no thread behind; bad sources and detectors give clear
errors.
"""

from __future__ import annotations

from collections.abc import Iterator
import json
from pathlib import Path
import random
import socket
import threading
import time
from typing import Any
from unittest.mock import patch

import pytest

from custom_components.nvr_inference.engine.detect.spec import parse_detector
from custom_components.nvr_inference.engine.errors import (
    DetectorError,
    SourceUnavailableError,
)
from custom_components.nvr_inference.engine.fence.gate import PauseGate
from custom_components.nvr_inference.engine.fence.publisher import FencedPublisher
from custom_components.nvr_inference.engine.pipeline.engine import Engine
from custom_components.nvr_inference.engine.pipeline.loader import (
    full_profile_available,
    inference_pipeline_class,
)
from custom_components.nvr_inference.engine.pipeline.runner import RunnerOptions
from custom_components.nvr_inference.engine.pipeline.source_status import SourceState, SourceStatus
from custom_components.nvr_inference.engine.samples.sample_video import objects_at
from custom_components.nvr_inference.engine.video.capture import LoopingFileProducer, probe_source
from custom_components.nvr_inference.engine.video.sources import SourceConfig

from ...conftest import CallbackTransport, Recorder

pytestmark = [pytest.mark.pipeline, pytest.mark.usefixtures("no_thread_left_behind")]

# The pipeline's own defaults: the prototype's buffers, so the backlog is as large as it was.
PROTOTYPE_BUFFERS = RunnerOptions(decoding_buffer_size=64, predictions_queue_size=512)


class Harness:
    """An engine publishing into a recorder, with its statuses recorded too."""

    def __init__(
        self,
        sources: list[SourceConfig],
        detector: str = "face",
        options: RunnerOptions | None = None,
        publish_delay: float = 0.0,
    ) -> None:
        self.published = Recorder()
        self.statuses = Recorder()
        self.captured: dict[int, int] = {}
        self.believed_closed: set[int | None] = set()
        self.violations: list[dict[str, Any]] = []
        self.gate = PauseGate([s.source_id for s in sources])
        self.publisher = FencedPublisher(self.gate, CallbackTransport(self._publish))
        self._delay = publish_delay
        opts = options or RunnerOptions()
        by_index = {0: sources[0].source_id} if len(sources) == 1 else None
        self._single = by_index
        self.engine = Engine(
            sources,
            parse_detector(detector),
            self.publisher,
            gate=self.gate,
            on_status=self.statuses.append,
            options=opts,
        )

    def _publish(self, topic: str, payload: str) -> None:
        message = json.loads(payload)
        sid = message["source_id"]
        if None in self.believed_closed or sid in self.believed_closed:
            self.violations.append(message)
        if self._delay:
            time.sleep(self._delay)  # a slow network: the publisher, not the test, waits here
        self.published.append((topic, message))

    def messages(self, source_id: int | None = None) -> list[dict[str, Any]]:
        return [m for _, m in self.published.snapshot() if source_id in (None, m["source_id"])]

    def wait_published(self, count: int, source_id: int | None = None, timeout: float = 30) -> None:
        ok = self.published.wait_for(
            lambda items: sum(source_id in (None, m["source_id"]) for _, m in items) >= count,
            timeout,
        )
        assert ok, f"fewer than {count} messages for source {source_id} within {timeout} s"

    def wait_status(self, source_id: int, predicate: Any, timeout: float = 30) -> SourceStatus:
        def match(items: list[SourceStatus]) -> bool:
            return any(s.source_id == source_id and predicate(s) for s in items)

        assert self.statuses.wait_for(match, timeout), self.statuses.snapshot()
        return next(
            s for s in self.statuses.snapshot() if s.source_id == source_id and predicate(s)
        )

    def pause(self, source_id: int | None = None) -> None:
        self.engine.pause(source_id)
        self.believed_closed.add(source_id)  # after the ack: any publish now is a violation

    def resume(self, source_id: int | None = None) -> None:
        self.believed_closed.discard(source_id)  # before resume starts: publishing may begin
        self.engine.resume(source_id)


@pytest.fixture
def harness_factory() -> Iterator[Any]:
    made: list[Harness] = []

    def make(*args: Any, **kwargs: Any) -> Harness:
        harness = Harness(*args, **kwargs)
        made.append(harness)
        return harness

    yield make
    for harness in made:
        harness.engine.stop()


def test_boxes_land_on_the_objects(harness_factory: Any, sample_video: Path) -> None:
    h = harness_factory([SourceConfig(4, str(sample_video), name="Porch")])
    h.engine.start()
    h.wait_status(4, lambda s: s.state is SourceState.ENDED)
    messages = h.messages(4)
    with_faces = [m for m in messages if m["detections"]]
    # Faces are on frames 10..99 (frame_id = index + 1): every one of them is reported.
    assert [m["frame_id"] for m in with_faces] == list(range(11, 101))
    for m in with_faces:
        truth = [t for t in objects_at(m["frame_id"] - 1) if t.class_name == "face"]
        assert len(m["detections"]) == len(truth)
        for det in m["detections"]:
            assert det["class"] == "face"
            assert any(t.contains(det["x"], det["y"]) for t in truth)
    # The first frame says what the camera sees (nothing yet), then every frame with faces,
    # then exactly one empty message when they stop, and nothing more.
    assert messages[0]["detections"] == [] and messages[0]["frame_id"] == 1
    assert messages[-1]["detections"] == [] and messages[-1]["frame_id"] == 101
    assert len(messages) == 92
    assert messages[0]["source_id"] == 4 and messages[0]["model_id"] == "face"
    assert messages[0]["image"] == {"width": 640, "height": 480}


def test_pause_fence_with_full_buffers_and_a_slow_publisher(
    harness_factory: Any, long_video: Path
) -> None:
    """The prototype's bug: a backlog of decoded frames and queued predictions after pause."""
    h = harness_factory(
        [SourceConfig(0, str(long_video))],
        detector="motion",
        options=PROTOTYPE_BUFFERS,
        publish_delay=0.01,  # 100 msg/s at most: the backlog builds up behind the publisher
    )
    h.engine.start()
    h.wait_published(30)
    runner = h.engine.runners[0]
    h.pause()
    published_at_ack = len(h.published)
    # The backlog still reaches the sink after the pause and is dropped there...
    h.wait_status(0, lambda s: s.stream_paused)
    drained = threading.Event()

    def backlog_dropped() -> bool:
        return runner.stats.frames_dropped_paused + h.publisher.refused > 20

    deadline = time.monotonic() + 30
    while not backlog_dropped() and time.monotonic() < deadline:
        drained.wait(0.05)
    assert backlog_dropped(), "the pipeline delivered no backlog: the test proved nothing"
    # ... and not one message was published after the acknowledgement.
    assert len(h.published) == published_at_ack
    assert h.violations == []


def test_fence_holds_while_pause_and_resume_are_hammered(
    harness_factory: Any, long_video: Path
) -> None:
    h = harness_factory(
        [SourceConfig(0, str(long_video))],
        detector="motion",
        options=PROTOTYPE_BUFFERS,
        publish_delay=0.001,
    )
    h.engine.start()
    h.wait_published(10)
    rng = random.Random(7)
    pause_for = threading.Event()
    for _ in range(300):
        h.pause(rng.choice([None, 0]))
        pause_for.wait(rng.random() * 0.004)  # a random gap, not a synchronisation
        h.resume(None)
        h.resume(0)
        pause_for.wait(rng.random() * 0.004)
    assert h.violations == []
    assert h.publisher.refused + h.engine.runners[0].stats.frames_dropped_paused > 0


def test_no_frame_captured_before_resume_is_published_after_it(
    harness_factory: Any, long_video: Path
) -> None:
    captured = Recorder()

    def on_pipeline_status(update: Any) -> None:
        if update.event_type == "FRAME_CAPTURED":
            captured.append(update.payload["frame_id"])

    h = harness_factory(
        [SourceConfig(0, str(long_video))],
        detector="motion",
        options=RunnerOptions(
            decoding_buffer_size=64,
            predictions_queue_size=512,
            extra_status_handlers=(on_pipeline_status,),
        ),
        publish_delay=0.02,  # predictions queue up behind a slow publisher
    )
    h.engine.start()
    h.wait_published(20)
    stale_checked = 0
    for _ in range(3):
        h.pause()
        last_before_resume = max(captured.snapshot())
        h.resume()
        count = len(h.published)
        h.wait_published(count + 5)
        after = [m["frame_id"] for m in h.messages()[count:]]
        assert min(after) > last_before_resume
        stale_checked += 1
    assert stale_checked == 3
    # The queued, pre-resume predictions existed and were refused: by the runner's admission
    # check (the same gate, before tracking) or, if one slipped past it, at the fence.
    assert h.publisher.refused + h.engine.runners[0].stats.frames_dropped_paused > 0


def test_pausing_one_source_leaves_the_others_running(
    harness_factory: Any, sample_video: Path
) -> None:
    h = harness_factory(
        [
            SourceConfig(0, str(sample_video), loop=True),
            SourceConfig(1, str(sample_video), loop=True),
        ],
        detector="motion",
    )
    h.engine.start()
    h.wait_published(5, 0)
    h.wait_published(5, 1)
    h.pause(1)
    paused_count = len(h.messages(1))
    h.wait_published(len(h.messages(0)) + 15, 0)
    assert len(h.messages(1)) == paused_count
    h.wait_status(1, lambda s: s.stream_paused)
    assert not h.engine.runners[0].status.stream_paused

    h.pause()  # global: both stop
    h.resume()  # global resume: source 1 keeps its own pause
    h.wait_published(len(h.messages(0)) + 10, 0)
    assert len(h.messages(1)) == paused_count
    h.resume(1)
    h.wait_published(paused_count + 5, 1)
    assert h.violations == []


def test_paused_before_start_publishes_nothing_and_stops_the_stream(
    harness_factory: Any, sample_video: Path
) -> None:
    """A restored pause (after a restart) holds from the first frame."""
    h = harness_factory([SourceConfig(0, str(sample_video), loop=True)], detector="motion")
    h.pause()
    h.engine.start()
    h.wait_status(0, lambda s: s.stream_paused)
    runner = h.engine.runners[0]
    assert runner.stats.frames_inferred == 0
    assert h.messages() == []


def test_stop_leaves_no_pipeline_thread(sample_video: Path) -> None:
    before = set(threading.enumerate())
    gate = PauseGate([0, 1])
    engine = Engine(
        [SourceConfig(0, str(sample_video), loop=True), SourceConfig(1, str(sample_video))],
        parse_detector("motion"),
        FencedPublisher(gate, CallbackTransport()),
        gate=gate,
    )
    engine.start()
    started = set(threading.enumerate()) - before
    assert len(started) >= 6  # decoding, inference, dispatch (+ control) per source
    engine.pause(0)
    engine.stop()
    assert [t for t in threading.enumerate() if t in started] == []


def test_interrupt_ends_a_looping_file_waiting_for_its_next_frame(sample_video: Path) -> None:
    producer = LoopingFileProducer(str(sample_video), fps=0.001)  # a frame every 1000 s
    try:
        assert producer.grab()  # the first frame is due at once
        grabbed: list[bool] = []
        waiting = threading.Thread(target=lambda: grabbed.append(producer.grab()), daemon=True)
        waiting.start()
        producer.interrupt()
        waiting.join(30)
        assert not waiting.is_alive()
        assert grabbed == [False]
    finally:
        producer.release()


def test_stopping_interrupts_every_looping_file(sample_video: Path) -> None:
    """The pipeline's terminate calls `interrupt()`: a stop never waits out a frame period."""
    gate = PauseGate([0, 1])
    engine = Engine(
        [
            SourceConfig(0, str(sample_video), loop=True),
            SourceConfig(1, str(sample_video), loop=True),
        ],
        parse_detector("motion"),
        FencedPublisher(gate, CallbackTransport()),
        gate=gate,
    )
    interrupt = LoopingFileProducer.interrupt
    with patch.object(
        LoopingFileProducer, "interrupt", autospec=True, side_effect=interrupt
    ) as spy:
        engine.start()
        engine.stop()
    assert spy.call_count == 2


def test_a_pipeline_that_fails_to_start_leaves_no_thread(sample_video: Path) -> None:
    """The control thread starts before the pipeline; a failing start must stop it too."""
    gate = PauseGate([0, 1])
    engine = Engine(
        [SourceConfig(0, str(sample_video), loop=True), SourceConfig(1, str(sample_video))],
        parse_detector("motion"),
        FencedPublisher(gate, CallbackTransport()),
        gate=gate,
    )
    pipeline_cls = inference_pipeline_class()
    calls = 0
    original = pipeline_cls.start

    def start_then_fail(pipeline: Any, *args: Any, **kwargs: Any) -> None:
        nonlocal calls
        calls += 1
        if calls == 2:  # the second source fails after the first one started
            raise RuntimeError("no decoder for you")
        original(pipeline, *args, **kwargs)

    with (
        patch.object(pipeline_cls, "start", autospec=True, side_effect=start_then_fail),
        pytest.raises(RuntimeError, match="no decoder"),
    ):
        engine.start()
    assert all(r.status.state is SourceState.STOPPED for r in engine.runners.values())
    # (no_thread_left_behind fails the test if a control or pipeline thread is still alive)


def test_missing_file_is_a_clear_error(harness_factory: Any, tmp_path: Path) -> None:
    config = SourceConfig(0, str(tmp_path / "nope.mp4"), name="Garage")
    with pytest.raises(SourceUnavailableError, match=r"Garage: file not found: .*nope\.mp4"):
        probe_source(config)
    h = harness_factory([config])
    h.engine.start()
    status = h.wait_status(0, lambda s: s.state is SourceState.ERROR)
    assert status.error and "nope.mp4" in status.error


@pytest.mark.usefixtures("socket_enabled")
def test_unreachable_url_is_a_clear_error_without_credentials() -> None:
    with socket.socket() as sock:  # a port on loopback with nobody listening
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    config = SourceConfig(0, f"rtsp://admin:hunter2@127.0.0.1:{port}/stream", name="Gate")
    with pytest.raises(SourceUnavailableError) as err:
        probe_source(config, timeout=20)
    assert "Gate: cannot read video from rtsp://***@127.0.0.1" in str(err.value)
    assert "hunter2" not in str(err.value)


def test_unknown_detector_is_a_clear_error() -> None:
    with pytest.raises(
        DetectorError, match="unknown detector 'person-v9'; choose one of motion, face"
    ):
        parse_detector("person-v9")


@pytest.mark.skipif(full_profile_available(), reason="light profile behaviour")
def test_roboflow_model_without_the_full_profile(sample_video: Path) -> None:
    from custom_components.nvr_inference.engine.errors import FullProfileRequiredError

    gate = PauseGate([0])
    engine = Engine(
        [SourceConfig(0, str(sample_video))],
        parse_detector("roboflow:yolov8n-640"),
        FencedPublisher(gate, CallbackTransport()),
        gate=gate,
        options=RunnerOptions(api_key="k"),
    )
    with pytest.raises(FullProfileRequiredError, match="full profile"):
        engine.start()
