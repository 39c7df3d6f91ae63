"""Which tracked objects crossed a line this frame, and which way: supervision's rule, on floats.

supervision's `LineZone` (what counted crossings before, and what this follows: tested against
it) rebuilds its anchors, its limits and three cross products through its `Detections` for
every frame and walks the objects one by one; on the dispatch thread, with ten objects and one
line, that was a third of the whole tracking step. Here the three cross products of an object
are a few float operations, which for the handful of objects a camera sees cost less than the
numpy calls that did them for all objects at once.

The rule, for an object's bottom centre (where it stands): it counts only between the two
perpendiculars through the line's ends; its side is which side of the line it is on; the
first side seen is its reference, and a crossing is a sighting on the other side (which then
becomes the reference); a track absent from two frames in a row is forgotten, and its next
sighting is a first one again. Unconfirmed tracks never count.
"""

from __future__ import annotations

from collections.abc import Sequence
import math

_FORGET_AFTER = 2  # frames a track may be absent before its side is forgotten


class LineCounter:
    """One line of one camera (pixels); not thread-safe: the dispatch thread alone uses it."""

    def __init__(self, start: tuple[float, float], end: tuple[float, float]) -> None:
        """Prepare the line from `start` to `end`: in is its left, walking from start to end."""
        self._start = (float(start[0]), float(start[1]))
        self._end = (float(end[0]), float(end[1]))
        self._vector = (self._end[0] - self._start[0], self._end[1] - self._start[1])
        length = math.hypot(*self._vector)
        if length == 0:
            raise ValueError("a line needs two different points")
        self._normal = (-self._vector[1] / length, self._vector[0] / length)
        self._side: dict[int, bool] = {}  # the side each track was first seen or last counted on
        self._absent: dict[int, int] = {}  # frames in a row a known track was not there

    def trigger(
        self, anchors: Sequence[Sequence[float]], tracker_ids: Sequence[int]
    ) -> tuple[list[bool], list[bool]]:
        """Take one frame's anchors `(x, y)` and track ids (-1: unconfirmed): crossed in, out."""
        count = len(tracker_ids)
        crossed_in, crossed_out = [False] * count, [False] * count
        self._forget_absent({t for t in tracker_ids if t >= 0})
        (sx, sy), (ex, ey) = self._start, self._end
        (nx, ny), (vx, vy) = self._normal, self._vector
        for index, ((x, y), key) in enumerate(zip(anchors, tracker_ids, strict=True)):
            if key < 0:
                continue
            # z of normal x (point - start) and of -normal x (point - end): between the
            # perpendiculars through the ends when both have the same sign.
            beyond_start = nx * (y - sy) - ny * (x - sx) > 0
            beyond_end = ny * (x - ex) - nx * (y - ey) > 0
            if beyond_start != beyond_end:
                continue
            side = vx * (y - sy) - vy * (x - sx) < 0  # in: the left of start -> end
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
