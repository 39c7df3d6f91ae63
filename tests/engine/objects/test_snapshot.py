"""Snapshots: boxes, labels and zones drawn with OpenCV, encoded as a JPEG of the frame's size."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from custom_components.nvr_inference.engine.contract.messages import Detection
from custom_components.nvr_inference.engine.objects.snapshot import (
    ZONE_COLOUR,
    draw_detections,
    render_snapshot,
)

pytestmark = pytest.mark.pipeline


def test_boxes_and_zones_are_drawn_where_they_are() -> None:
    frame = np.zeros((480, 640, 3), np.uint8)
    det = Detection.from_corners(
        class_name="face", class_id=0, confidence=0.9, x1=100, y1=200, x2=300, y2=400
    )
    zone = np.array([[400, 50], [600, 50], [600, 150], [400, 150]])
    drawn = draw_detections(frame, [det], polygons=[zone])
    assert frame.sum() == 0  # the frame itself is untouched
    assert drawn[300, 100].sum() > 0  # left edge of the box
    assert drawn[400, 200].sum() > 0  # bottom edge
    assert drawn[300, 200].sum() == 0  # inside stays as it was
    assert tuple(drawn[100, 400]) == ZONE_COLOUR  # the zone's left edge
    assert drawn[100, 500].sum() == 0  # inside the zone stays as it was
    assert drawn[150:200, 100:300].sum() > 0  # the label sits above the box


def test_snapshot_is_a_jpeg_of_the_frame() -> None:
    frame = np.full((480, 640, 3), 90, np.uint8)
    data = render_snapshot(frame, [Detection("motion", 0, 0.5, 320, 240, 100, 50)])
    assert data[:2] == b"\xff\xd8"  # JPEG start of image
    decoded = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR)
    assert decoded.shape == (480, 640, 3)
