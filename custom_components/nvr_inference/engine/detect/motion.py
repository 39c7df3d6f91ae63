"""`motion`: moving regions from OpenCV's MOG2 background subtractor (nothing to download)."""

from __future__ import annotations

import cv2

from ..contract.messages import Detection
from ..video.sources import Frame
from .spec import Detector, DetectorSpec


class MotionDetector:
    """Moving regions from OpenCV's MOG2 background subtractor (class `motion`).

    Why MOG2: it ships with OpenCV, adapts to slow lighting changes, and runs at hundreds of
    frames per second at 640x480 on one core. Frames are analysed at half size; tiny blobs
    (noise, compression artefacts) are ignored. Confidence is the share of moving pixels in
    the box, so a solid moving object scores near 1.
    """

    model_id = "motion"

    def __init__(self, min_area_ratio: float = 0.002, scale: float = 0.5) -> None:
        """Create the subtractor; `min_area_ratio` is the smallest box as a share of the frame.

        The first frame only teaches the subtractor the background (MOG2 calls everything
        foreground at first), so it yields no detections.
        """
        self._learned = False
        self._subtractor = cv2.createBackgroundSubtractorMOG2(
            history=200, varThreshold=32, detectShadows=False
        )
        self._kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (5, 5))
        self._min_area_ratio = min_area_ratio
        self._scale = scale

    def __call__(self, image: Frame) -> list[Detection]:
        """Return one `motion` box per moving region."""
        small = cv2.resize(image, None, fx=self._scale, fy=self._scale)
        mask = self._subtractor.apply(small)
        if not self._learned:
            self._learned = True
            return []
        mask = cv2.morphologyEx(mask, cv2.MORPH_OPEN, self._kernel)
        mask = cv2.dilate(mask, self._kernel, iterations=2)
        contours, _ = cv2.findContours(mask, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
        min_area = self._min_area_ratio * mask.shape[0] * mask.shape[1]
        inv = 1.0 / self._scale
        found = []
        for contour in contours:
            x, y, w, h = cv2.boundingRect(contour)
            if w * h < min_area:
                continue
            filled = cv2.countNonZero(mask[y : y + h, x : x + w]) / float(w * h)
            found.append(
                Detection.from_corners(
                    class_name="motion",
                    class_id=0,
                    confidence=min(1.0, filled),
                    x1=x * inv,
                    y1=y * inv,
                    x2=(x + w) * inv,
                    y2=(y + h) * inv,
                )
            )
        return found


def create(_spec: DetectorSpec) -> Detector:
    """Build a fresh `motion` detector (each source gets its own: MOG2 keeps state)."""
    return MotionDetector()
