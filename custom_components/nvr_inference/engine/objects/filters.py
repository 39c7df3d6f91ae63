"""Object filters per camera and class, as Frigate has them: what is not an object at all.

A camera sees things a detector mistakes for objects: a poster of a person, a shadow taken for
a car, a "dog" the size of the whole frame, a "person" lying flat. Frigate's answer, which its
users rely on, is a filter per class, and so is ours:

* `min_score`: one detection scoring less is dropped (on top of the camera's `confidence`,
  which the detector applies to every class: the higher of the two counts);
* `min_area` / `max_area`: the box's area, in pixels, or as a fraction of the frame's when the
  value is at most 1 (so it survives a change of resolution);
* `min_ratio` / `max_ratio`: the box's width over its height (a standing person is about 0.4);
* `masks`: polygons in normalised coordinates (0,0 top left, 1,1 bottom right, like zones): a
  detection whose bottom centre (where it stands) is inside one is dropped. A camera's own
  `masks` apply to every class, a class's to that class;
* `threshold`: not a drop but what makes an *event*: the median of the object's recent
  scores (`computed_score`) must reach it. A detection that flickers up for one frame has a
  median of nothing much, so it never becomes an event.

A dropped detection is gone before anything sees it: not published, not tracked, not counted
(`CameraFilters.apply`, on the pipeline's dispatch thread, before the tracker). Pure Python on
a handful of boxes a frame, so no OpenCV here. The written forms (YAML, the options flow's
text) are `config/filter_text.py`'s.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
import statistics

from ..contract.messages import Detection
from .zones import Point

SCORE_HISTORY = 10
"""Scores of one object the median is taken over (Frigate's): the latest ten."""

SCORE_PADDING = 3
"""Fewer scores than this are padded with zeros first, as Frigate does: an object seen once or
twice has a median of 0, whatever it scored, so it cannot make an event on that alone."""


def computed_score(scores: Sequence[float]) -> float:
    """Return the median of the latest `SCORE_HISTORY` scores, padded with zeros to three."""
    recent = list(scores[-SCORE_HISTORY:])
    recent += [0.0] * (SCORE_PADDING - len(recent))
    return float(statistics.median(recent))


@dataclass(frozen=True, slots=True)
class Mask:
    """A polygon where objects are not looked for, in normalised coordinates."""

    points: tuple[Point, ...]

    def contains(self, x: float, y: float) -> bool:
        """Return True when the normalised point is inside (even-odd rule; an edge counts)."""
        inside = False
        points = self.points
        for (x1, y1), (x2, y2) in zip(points, (*points[1:], points[0]), strict=True):
            if (x1, y1) == (x, y):
                return True
            if (y1 > y) != (y2 > y):
                crossing = x1 + (y - y1) * (x2 - x1) / (y2 - y1)
                if crossing == x:
                    return True
                if crossing > x:
                    inside = not inside
        return inside


def _bound(value: float, frame_area: float) -> float:
    """Return an area bound in pixels: a value of at most 1 is a fraction of the frame."""
    return value * frame_area if value <= 1.0 else value


@dataclass(frozen=True, slots=True)
class ObjectFilter:
    """Frigate's filters for one class of one camera (the defaults keep everything)."""

    min_score: float = 0.0
    threshold: float = 0.0
    min_area: float = 0.0
    max_area: float | None = None
    min_ratio: float = 0.0
    max_ratio: float | None = None
    masks: tuple[Mask, ...] = ()

    def drops(self, det: Detection, width: int, height: int) -> str | None:
        """Return why this filter drops `det` in a `width` x `height` frame, or None."""
        area, frame_area = det.width * det.height, float(width * height)
        ratio = det.width / det.height if det.height > 0 else float("inf")
        checks = (
            ("min_score", det.confidence < self.min_score),
            ("min_area", area < _bound(self.min_area, frame_area)),
            ("max_area", self.max_area is not None and area > _bound(self.max_area, frame_area)),
            ("min_ratio", ratio < self.min_ratio),
            ("max_ratio", self.max_ratio is not None and ratio > self.max_ratio),
        )
        failed = next((name for name, hit in checks if hit), None)
        if failed is None and self.masks and _in_any(self.masks, det, width, height):
            return "mask"
        return failed


def _in_any(masks: Sequence[Mask], det: Detection, width: int, height: int) -> bool:
    """Return True when the box's bottom centre lies in one of `masks`."""
    x = det.x / max(width - 1, 1)
    y = (det.y + det.height / 2) / max(height - 1, 1)
    return any(mask.contains(x, y) for mask in masks)


@dataclass(frozen=True, slots=True)
class CameraFilters:
    """One camera's masks (every class) and its filters by class."""

    masks: tuple[Mask, ...] = ()
    by_class: Mapping[str, ObjectFilter] = field(default_factory=dict)

    def __bool__(self) -> bool:
        """Return True when anything is set."""
        return bool(self.masks or self.by_class)

    def drops(self, det: Detection, width: int, height: int) -> str | None:
        """Return which filter drops `det` (`mask`, `min_area`, ...), or None to keep it."""
        if self.masks and _in_any(self.masks, det, width, height):
            return "mask"
        rule = self.by_class.get(det.class_name)
        return rule.drops(det, width, height) if rule is not None else None

    def apply(
        self, detections: Sequence[Detection], width: int, height: int
    ) -> tuple[Detection, ...]:
        """Return the detections no filter drops, the same objects in the same order.

        The very objects, not copies: the tracker knows a frame the motion gate held by
        its detections being the same objects as the frame before.
        """
        if not self:
            return tuple(detections)
        return tuple(d for d in detections if self.drops(d, width, height) is None)

    def threshold(self, class_name: str) -> float:
        """Return the median score an object of this class needs to become an event."""
        rule = self.by_class.get(class_name)
        return rule.threshold if rule is not None else 0.0
