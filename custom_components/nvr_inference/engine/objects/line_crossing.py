"""Which tracked objects crossed a line this frame, and which way: supervision's rule, in arrays.

supervision's `LineZone` (what counted crossings before, and what this follows: tested against
it) rebuilds its anchors, its limits and three cross products through its `Detections` for
every frame and walks the objects one by one; on the dispatch thread, with ten objects and one
line, that was a third of the whole tracking step. Here the sides of all objects are one
vectorised computation and only the per-track memory is a loop.

The rule, for an object's bottom centre (where it stands): it counts only between the two
perpendiculars through the line's ends; its side is which side of the line it is on; the
first side seen is its reference, and a crossing is a sighting on the other side (which then
becomes the reference); a track absent from two frames in a row is forgotten, and its next
sighting is a first one again. Unconfirmed tracks never count.
"""

from __future__ import annotations

from typing import Any

import numpy as np

_FORGET_AFTER = 2  # frames a track may be absent before its side is forgotten


def _cross(points: Any, origin: Any, vector: Any) -> Any:
    """Return the z of vector x (point - origin) for each point (supervision's sign)."""
    diff = points - origin
    return vector[0] * diff[:, 1] - vector[1] * diff[:, 0]


class LineCounter:
    """One line of one camera (pixels); not thread-safe: the dispatch thread alone uses it."""

    def __init__(self, start: tuple[float, float], end: tuple[float, float]) -> None:
        """Prepare the line from `start` to `end`: in is its left, walking from start to end."""
        self._start = np.array(start, dtype=np.float64)
        self._end = np.array(end, dtype=np.float64)
        self._vector = self._end - self._start
        length = float(np.hypot(*self._vector))
        if length == 0:
            raise ValueError("a line needs two different points")
        self._normal = np.array([-self._vector[1], self._vector[0]]) / length
        self._side: dict[int, bool] = {}  # the side each track was first seen or last counted on
        self._absent: dict[int, int] = {}  # frames in a row a known track was not there

    def trigger(self, anchors: Any, tracker_ids: Any) -> tuple[Any, Any]:
        """Take one frame's anchors (N, 2) and track ids (N, -1: unconfirmed): crossed in, out."""
        count = len(tracker_ids)
        crossed_in = np.zeros(count, dtype=bool)
        crossed_out = np.zeros(count, dtype=bool)
        confirmed = tracker_ids >= 0
        self._forget_absent({int(t) for t in tracker_ids[confirmed]})
        if count == 0:
            return crossed_in, crossed_out
        points = np.asarray(anchors, dtype=np.float64).reshape(count, 2)
        beyond_start = _cross(points, self._start, self._normal) > 0
        beyond_end = _cross(points, self._end, -self._normal) > 0
        counted = confirmed & (beyond_start == beyond_end)
        inside = _cross(points, self._start, self._vector) < 0
        for index in np.flatnonzero(counted):
            key, side = int(tracker_ids[index]), bool(inside[index])
            if self._side.setdefault(key, side) == side:  # a first sighting never crosses
                continue
            self._side[key] = side
            (crossed_in if side else crossed_out)[index] = True
        return crossed_in, crossed_out

    def _forget_absent(self, present: set[int]) -> None:
        for key in list(self._side):
            if key in present:
                self._absent.pop(key, None)
                continue
            absent = self._absent.get(key, 0) + 1
            if absent >= _FORGET_AFTER:
                del self._side[key]
                self._absent.pop(key, None)
            else:
                self._absent[key] = absent
