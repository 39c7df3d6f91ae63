"""Snapshots: a frame with its detections and zones drawn, as JPEG.

Drawn with OpenCV in supervision's colours (a class keeps its colour of supervision's default
palette): boxes, a label on each, zone outlines. supervision's annotators drew these before,
at a fifth of a millisecond a picture spent in Python (its label placement alone was half),
on the dispatch thread the pipeline waits for; OpenCV draws the same in a few microseconds.
Made on the pipeline's dispatch thread only: at most once per `snapshot_interval` per source
for the latest-detection picture, and once per improvement of a tracked object's best frame
for event snapshots. The JPEG travels on the detection message and is kept or published only
if that message passes the gate: a paused camera gets no new snapshot, by the same fence as
its detections.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
import functools
from typing import Any

import cv2
import numpy as np
import supervision as sv

from ..contract.messages import Detection
from ..video.sources import Frame

ZONE_COLOUR = (0, 200, 255)
"""Zone outlines, BGR (amber)."""

_TEXT_COLOUR = (255, 255, 255)
_FONT = cv2.FONT_HERSHEY_SIMPLEX
_PADDING = 4


def _label(det: Detection) -> str:
    track = f" #{det.tracker_id}" if det.tracker_id is not None else ""
    return f"{det.class_name}{track} {det.confidence:.2f}"


@functools.cache
def _colour(class_id: int) -> tuple[int, int, int]:
    """Return the class's colour in supervision's default palette, BGR."""
    blue, green, red = sv.ColorPalette.DEFAULT.by_idx(class_id).as_bgr()
    return int(blue), int(green), int(red)


def draw_detections(
    image: Frame, detections: Iterable[Detection], polygons: Sequence[Any] = ()
) -> Frame:
    """Return a copy of `image` with zones outlined and a box and a label per detection.

    A label sits on its box's top edge, above it, or inside it where the frame's top would
    cut it, and never past the frame's sides.
    """
    canvas: Frame = image.copy()
    width = int(image.shape[1])
    thickness = max(2, width // 320)
    for polygon in polygons:
        cv2.polylines(canvas, [np.asarray(polygon, np.int32)], True, ZONE_COLOUR, thickness)
    scale = max(0.4, width / 1280)
    for det in detections:
        x1, y1, x2, y2 = (round(v) for v in det.corners())
        colour = _colour(det.class_id)
        cv2.rectangle(canvas, (x1, y1), (x2, y2), colour, thickness)
        text = _label(det)
        (text_w, text_h), baseline = cv2.getTextSize(text, _FONT, scale, 1)
        box_w, box_h = text_w + 2 * _PADDING, text_h + baseline + 2 * _PADDING
        left = min(max(0, x1), max(0, width - box_w))
        top = y1 - box_h if y1 - box_h >= 0 else max(0, y1)
        cv2.rectangle(canvas, (left, top), (left + box_w, top + box_h), colour, cv2.FILLED)
        origin = (left + _PADDING, top + _PADDING + text_h)
        cv2.putText(canvas, text, origin, _FONT, scale, _TEXT_COLOUR, 1, cv2.LINE_AA)
    return canvas


def render_snapshot(
    image: Frame,
    detections: Iterable[Detection],
    quality: int = 80,
    polygons: Sequence[Any] = (),
) -> bytes:
    """Draw and encode as JPEG."""
    ok, encoded = cv2.imencode(
        ".jpg", draw_detections(image, detections, polygons), [cv2.IMWRITE_JPEG_QUALITY, quality]
    )
    if not ok:
        raise ValueError("JPEG encoding failed")
    return bytes(encoded.tobytes())


@functools.cache
def placeholder_jpeg() -> bytes:
    """Return a grey picture saying there is no current one (a paused or new camera).

    An MQTT image entity keeps the last picture it received; publishing this when a camera
    pauses (and when a host announces itself) keeps a frame from before the pause from being
    shown as current after the resume, until the first new snapshot replaces it.
    """
    canvas = np.full((360, 640, 3), 48, np.uint8)
    cv2.putText(
        canvas, "No current picture", (120, 190), cv2.FONT_HERSHEY_SIMPLEX, 1.1, (200,) * 3, 2
    )
    ok, encoded = cv2.imencode(".jpg", canvas, [cv2.IMWRITE_JPEG_QUALITY, 70])
    if not ok:
        raise ValueError("JPEG encoding failed")
    return bytes(encoded.tobytes())
