"""A live camera down when its source starts is rebuilt with backoff (issue 20, item 4).

streamvision does not retry a source that never connected: its inference thread ends with
`SourceConnectionError`. The runner builds a fresh pipeline after 2 s, doubling up to 30 s,
until the camera answers; the gate is told that the new pipeline numbers frames afresh.
"""

from __future__ import annotations

import logging
import threading
from typing import Any

import pytest

from custom_components.nvr_inference.engine.fence.gate import PauseGate
from custom_components.nvr_inference.engine.pipeline.source_status import SourceState
from custom_components.nvr_inference.engine.video import first_connect
from custom_components.nvr_inference.engine.video.first_connect import (
    FirstConnectRetry,
    QuietConnectFailures,
    connect_error_text,
)
from custom_components.nvr_inference.engine.video.sources import SourceConfig

from ...mqtt_helpers import free_port
from ...rtsp_camera import rtsp_camera
from ..pipeline.test_pipeline import harness_factory

pytestmark = [pytest.mark.pipeline]  # OpenCV, streamvision or trackers: not on 3.14

__all__ = ["harness_factory"]  # the fixture, imported for this module's tests


def test_the_backoff_doubles_to_30_s_and_starts_over_once_connected() -> None:
    retry = FirstConnectRetry(0, rebuild=lambda: None)
    try:
        waits = [retry.failed() for _ in range(7)]
        assert waits == [2.0, 4.0, 8.0, 16.0, 30.0, 30.0, 30.0]
        assert retry.failures == 7
        retry.connected()
        assert retry.failures == 0
        assert retry.failed() == 2.0
    finally:
        retry.stop()


@pytest.mark.usefixtures("no_thread_left_behind")
def test_stop_cancels_a_scheduled_rebuild_and_joins_its_thread() -> None:
    rebuilt = threading.Event()
    retry = FirstConnectRetry(3, rebuild=rebuilt.set)
    assert retry.failed() == 2.0
    retry.stop()  # well within the 2 s: returns at once, the rebuild never runs
    assert not rebuilt.is_set()
    assert retry.failed() is None  # stopped: nothing is scheduled any more


@pytest.mark.usefixtures("no_thread_left_behind")
def test_a_rebuild_runs_on_its_own_thread_after_the_wait(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(first_connect, "FIRST_RETRY", 0.01)
    rebuilt: list[str] = []
    done = threading.Event()

    def rebuild() -> None:
        rebuilt.append(threading.current_thread().name)
        done.set()

    retry = FirstConnectRetry(5, rebuild)
    retry.failed()
    assert done.wait(10)
    retry.stop()
    assert rebuilt == ["nvr-connect-5"]


def test_renumbering_starts_the_frame_ids_and_the_epoch_over() -> None:
    gate = PauseGate([0])
    for frame_id in range(1, 501):
        gate.note_captured(0, frame_id)
    gate.pause(0)
    gate.resume(0)  # frames up to 500 are from before the resume
    assert not gate.admits(0, 1)
    assert gate.epoch(0) == 1
    gate.renumber(0)  # a fresh pipeline: its frame 1 comes after everything so far
    assert gate.admits(0, 1)
    assert gate.epoch(0) == 2
    gate.pause(0)
    gate.note_captured(0, 1)
    gate.note_captured(0, 2)
    gate.resume(0)  # the resume rule holds in the new numbering
    assert not gate.admits(0, 2)
    assert gate.admits(0, 3)


def test_ffmpeg_context_tags_leave_the_error() -> None:
    text = "[tcp @ 0x7f68f0007d00] Connection refused: Cannot connect to video source"
    assert connect_error_text(text) == "Connection refused: Cannot connect to video source"


def test_only_the_pipeline_connect_traceback_is_quiet() -> None:
    class SourceConnectionError(Exception):
        pass

    def record(error: Exception) -> logging.LogRecord:
        info = (type(error), error, None)  # as logger.exception() records it
        return logging.LogRecord("x", logging.ERROR, __file__, 1, "boom", (), info)

    quiet = QuietConnectFailures()
    assert not quiet.filter(record(SourceConnectionError("down")))
    assert quiet.filter(record(RuntimeError("a real bug")))
    assert quiet.filter(logging.LogRecord("x", logging.ERROR, __file__, 1, "m", (), None))


@pytest.mark.pipeline
@pytest.mark.usefixtures("no_thread_left_behind", "socket_enabled")
def test_a_camera_down_at_start_comes_up_behind_the_pause(
    harness_factory: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Down at start, paused meanwhile, then up: nothing while paused, detections on resume."""
    monkeypatch.setattr(first_connect, "FIRST_RETRY", 0.25)
    port = free_port()
    h = harness_factory([SourceConfig(0, f"rtsp://u:pw-SECRET@127.0.0.1:{port}/cam")], "motion")
    h.engine.start()
    down = h.wait_status(
        0, lambda s: s.state is SourceState.RECONNECTING and "Cannot connect" in (s.error or "")
    )
    assert "pw-SECRET" not in (down.error or "")
    epoch_down = h.gate.epoch(0)
    h.pause()
    with rtsp_camera(port):
        h.wait_status(0, lambda s: s.state is SourceState.RUNNING, 60)
        assert h.gate.epoch(0) > epoch_down  # the rebuilt pipeline counts as a fresh start
        h.wait_status(0, lambda s: s.stream_paused, 30)
        count = len(h.published)
        h.resume()
        h.wait_published(count + 5, source_id=0, timeout=30)
        assert h.violations == []  # nothing while paused
        resumed = h.messages(0)[count:]
        assert [m["frame_id"] for m in resumed] == sorted(m["frame_id"] for m in resumed)
        h.engine.stop()  # while the camera is still there
    assert h.engine.runners[0].status.state is SourceState.STOPPED
