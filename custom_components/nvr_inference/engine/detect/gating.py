"""Motion-gated detection: run a heavy detector only where the picture changed.

A camera watches a still scene most of the time, and running a 20-40 ms detector on every frame
of every camera is what makes a small machine give up. Frigate's answer, and ours: look for
change first (about 1 ms), and run the detector only when something changed, and only on the
region that changed (with a margin), mapping its boxes back to the frame.

What is reported on a frame where the detector did not run: the detections of the last frame it
did run on, for the parts of the picture that have not changed since. That is exact, not a
guess: if no pixel of a region changed, what was in it is still there. So a person standing
still keeps being reported frame after frame, exactly as without gating, for the cost of a frame
difference. A full-frame pass every `full_frame_interval` seconds (and on the first frame) makes
sure that slow changes below the change threshold (light drifting over minutes, an object that
crept in) are seen within that interval.

Change is a frame difference (the current frame against the previous one, both small, blurred
and grey), not the `motion` detector's MOG2 background model: MOG2 stops calling a pixel
foreground once it goes back to the background it learned, so a person leaving a spot would not
count as a change there, and her held box would linger until the next full-frame pass. A
difference sees both her arrival and her departure.

Paused sources cost nothing here either: the runner drops their frames before any detector.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
import math
import time

import cv2
import numpy as np

from ..contract.messages import Detection
from ..video.sources import Frame
from .spec import Detector

Box = tuple[int, int, int, int]  # x1, y1, x2, y2 in frame pixels, x2/y2 exclusive


@dataclass(frozen=True, slots=True)
class GatingOptions:
    """How the gate decides where to run the detector."""

    full_frame_interval: float = 10.0  # seconds between full-frame passes
    region_only: bool = True  # run on the changed region only (else on the whole frame)
    margin: float = 0.25  # grow the changed region by this share of its size on each side
    min_region: float = 1 / 3  # the region is at least this share of the frame's width/height
    max_region_area: float = 0.5  # a region larger than this share of the frame: whole frame
    change_width: int = 320  # frames are compared at about this width (pixels)
    change_threshold: int = 18  # grey-level difference that counts as a change
    min_change_area: float = 0.0005  # smallest changed blob, as a share of the frame


@dataclass(slots=True)
class GateCounts:
    """How many frames took each path (for tests and benchmarks)."""

    full: int = 0  # the detector ran on the whole frame
    region: int = 0  # the detector ran on a changed region
    held: int = 0  # nothing changed: the last detections were reported again


class ChangeDetector:
    """Regions that differ from the previous frame (small, blurred, grey frame difference)."""

    def __init__(self, options: GatingOptions) -> None:
        """Remember nothing yet: the first frame has no previous one to differ from."""
        self._options = options
        self._previous: np.ndarray | None = None
        self._kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (5, 5))

    def __call__(self, image: Frame) -> list[Box] | None:
        """Return the changed regions in frame pixels; None for the first frame (or a new size)."""
        height, width = image.shape[:2]
        scale = min(1.0, self._options.change_width / max(width, 1))
        # Bilinear, not area averaging: 5x cheaper at 720p (0.4 ms against 1.8), and the blur
        # below does the averaging that keeps sensor noise under the threshold.
        small = cv2.resize(image, None, fx=scale, fy=scale, interpolation=cv2.INTER_LINEAR)
        grey = cv2.GaussianBlur(cv2.cvtColor(small, cv2.COLOR_BGR2GRAY), (5, 5), 0)
        previous, self._previous = self._previous, grey
        if previous is None or previous.shape != grey.shape:
            return None
        diff = cv2.absdiff(grey, previous)
        _, mask = cv2.threshold(diff, self._options.change_threshold, 255, cv2.THRESH_BINARY)
        mask = cv2.dilate(mask, self._kernel, iterations=2)
        contours, _ = cv2.findContours(mask, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
        min_area = self._options.min_change_area * mask.shape[0] * mask.shape[1]
        inv = 1.0 / scale
        boxes = []
        for contour in contours:
            x, y, w, h = cv2.boundingRect(contour)
            if w * h >= min_area:
                boxes.append(
                    (
                        int(x * inv),
                        int(y * inv),
                        min(width, int((x + w) * inv + 1)),
                        min(height, int((y + h) * inv + 1)),
                    )
                )
        return boxes


def _overlaps(detection: Detection, box: Box) -> bool:
    x1, y1, x2, y2 = detection.corners()
    return x1 < box[2] and box[0] < x2 and y1 < box[3] and box[1] < y2


def _union(boxes: Sequence[Box]) -> Box:
    return (
        min(b[0] for b in boxes),
        min(b[1] for b in boxes),
        max(b[2] for b in boxes),
        max(b[3] for b in boxes),
    )


def _grow(length: int, start: int, end: int, want: int) -> tuple[int, int]:
    """Widen [start, end) to `want` pixels around its middle, kept inside [0, length)."""
    want = min(want, length)
    if end - start >= want:
        return start, end
    start = max(0, (start + end - want) // 2)
    end = start + want
    if end > length:
        start, end = length - want, length
    return start, end


def _with_touched(region: Box, held: Sequence[Detection], size: tuple[int, int]) -> Box:
    """Return `region` joined with the box of every held detection it overlaps (in the frame)."""
    touched = [d.corners() for d in held if _overlaps(d, region)]
    x1, y1, x2, y2 = _union(
        [region, *[(int(c[0]), int(c[1]), int(c[2]) + 1, int(c[3]) + 1) for c in touched]]
    )
    return max(0, x1), max(0, y1), min(size[0], x2), min(size[1], y2)


def region_to_run(
    changed: Sequence[Box], held: Sequence[Detection], size: tuple[int, int], options: GatingOptions
) -> Box | None:
    """Return where to run the detector for these changes, or None for the whole frame.

    The changed boxes are joined, together with every held detection they touch (an object
    that moved partly out of its old box is looked at whole); the result gets a margin, a
    minimum size, and an aspect ratio within 1.5x of the frame's (the detector resizes its
    input, and a sliver would be stretched out of shape). Last, it takes in whole every other
    held object that margin reached into: the held detections inside the region are replaced by
    what the detector finds there, so an object it saw cut in half would be lost until the next
    full-frame pass (a parked motorcycle beside a person walking in).
    """
    width, height = size
    region = _with_touched(_union(changed), held, size)
    x1, y1, x2, y2 = region
    pad_x, pad_y = int(options.margin * (x2 - x1)), int(options.margin * (y2 - y1))
    x1, y1 = max(0, x1 - pad_x), max(0, y1 - pad_y)
    x2, y2 = min(width, x2 + pad_x), min(height, y2 + pad_y)
    want_w = max(x2 - x1, int(options.min_region * width))
    want_h = max(y2 - y1, int(options.min_region * height))
    frame_aspect = width / height
    want_w = max(want_w, math.ceil(want_h * frame_aspect / 1.5))
    want_h = max(want_h, math.ceil(want_w / frame_aspect / 1.5))
    x1, x2 = _grow(width, x1, x2, want_w)
    y1, y2 = _grow(height, y1, y2, want_h)
    region = x1, y1, x2, y2
    while (grown := _with_touched(region, held, size)) != region:
        region = grown
    x1, y1, x2, y2 = region
    if (x2 - x1) * (y2 - y1) > options.max_region_area * width * height:
        return None
    return region


class MotionGatedDetector:
    """A heavy detector behind a change gate (see the module's docstring).

    Called on the pipeline's inference thread only, like any detector; `clock` is injectable so
    tests need not wait for the full-frame interval.
    """

    def __init__(
        self,
        inner: Detector,
        options: GatingOptions | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        """Gate `inner`; its model id is ours."""
        self.model_id = inner.model_id
        self.counts = GateCounts()
        self._inner = inner
        self._options = options or GatingOptions()
        self._clock = clock
        self._change = ChangeDetector(self._options)
        self._held: list[Detection] = []
        self._last_full = float("-inf")

    def __call__(self, image: Frame) -> list[Detection]:
        """Run the detector where the frame changed; report held detections elsewhere."""
        height, width = image.shape[:2]
        changed = self._change(image)
        now = self._clock()
        if changed is None or now - self._last_full >= self._options.full_frame_interval:
            return self._run_full(image, now)
        if not changed:
            self.counts.held += 1
            return list(self._held)
        region = (
            region_to_run(changed, self._held, (width, height), self._options)
            if self._options.region_only
            else None
        )
        if region is None:
            return self._run_full(image, now)
        self.counts.region += 1
        x1, y1, x2, y2 = region
        found = [replace(d, x=d.x + x1, y=d.y + y1) for d in self._inner(image[y1:y2, x1:x2])]
        self._held = [d for d in self._held if not _overlaps(d, region)] + found
        return list(self._held)

    def _run_full(self, image: Frame, now: float) -> list[Detection]:
        self.counts.full += 1
        self._last_full = now
        self._held = self._inner(image)
        return list(self._held)
