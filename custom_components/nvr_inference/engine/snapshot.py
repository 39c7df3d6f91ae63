"""Snapshots: the frame with its detections drawn, as JPEG (for the image entity).

Made on the dispatch thread at most once per `snapshot_interval` per source, and only for
frames with detections, so it costs a few milliseconds every couple of seconds. The snapshot
travels on the detection message and is kept by the host only if that message passed the
gate: a paused camera gets no new snapshot, by the same fence as its detections.
"""

from __future__ import annotations

from collections.abc import Iterable

import cv2

from .messages import Detection
from .sources import Frame

BOX_COLOUR = (0, 200, 255)  # BGR amber: visible on most scenes
TEXT_COLOUR = (20, 20, 20)


def draw_detections(image: Frame, detections: Iterable[Detection]) -> Frame:
    """Return a copy of `image` with a box and a `class confidence` label per detection."""
    canvas = image.copy()
    thickness = max(2, image.shape[1] // 320)
    scale = max(0.4, image.shape[1] / 1280)
    for det in detections:
        x1, y1 = int(det.x - det.width / 2), int(det.y - det.height / 2)
        x2, y2 = int(det.x + det.width / 2), int(det.y + det.height / 2)
        cv2.rectangle(canvas, (x1, y1), (x2, y2), BOX_COLOUR, thickness)
        label = f"{det.class_name} {det.confidence:.2f}"
        (tw, th), base = cv2.getTextSize(label, cv2.FONT_HERSHEY_SIMPLEX, scale, 1)
        top = max(0, y1 - th - base - 4)
        cv2.rectangle(canvas, (x1, top), (x1 + tw + 6, top + th + base + 4), BOX_COLOUR, -1)
        cv2.putText(
            canvas,
            label,
            (x1 + 3, top + th + 2),
            cv2.FONT_HERSHEY_SIMPLEX,
            scale,
            TEXT_COLOUR,
            1,
            cv2.LINE_AA,
        )
    return canvas


def render_snapshot(image: Frame, detections: Iterable[Detection], quality: int = 80) -> bytes:
    """Draw and encode as JPEG."""
    ok, encoded = cv2.imencode(
        ".jpg", draw_detections(image, detections), [cv2.IMWRITE_JPEG_QUALITY, quality]
    )
    if not ok:
        raise ValueError("JPEG encoding failed")
    return bytes(encoded.tobytes())
