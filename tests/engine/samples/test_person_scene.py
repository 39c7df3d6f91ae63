"""The person sample scene: its timeline, its command, and `person` on it against ground truth."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest

from custom_components.nvr_inference.engine.detect.spec import parse_detector
from custom_components.nvr_inference.engine.samples.person_scene import (
    PERSON_FRAMES,
    PERSON_PHOTO,
    changed_frames,
    load_cutout,
    person_at,
    render_person_frame,
)
from custom_components.nvr_inference.engine.samples.photos import PHOTO_DIR_ENV
from custom_components.nvr_inference.engine.worker.cli import main

from ...photos import photo
from ..ground_truth import iou, run_on_video, score

pytestmark = pytest.mark.pipeline


def test_the_scene_is_still_nine_tenths_of_the_time() -> None:
    changed = changed_frames()
    assert changed == [*range(40, 50), *range(151, 161)]  # walking in; walking out and gone
    assert 1 - len(changed) / PERSON_FRAMES == 0.9
    present = [i for i in range(PERSON_FRAMES) if person_at(i)]
    assert present == list(range(40, 160))
    for index in present:
        (box,) = person_at(index)
        assert 0 <= box.x1 < box.x2 <= 640 and 0 <= box.y1 < box.y2 <= 480
    assert person_at(PERSON_FRAMES + 100) == person_at(100)  # it loops


def test_rendering_is_deterministic_and_truth_matches_the_pixels() -> None:
    cutout = load_cutout(photo(PERSON_PHOTO))
    frame = render_person_frame(100, cutout)
    assert np.array_equal(frame, render_person_frame(100, cutout))
    (box,) = person_at(100)
    pasted = frame[int(box.y1) : int(box.y2), int(box.x1) : int(box.x2)]
    assert np.array_equal(pasted, cutout)
    assert np.array_equal(render_person_frame(0, cutout), render_person_frame(39, cutout))


def test_sample_video_command_writes_the_person_scene(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    target = tmp_path / "person.avi"
    argv = ["sample-video", str(target), "--scene", "person", "--frames", "3", "--size", "320x240"]
    assert main([*argv, "--photo", str(photo(PERSON_PHOTO))]) == 0
    assert capsys.readouterr().out.strip() == str(target)
    capture = cv2.VideoCapture(str(target))
    try:
        assert int(capture.get(cv2.CAP_PROP_FRAME_COUNT)) == 3
        assert int(capture.get(cv2.CAP_PROP_FRAME_WIDTH)) == 320
    finally:
        capture.release()


def test_sample_video_command_finds_the_setup_photo_by_default(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(PHOTO_DIR_ENV, str(photo(PERSON_PHOTO).parent))
    target = tmp_path / "person.avi"
    assert main(["sample-video", str(target), "--scene", "person", "--frames", "1"]) == 0
    assert target.stat().st_size > 0


def test_sample_video_command_refuses_a_missing_photo(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    target = tmp_path / "person.avi"
    astronaut = str(photo(PERSON_PHOTO))
    monkeypatch.setenv(PHOTO_DIR_ENV, str(tmp_path / "no-photos"))
    assert main(["sample-video", str(target), "--scene", "person"]) == 2
    assert "astronaut.png is not in" in capsys.readouterr().err
    assert main(["sample-video", str(target), "--scene", "person", "--photo", "/nope.png"]) == 2
    assert "/nope.png does not exist" in capsys.readouterr().err
    assert main(["sample-video", str(target), "--photo", astronaut]) == 2
    assert "--photo is for --scene person" in capsys.readouterr().err
    assert not target.exists()


def test_person_recall_and_precision_on_the_person_video(person_video: Path) -> None:
    """`person` through the real pipeline on the MJPG video, every frame against ground truth.

    Measured: recall 1.00 (120 of 120 frames with her), precision 1.00 (no false alarm); every
    box has IoU >= 0.90 with the truth and confidence >= 0.89. Required here: recall and
    precision at least 0.95, a hit being IoU >= 0.5.
    """
    found = run_on_video(person_video, parse_detector("person"), PERSON_FRAMES).found
    result = score(found, person_at, PERSON_FRAMES, "person", lambda d, t: iou(d, t) >= 0.5)
    assert result.hits + result.misses == 120
    assert result.recall >= 0.95, result
    assert result.precision >= 0.95, result
