"""`max_fps`'s arithmetic on given capture times (no clock, no sleeps).

A camera's frames come with jitter. The pipeline's own limiter (at least one period since the
last admitted frame) turns 10 on a 10 fps camera into about 6.5 fps; ours must give 4.9-5.1
for 5 on 30 fps and at least 9.5 for 10 on 10, whatever the jitter.
"""

from __future__ import annotations

import random

import pytest

from custom_components.nvr_inference.engine.pipeline.fps_limit import FrameRateLimiter

SECONDS = 60.0


def _camera(fps: float, jitter: float, seed: int) -> list[float]:
    """Capture times of a camera at `fps`, each off its slot by up to `jitter` seconds."""
    rng = random.Random(seed)
    count = int(SECONDS * fps)
    return [1000.0 + i / fps + rng.uniform(-jitter, jitter) for i in range(count)]


def _processed_fps(limit: float, captures: list[float]) -> float:
    limiter = FrameRateLimiter(limit)
    return sum(limiter.admit(t) for t in captures) / SECONDS


def _pipelines_own(limit: float, captures: list[float]) -> float:
    """streamvision's RateLimiter, on the same times: a frame at least 1 / limit after the last."""
    last = None
    admitted = 0
    for t in captures:
        if last is None or t - last >= 1 / limit:
            last = t
            admitted += 1
    return admitted / SECONDS


@pytest.mark.parametrize("seed", range(5))
@pytest.mark.parametrize("jitter", [0.0, 0.002, 0.008])
def test_5_on_a_30_fps_camera_processes_5(seed: int, jitter: float) -> None:
    assert 4.9 <= _processed_fps(5, _camera(30, jitter, seed)) <= 5.1


@pytest.mark.parametrize("seed", range(5))
@pytest.mark.parametrize("jitter", [0.0, 0.005, 0.02])
def test_10_on_a_10_fps_camera_processes_every_frame(seed: int, jitter: float) -> None:
    captures = _camera(10, jitter, seed)
    assert _processed_fps(10, captures) >= 9.5
    if jitter:  # what the pipeline's own limiter made of the same frames
        assert _pipelines_own(10, captures) < 9.0


def test_a_source_slower_than_the_limit_keeps_every_frame() -> None:
    assert _processed_fps(10, _camera(8, 0.01, 1)) == pytest.approx(8, abs=0.02)


def test_a_stall_restarts_the_schedule_instead_of_a_burst() -> None:
    limiter = FrameRateLimiter(5)
    frames = [0.0, 3.0] + [3.0 + i / 30 for i in range(1, 31)]  # 3 s silent, then 1 s at 30
    admitted = [t for t in frames if limiter.admit(t)]
    assert admitted[:2] == [0.0, 3.0]
    assert len(admitted) == 2 + 5  # the second after the stall: 5 more, no catch-up


def test_a_limit_must_be_positive() -> None:
    with pytest.raises(ValueError, match="above 0"):
        FrameRateLimiter(0)
