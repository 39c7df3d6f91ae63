"""Our detections as supervision's boxes: the one conversion tracking and drawing share.

Its own module because both sides need it: tracking (tracking.py) feeds these boxes to
ByteTrack and the zones, and drawing (snapshot.py) annotates them. Tracking imports drawing
(lazily: it loads OpenCV) to render a track's best frame, so the conversion in tracking made
the two import each other, and in drawing it would load OpenCV wherever tracking is imported.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from ..contract.messages import Detection


def corners(detections: Sequence[Detection]) -> tuple[list[list[float]], list[float]]:
    """Our centre-size boxes as corner boxes `[x1, y1, x2, y2]` and their scores: what tracks.

    Python floats in lists, not arrays: the tracker works on floats (bytetrack.py says why),
    a detector's numpy scalars would cost it several times as much, and the lines, which take
    arrays, make theirs only where a camera has any.
    """
    boxes = [
        [
            float(d.x - d.width / 2),
            float(d.y - d.height / 2),
            float(d.x + d.width / 2),
            float(d.y + d.height / 2),
        ]
        for d in detections
    ]
    return boxes, [float(d.confidence) for d in detections]


def to_supervision(sv: Any, detections: Sequence[Detection]) -> Any:
    """Our centre-size boxes as supervision's corner boxes; `data["index"]` maps back.

    `sv` is the supervision module, passed in by callers that imported it already: it is
    heavy, and imported on the pipeline's threads only.
    """
    import numpy as np  # noqa: PLC0415

    if not detections:
        empty = sv.Detections.empty()
        empty.data["index"] = np.array([], dtype=int)
        return empty
    return sv.Detections(
        xyxy=np.array(
            [
                [d.x - d.width / 2, d.y - d.height / 2, d.x + d.width / 2, d.y + d.height / 2]
                for d in detections
            ],
            dtype=np.float32,
        ),
        confidence=np.array([d.confidence for d in detections], dtype=np.float32),
        class_id=np.array([d.class_id for d in detections], dtype=int),
        tracker_id=np.array([d.tracker_id for d in detections], dtype=int)
        if all(d.tracker_id is not None for d in detections)
        else None,
        data={"index": np.arange(len(detections))},
    )
