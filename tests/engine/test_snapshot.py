"""Snapshots: boxes drawn where the detections are, encoded as a JPEG of the frame's size."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from custom_components.nvr_inference.engine.messages import Detection
from custom_components.nvr_inference.engine.snapshot import (
    BOX_COLOUR,
    draw_detections,
    render_snapshot,
)

pytestmark = pytest.mark.pipeline


def test_boxes_are_drawn_on_the_detections() -> None:
    frame = np.zeros((480, 640, 3), np.uint8)
    det = Detection.from_corners(
        class_name="face", class_id=0, confidence=0.9, x1=100, y1=200, x2=300, y2=400
    )
    drawn = draw_detections(frame, [det])
    assert frame.sum() == 0  # the frame itself is untouched
    assert tuple(drawn[300, 100]) == BOX_COLOUR  # left edge of the box
    assert tuple(drawn[400, 200]) == BOX_COLOUR  # bottom edge
    assert drawn[300, 200].sum() == 0  # inside stays as it was


def test_snapshot_is_a_jpeg_of_the_frame() -> None:
    frame = np.full((480, 640, 3), 90, np.uint8)
    data = render_snapshot(frame, [Detection("motion", 0, 0.5, 320, 240, 100, 50)])
    assert data[:2] == b"\xff\xd8"  # JPEG start of image
    decoded = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR)
    assert decoded.shape == (480, 640, 3)
