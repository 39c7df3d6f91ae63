"""How the control thread handles a source that is not RUNNING (StreamOperationNotAllowedError).

The real exception class from the pipeline; a stand-in pipeline object so the state can be
set exactly (the real pipeline reaches these states only in races or reconnects).
"""

from __future__ import annotations

import threading
from typing import Any

import pytest

from custom_components.nvr_inference.engine.detect.spec import parse_detector
from custom_components.nvr_inference.engine.fence.gate import PauseGate
from custom_components.nvr_inference.engine.pipeline.loader import (
    stream_operation_not_allowed_error,
)
from custom_components.nvr_inference.engine.pipeline.runner import RunnerOptions, SourceRunner
from custom_components.nvr_inference.engine.video.sources import SourceConfig


class StubPipeline:
    def __init__(self) -> None:
        self.calls: list[str] = []
        self.refuse = True

    def _op(self, name: str) -> None:
        self.calls.append(name)
        if self.refuse:
            raise stream_operation_not_allowed_error()(
                f"Could not {name} stream in state: RESTARTING"
            )

    def pause_stream(self) -> None:
        self._op("pause")

    def mute_stream(self) -> None:
        self._op("mute")

    def resume_stream(self) -> None:
        self._op("resume")


def _runner(kind_reference: str) -> tuple[SourceRunner, PauseGate, StubPipeline, list[Any]]:
    gate = PauseGate([0])
    statuses: list[Any] = []
    runner = SourceRunner(
        SourceConfig(0, kind_reference),
        parse_detector("motion"),
        gate,
        lambda _m: None,
        statuses.append,
        RunnerOptions(),
    )
    stub = StubPipeline()
    runner._control.pipeline = stub
    return runner, gate, stub, statuses


@pytest.mark.pipeline
def test_refused_pause_is_reported_and_retried_and_the_gate_holds() -> None:
    runner, gate, stub, statuses = _runner("rtsp://cam.local/stream")
    runner._control.state = "RUNNING"
    gate.pause()
    runner._control.converge()  # the source began reconnecting just now: the mute is refused
    assert stub.calls == ["mute"]
    assert "cannot pause the stream yet" in (runner.status.stream_note or "")
    assert not gate.is_open(0)  # the fence does not depend on the stream's own pause
    stub.refuse = False
    runner._control.state = "RUNNING"  # the next state change wakes the control thread
    runner._control.converge()
    assert stub.calls == ["mute", "mute"]
    assert any(s.stream_note for s in statuses)


def test_files_are_paused_streams_are_muted() -> None:
    runner, gate, stub, _ = _runner("/videos/porch.mp4")
    stub.refuse = False
    runner._control.state = "RUNNING"
    gate.pause(0)
    runner._control.converge()
    runner._control.state = "PAUSED"
    gate.resume(0)
    runner._control.converge()
    assert stub.calls == ["pause", "resume"]


def test_not_running_source_waits_with_a_note() -> None:
    runner, gate, stub, _ = _runner("rtsp://cam.local/stream")
    runner._control.state = "RESTARTING"
    gate.pause()
    runner._control.converge()
    assert stub.calls == []
    assert runner.status.stream_note == "stream is restarting; it is paused once it runs again"


@pytest.mark.pipeline
def test_the_control_thread_tries_again_without_a_new_state_change() -> None:
    """A refused pause is retried by the control thread itself: no later event is needed.

    The stream's status updates come from several threads, so the change the thread would
    wait for may never come (a worker started paused once kept its file stream running).
    """
    runner, gate, stub, _ = _runner("/videos/porch.mp4")
    runner._control.state = "RUNNING"
    gate.pause()
    retried = threading.Event()

    def pause_stream() -> None:
        stub.calls.append("pause")
        if len(stub.calls) >= 2:
            runner._control.state = "PAUSED"
            retried.set()
            return
        raise stream_operation_not_allowed_error()("Could not PAUSE stream in state: X")

    stub.pause_stream = pause_stream  # type: ignore[method-assign]
    runner._control.start()
    try:
        runner.wake()  # the one and only change: the stream runs; the pause is refused
        assert retried.wait(10), stub.calls
    finally:
        runner._control.stop()
    assert stub.calls[:2] == ["pause", "pause"]
