"""`face`: frontal faces from the Haar cascade that opencv-python ships in `cv2.data`."""

from __future__ import annotations

import cv2

from ..contract.messages import Detection
from ..errors import DetectorError
from ..video.sources import Frame
from .spec import Detector, DetectorSpec


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


def create(_spec: DetectorSpec) -> Detector:
    """Build a `face` detector (the cascade loads from the installed OpenCV)."""
    return FaceDetector()
