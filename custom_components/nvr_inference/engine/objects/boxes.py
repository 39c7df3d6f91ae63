"""Our detections as corner boxes: what the tracker, the zones and the lines take.

Our messages give a box by its centre and size (the contract's convention, and Roboflow's);
ByteTrack, the zone masks and the line counters work on corners `x1, y1, x2, y2`.
"""

from __future__ import annotations

from collections.abc import Sequence

from ..contract.messages import Detection


def corners(detections: Sequence[Detection]) -> tuple[list[list[float]], list[float]]:
    """Our centre-size boxes as corner boxes `[x1, y1, x2, y2]` and their scores: what tracks.

    Python floats in lists, not arrays: the tracker, the zones and the lines work on floats
    (bytetrack.py says why), where a detector's numpy scalars would cost several times as much.
    """
    boxes = []
    for det in detections:
        x1, y1, x2, y2 = det.corners()
        boxes.append([float(x1), float(y1), float(x2), float(y2)])
    return boxes, [float(d.confidence) for d in detections]
