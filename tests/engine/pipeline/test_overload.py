"""Live under overload: a sink that falls behind costs old frames, never a backlog.

A camera (a looping file paced in real time, buffered as a stream) feeds the real pipeline; the
sink stops on one frame while the camera captures 60 more, as a machine that cannot keep up
would. Between detection and dispatch only `predictions_queue_size` frames may wait, and the
source drops the oldest of the rest: once the sink resumes, within the few frames that were
already queued it is back at frames captured after it resumed, and the frames it never got
are counted in the source's stats. Nothing here times anything; it counts frames.
"""

from __future__ import annotations

from pathlib import Path
import threading
from typing import Any

import pytest

from custom_components.nvr_inference.engine.contract.messages import DetectionMessage
from custom_components.nvr_inference.engine.detect.spec import parse_detector
from custom_components.nvr_inference.engine.pipeline.engine import Engine
from custom_components.nvr_inference.engine.pipeline.runner import RunnerOptions
from custom_components.nvr_inference.engine.samples.sample_video import write_sample_video
from custom_components.nvr_inference.engine.video.sources import SourceConfig

from ...conftest import Recorder

pytestmark = [pytest.mark.pipeline]  # OpenCV, streamvision or trackers: not on 3.14

STALL_FRAMES = 60
BLOCK_AT = 5  # the frame (delivered count) the sink stops on
BACKLOG = 4  # at most: the two a live source queues, the detector's, the source's readout


def test_a_stalled_sink_drops_the_oldest_frames_and_comes_back_live(tmp_path: Path) -> None:
    video = write_sample_video(tmp_path / "cam.avi", size=(160, 120), fps=30.0)
    captured = Recorder()
    delivered = Recorder()
    release = threading.Event()

    def on_update(update: Any) -> None:
        if update.event_type == "FRAME_CAPTURED":
            captured.append(update.payload["frame_id"])

    def deliver(message: DetectionMessage) -> None:
        delivered.append(message.frame_id)
        if len(delivered) == BLOCK_AT:
            release.wait(60)  # the slow sink: stuck until the camera is far ahead

    engine = Engine(
        [SourceConfig(0, str(video), loop=True)],
        parse_detector("motion"),
        deliver,
        options=RunnerOptions(extra_status_handlers=[on_update]),
    )
    engine.start()
    try:
        assert delivered.wait_for(lambda d: len(d) >= BLOCK_AT)
        stuck_on = delivered.snapshot()[-1]
        assert captured.wait_for(lambda c: c[-1] >= stuck_on + STALL_FRAMES)
        newest_at_release = captured.snapshot()[-1]
        release.set()
        queued = BACKLOG
        assert delivered.wait_for(lambda d: len(d) >= BLOCK_AT + queued + 1)
        after = delivered.snapshot()[BLOCK_AT:]
        stats = engine.runners[0].stats
    finally:
        release.set()
        engine.stop()
    # What waited while the sink was stuck: a few frames, not the 60 the camera captured.
    assert after[:queued] == sorted(after[:queued])
    assert any(frame_id >= newest_at_release for frame_id in after[: queued + 1]), (
        f"still behind after {queued + 1} frames: {after}, newest was {newest_at_release}"
    )
    assert stats.frames_dropped_overload >= STALL_FRAMES - queued - 1
    assert stats.frames_dropped_paused == 0
