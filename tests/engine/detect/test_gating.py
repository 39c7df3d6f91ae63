"""Motion gating: the gate's logic on synthetic frames, then the real detectors on both videos."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

from custom_components.nvr_inference.engine.config.grammar import ConfigError
from custom_components.nvr_inference.engine.config.resolve import resolve_config
from custom_components.nvr_inference.engine.contract.messages import Detection
from custom_components.nvr_inference.engine.detect.gating import (
    ChangeDetector,
    GatingOptions,
    MotionGatedDetector,
    region_to_run,
)
from custom_components.nvr_inference.engine.detect.registry import build_builtin
from custom_components.nvr_inference.engine.detect.spec import parse_detector
from custom_components.nvr_inference.engine.errors import DetectorError
from custom_components.nvr_inference.engine.samples.person_scene import PERSON_FRAMES, person_at
from custom_components.nvr_inference.engine.samples.sample_video import SAMPLE_FRAMES, objects_at
from custom_components.nvr_inference.engine.worker.parser import build_parser

from ..ground_truth import centre_inside, iou, run_on_video, score

pytestmark = pytest.mark.pipeline

SIZE = (640, 480)


def blank() -> np.ndarray:
    return np.full((SIZE[1], SIZE[0], 3), 120, np.uint8)


def with_square(x: int, y: int, side: int = 40) -> np.ndarray:
    frame = blank()
    frame[y : y + side, x : x + side] = 250
    return frame


class BrightSquares:
    """A fake detector (pure logic under test is the gate): a box around every bright pixel run."""

    model_id = "fake"

    def __init__(self) -> None:
        self.calls: list[tuple[int, int]] = []  # the (width, height) of each image it was given

    def __call__(self, image: np.ndarray) -> list[Detection]:
        self.calls.append((image.shape[1], image.shape[0]))
        ys, xs = np.nonzero(image[..., 0] > 200)
        if len(xs) == 0:
            return []
        return [
            Detection.from_corners(
                class_name="square",
                class_id=0,
                confidence=1.0,
                x1=float(xs.min()),
                y1=float(ys.min()),
                x2=float(xs.max() + 1),
                y2=float(ys.max() + 1),
            )
        ]


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_still_frames_report_the_last_detections_without_running_the_detector() -> None:
    inner, clock = BrightSquares(), Clock()
    gate = MotionGatedDetector(inner, GatingOptions(full_frame_interval=10), clock)
    first = gate(with_square(100, 100))
    assert [(d.x, d.y) for d in first] == [(120, 120)]
    for _ in range(20):
        clock.now += 0.2
        assert gate(with_square(100, 100)) == first
    assert len(inner.calls) == 1
    assert (gate.counts.full, gate.counts.region, gate.counts.held) == (1, 0, 20)


def test_a_change_runs_the_detector_on_the_region_and_maps_boxes_back() -> None:
    inner, clock = BrightSquares(), Clock()
    gate = MotionGatedDetector(inner, GatingOptions(), clock)
    gate(blank())
    found = gate(with_square(500, 60))  # a small object appears top right
    assert inner.calls[-1] != SIZE  # the detector saw a crop, not the frame
    assert inner.calls[-1][0] * inner.calls[-1][1] <= 0.5 * SIZE[0] * SIZE[1]
    assert [(d.x, d.y, d.width, d.height) for d in found] == [(520, 80, 40, 40)]
    assert gate.counts.region == 1


def test_an_object_that_leaves_is_dropped_at_once() -> None:
    inner, clock = BrightSquares(), Clock()
    gate = MotionGatedDetector(inner, GatingOptions(), clock)
    gate(blank())
    assert gate(with_square(300, 200))
    assert gate(with_square(300, 200))  # held
    assert gate(blank()) == []  # where it was changed: looked at again, nothing there
    assert gate(blank()) == []


def test_a_held_object_far_from_the_change_is_kept() -> None:
    inner, clock = BrightSquares(), Clock()
    gate = MotionGatedDetector(inner, GatingOptions(), clock)
    frame = with_square(40, 40)
    assert len(gate(frame)) == 1
    frame = frame.copy()
    frame[400:430, 560:590] = 90  # a dark blob changes far away (the fake finds nothing there)
    found = gate(frame)
    assert [(d.x, d.y) for d in found] == [(60, 60)]
    assert gate.counts.region == 1


def test_a_full_frame_pass_comes_every_interval() -> None:
    inner, clock = BrightSquares(), Clock()
    gate = MotionGatedDetector(inner, GatingOptions(full_frame_interval=5), clock)
    for step in range(26):  # 0.0 .. 12.5 s of a still scene at 2 fps
        clock.now = step * 0.5
        gate(blank())
    assert gate.counts.full == 3  # at 0, 5 and 10 s
    assert all(call == SIZE for call in inner.calls)


def test_region_to_run_keeps_a_margin_a_minimum_and_a_sane_shape() -> None:
    options = GatingOptions()
    x1, y1, x2, y2 = region_to_run([(300, 200, 310, 400)], [], SIZE, options) or (0, 0, 0, 0)
    assert x1 <= 300 and x2 >= 310 and y1 < 200 and y2 > 400  # the change, with a margin
    assert x2 - x1 >= SIZE[0] / 3  # a sliver is widened
    assert (x2 - x1) / (y2 - y1) >= (SIZE[0] / SIZE[1]) / 1.5
    assert region_to_run([(0, 0, 600, 400)], [], SIZE, options) is None  # most of the frame
    held = [
        Detection.from_corners(class_name="p", class_id=0, confidence=1, x1=0, y1=0, x2=60, y2=60)
    ]
    grown = region_to_run([(50, 50, 70, 70)], held, SIZE, options)
    assert grown is not None and grown[0] == 0 and grown[1] == 0  # the touched object, whole


def test_region_to_run_takes_in_whole_a_held_object_its_margin_reaches() -> None:
    """A person walks in beside a parked motorcycle: the region must not cut the motorcycle.

    Its held box is replaced by what the detector finds in the region; seen cut in half, it
    would be missed there until the next full-frame pass.
    """
    parked = Detection.from_corners(
        class_name="motorcycle", class_id=3, confidence=0.9, x1=190, y1=300, x2=385, y2=430
    )
    changed = [(80, 200, 120, 430)]  # the person's arriving edge, clear of the motorcycle
    region = region_to_run(changed, [parked], SIZE, GatingOptions(max_region_area=1.0))
    assert region is not None
    x1, y1, x2, y2 = region
    assert x1 <= 190 and x2 >= 385 and y1 <= 300 and y2 >= 430


def test_change_detector_ignores_a_still_scene_and_sees_both_arrival_and_departure() -> None:
    change = ChangeDetector(GatingOptions())
    assert change(blank()) is None  # nothing to compare with yet
    assert change(blank()) == []
    arrived = change(with_square(200, 100))
    assert arrived and arrived[0][0] <= 200 <= arrived[0][2]
    left = change(blank())
    assert left and left[0][0] <= 200 <= left[0][2]


def test_gating_options_in_the_spec() -> None:
    assert parse_detector("person").gated
    assert parse_detector("face").gated
    assert not parse_detector("motion").gated
    assert not parse_detector("person", motion_gating=False).gated
    assert parse_detector("face", full_frame_interval=2.5).full_frame_interval == 2.5
    assert isinstance(build_builtin(parse_detector("face")), MotionGatedDetector)
    assert not isinstance(
        build_builtin(parse_detector("face", motion_gating=False)), MotionGatedDetector
    )
    for bad in (0.0, -1.0, float("nan"), float("inf")):
        with pytest.raises(DetectorError, match="full_frame_interval"):
            parse_detector("person", full_frame_interval=bad)


def test_gating_finds_the_same_person_on_the_person_video(person_video: Path) -> None:
    """The detector runs on 21 of 200 frames (the first, and the 20 that changed) instead of 200."""
    runs = {
        gating: run_on_video(
            person_video, parse_detector("person", motion_gating=gating), PERSON_FRAMES
        )
        for gating in (False, True)
    }
    scores = {
        gating: score(run.found, person_at, PERSON_FRAMES, "person", lambda d, t: iou(d, t) >= 0.5)
        for gating, run in runs.items()
    }
    assert scores[True] == scores[False]
    assert scores[True].hits == 120 and scores[True].false_alarms == 0
    frames_with_people = {g: sorted(i for i, d in r.found.items() if d) for g, r in runs.items()}
    assert frames_with_people[True] == frames_with_people[False] == list(range(40, 160))
    counts = runs[True].detector.counts
    assert counts.full + counts.region == 21 and counts.held == 179


def test_gating_finds_the_same_faces_on_the_sample_video(sample_video: Path) -> None:
    runs = {
        gating: run_on_video(
            sample_video, parse_detector("face", motion_gating=gating), SAMPLE_FRAMES
        )
        for gating in (False, True)
    }
    scores = {
        gating: score(run.found, objects_at, SAMPLE_FRAMES, "face", centre_inside)
        for gating, run in runs.items()
    }
    assert scores[True] == scores[False]
    assert scores[True].misses == 0 and scores[True].false_alarms == 0
    counts = runs[True].detector.counts
    assert counts.held >= 30  # the still head and tail of the scene: nothing ran there
    assert counts.region >= 30  # the drifting faces: the detector ran on regions


def _worker_spec(*argv: str, yaml_text: str = "", tmp_path: Path | None = None) -> Any:
    args = ["worker", "--source", "/a.avi", *argv]
    if yaml_text and tmp_path is not None:
        config = tmp_path / "nvr.yaml"
        config.write_text(yaml_text)
        args += ["--config", str(config)]
    return resolve_config(vars(build_parser().parse_args(args)), {}).settings.detector


def test_worker_flags_and_yaml_keys_for_gating(tmp_path: Path) -> None:
    assert _worker_spec("--detector", "person").gated
    assert not _worker_spec("--detector", "person", "--no-motion-gating").gated
    spec = _worker_spec("--detector", "face", "--full-frame-interval", "3")
    assert spec.gated and spec.full_frame_interval == 3.0
    from_yaml = _worker_spec(
        yaml_text="detector: person\nmotion_gating: false\nfull_frame_interval: 20\n",
        tmp_path=tmp_path,
    )
    assert not from_yaml.gated and from_yaml.full_frame_interval == 20.0
    with pytest.raises(ConfigError, match="motion_gating must be true or false"):
        _worker_spec(yaml_text="detector: person\nmotion_gating: maybe\n", tmp_path=tmp_path)
    with pytest.raises(DetectorError, match="full_frame_interval"):
        _worker_spec("--detector", "person", "--full-frame-interval", "0")
