"""Built-in detectors on the rendered scene: boxes where the objects are, nothing elsewhere."""

from __future__ import annotations

import pytest

from custom_components.nvr_inference.engine.detect.face import FaceDetector
from custom_components.nvr_inference.engine.detect.motion import MotionDetector
from custom_components.nvr_inference.engine.detect.spec import parse_detector
from custom_components.nvr_inference.engine.errors import DetectorError
from custom_components.nvr_inference.engine.samples.sample_video import (
    SAMPLE_FRAMES,
    objects_at,
    render_frame,
)

pytestmark = pytest.mark.pipeline


def test_face_detector_finds_every_drawn_face_and_nothing_else() -> None:
    detector = FaceDetector()
    hits = misses = false_positives = 0
    for index in range(0, SAMPLE_FRAMES, 3):
        truth = [t for t in objects_at(index) if t.class_name == "face"]
        found = detector(render_frame(index))
        hits += sum(any(t.contains(d.x, d.y) for d in found) for t in truth)
        misses += sum(not any(t.contains(d.x, d.y) for d in found) for t in truth)
        false_positives += sum(not any(t.contains(d.x, d.y) for t in truth) for d in found)
    assert hits >= 35
    assert misses == 0
    assert false_positives == 0


def test_motion_detector_follows_the_moving_box() -> None:
    detector = MotionDetector()
    assert detector(render_frame(0)) == []  # the first frame only teaches the background
    for index in range(1, 10):  # nothing moves before the first face enters at frame 10
        assert detector(render_frame(index)) == [], f"motion on static frame {index}"
    for index in range(10, 25):
        detector(render_frame(index))
    checked = 0
    for index in range(25, 90):
        found = detector(render_frame(index))
        box = next(t for t in objects_at(index) if t.class_name == "motion")
        assert any(box.contains(d.x, d.y, margin=8) for d in found), index
        checked += 1
    assert checked == 65


@pytest.mark.parametrize(
    ("name", "fragment"),
    [
        ("yolo", "unknown detector 'yolo'"),
        ("roboflow:", "needs a model id"),
    ],
)
def test_bad_detector_names(name: str, fragment: str) -> None:
    with pytest.raises(DetectorError, match=fragment):
        parse_detector(name)


def test_detector_options() -> None:
    spec = parse_detector("roboflow:yolov8n-640", confidence=0.4, classes=["person", " car "])
    assert spec.is_roboflow and spec.model_id == "yolov8n-640"
    assert spec.classes == {"person", "car"}
    with pytest.raises(DetectorError, match="between 0 and 1"):
        parse_detector("face", confidence=1.5)
