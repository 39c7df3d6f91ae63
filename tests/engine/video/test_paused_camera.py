"""A paused live camera stops costing: its connection closes, its memory stays flat, and a
resume brings it back within 3 s with nothing stale.

The real pipeline on a real RTSP camera (GStreamer's RTSP server, tests/rtsp_camera.py).
"""

from __future__ import annotations

from datetime import UTC, datetime
import time
from typing import Any

import pytest

from custom_components.nvr_inference.engine.pipeline import runner as runner_module
from custom_components.nvr_inference.engine.pipeline.runner import RunnerOptions
from custom_components.nvr_inference.engine.video import stream_control
from custom_components.nvr_inference.engine.video.capture_times import CAPTURE_BACKLOG
from custom_components.nvr_inference.engine.video.sources import SourceConfig

from ...conftest import Recorder
from ...mqtt_helpers import free_port
from ...rtsp_camera import rtsp_camera
from ..pipeline.test_pipeline import harness_factory

pytestmark = [
    pytest.mark.pipeline,
    pytest.mark.usefixtures("no_thread_left_behind", "socket_enabled"),
]
__all__ = ["harness_factory"]  # the fixture, imported for this module's tests


def test_a_paused_rtsp_camera_is_let_go_and_resumes_fresh_within_3_s(
    harness_factory: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(stream_control, "RELEASE_GRACE", 1.0)  # the test's night is short
    captured = Recorder()

    def on_pipeline_status(update: Any) -> None:
        if update.event_type == "FRAME_CAPTURED":
            captured.append(update.payload["frame_id"])

    port = free_port()
    with rtsp_camera(port) as camera:
        h = harness_factory(
            [SourceConfig(0, f"rtsp://127.0.0.1:{port}/cam")],
            detector="motion",
            options=RunnerOptions(extra_status_handlers=(on_pipeline_status,)),
        )
        runner = h.engine.runners[0]
        h.engine.start()
        h.wait_published(5, timeout=60)

        h.pause()
        h.wait_status(0, lambda s: s.stream_paused)
        producer = runner._control.parkable.current
        assert producer is not None  # the camera is open: frames were published
        assert producer.let_go.wait(10), "the paused camera was not let go after the grace"
        assert producer._camera is None
        assert runner._captures._at == {}  # pruned on pause, nothing added while paused
        idle_from = len(captured)
        # Parked: nothing is grabbed (so nothing decoded, nothing stored) however long it lasts.
        assert not captured.wait_for(lambda ids: len(ids) > idle_from + 1, 2.0)
        assert runner._captures._at == {}
        last_before_resume = max(captured.snapshot())

        count = len(h.published)
        now = datetime.now(UTC)
        resumed_at = now.replace(microsecond=now.microsecond // 1000 * 1000)  # ms on the wire
        started = time.monotonic()
        h.resume()
        assert h.published.wait_for(
            lambda items: any(m["detections"] for _, m in items[count:]), 3.0
        ), f"no detection within 3 s of the resume (camera exit code: {camera.poll()})"
        took = time.monotonic() - started
        after = h.messages()[count:]
        assert min(m["frame_id"] for m in after) > last_before_resume
        assert all(datetime.fromisoformat(m["frame_timestamp"]) >= resumed_at for m in after)
        assert h.violations == []
        assert took < 3.0
        h.engine.stop()  # while the camera is still there


def test_the_capture_map_is_bounded_when_frames_are_never_dispatched(harness_factory: Any) -> None:
    """A stream's drop-oldest buffer (or a pause) leaves captured frames undispatched."""
    h = harness_factory([SourceConfig(0, "rtsp://127.0.0.1:9/cam")], detector="motion")
    runner = h.engine.runners[0]  # not started: the handler alone, as the decoding thread calls it

    class Update:
        def __init__(self, frame_id: int) -> None:
            self.event_type = "FRAME_CAPTURED"
            self.payload = {"frame_id": frame_id}
            self.timestamp = datetime.now()

    for frame_id in range(1, 5 * CAPTURE_BACKLOG):
        runner._on_pipeline_status(Update(frame_id))
    assert len(runner._captures._at) == CAPTURE_BACKLOG
    assert min(runner._captures._at) == 4 * CAPTURE_BACKLOG  # the newest are kept
    h.pause()
    runner._on_pipeline_status(Update(5 * CAPTURE_BACKLOG))
    assert 5 * CAPTURE_BACKLOG not in runner._captures._at  # paused: never published, not kept


def test_capture_stamps_are_utc_across_the_autumn_clock_change(
    harness_factory: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """At 02:30 on 25 October 2026 Berlin's clocks read the same twice: naive local is ambiguous.

    The pipeline stamps its updates with naive local time; the second 02:30 (01:30 UTC) read as
    local came out an hour early. The runner reads the UTC clock itself.
    """
    monkeypatch.setenv("TZ", "Europe/Berlin")
    time.tzset()
    try:
        h = harness_factory([SourceConfig(0, "rtsp://127.0.0.1:9/cam")], detector="motion")
        runner = h.engine.runners[0]
        second_0230 = datetime(2026, 10, 25, 1, 30, tzinfo=UTC)
        monkeypatch.setattr(runner_module, "utc_now", lambda: second_0230)

        class Update:
            def __init__(self) -> None:
                self.event_type = "FRAME_CAPTURED"
                self.payload = {"frame_id": 1}
                self.timestamp = datetime(2026, 10, 25, 2, 30)  # naive local, as streamvision

        class Frame:
            frame_id = 1
            frame_timestamp = datetime(2026, 10, 25, 2, 29, 59)

        runner._on_pipeline_status(Update())
        assert runner._captures.take(Frame()) == second_0230
    finally:
        monkeypatch.delenv("TZ")
        time.tzset()
