"""Snapshots: a frame with its detections and zones drawn, as JPEG.

Drawn with supervision's annotators (boxes, labels, zone outlines). Made on the pipeline's
dispatch thread only: at most once per `snapshot_interval` per source for the latest-detection
picture, and once per improvement of a tracked object's best frame for event snapshots. The
JPEG travels on the detection message and is kept or published only if that message passes
the gate: a paused camera gets no new snapshot, by the same fence as its detections.
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
from .boxes import to_supervision

ZONE_COLOUR = sv.Color(r=255, g=200, b=0)


def _labels(detections: Sequence[Detection]) -> list[str]:
    out = []
    for det in detections:
        track = f" #{det.tracker_id}" if det.tracker_id is not None else ""
        out.append(f"{det.class_name}{track} {det.confidence:.2f}")
    return out


def draw_detections(
    image: Frame, detections: Iterable[Detection], polygons: Sequence[Any] = ()
) -> Frame:
    """Return a copy of `image` with zones outlined and a box and a label per detection."""
    found = list(detections)
    canvas: Frame = image.copy()
    thickness = max(2, image.shape[1] // 320)
    for polygon in polygons:
        canvas = sv.draw_polygon(canvas, np.asarray(polygon), ZONE_COLOUR, thickness)
    if not found:
        return canvas
    boxes = to_supervision(sv, found)
    scale = max(0.4, image.shape[1] / 1280)
    canvas = sv.BoxAnnotator(thickness=thickness).annotate(canvas, boxes)
    annotator = sv.LabelAnnotator(text_scale=scale, text_padding=4, smart_position=True)
    annotated: Frame = annotator.annotate(canvas, boxes, labels=_labels(found))
    return annotated


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
