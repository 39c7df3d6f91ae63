"""`objects`: the 80 COCO classes offline, from Google's SSD MobileNet v2 run by LiteRT.

Camera owners automate on cars, dogs and cats as well as people; Frigate ships a COCO model
for the CPU and so do we: Google's quantized SSD MobileNet v2 COCO with its detection
post-processing built into the TFLite file (`model_files.py` says where the file comes from and
checks it). It reports person, car, dog and cat unless `classes` asks for others, under
Frigate's label names (so automations port).

The runtime is Google's LiteRT (`ai-edge-litert`, the successor of `tflite-runtime`): its
XNNPACK delegate runs this uint8 model in about 20 ms a 640x480 frame on one thread, where
`tflite-runtime` 2.14 took 300 ms and OpenCV's TFLite importer refuses uint8 tensors. One
thread per camera: a machine with several cameras spreads them over its cores, and the motion
gate (`gating.py`) keeps a still camera near zero.

A 2018 model, about 22 COCO mAP: good enough for a default, not state of the art. Small or
far objects are its weak spot (the frame is squeezed to 300x300, as the model was trained);
a frame wider than about 4:3 is therefore looked at through 4:3 windows (`windows`).
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from ..contract.messages import Detection
from ..errors import DetectorError
from ..video.sources import Frame
from .model_files import COCO_CLASS_IDS, COCO_LABELMAP, coco_model_path
from .spec import Detector, DetectorSpec

INPUT_SIZE = 300
MAX_ASPECT = 4 / 3  # the widest window the model sees whole (see `windows`)
Box = tuple[float, float, float, float]  # x1, y1, x2, y2 in pixels
RUNTIME_HINT = "pip install ai-edge-litert==2.3.0 (Google's LiteRT; see docs/detectors.md)"


def load_interpreter(path: Path, num_threads: int = 1) -> Any:
    """Load the model into a LiteRT interpreter, its tensors allocated."""
    try:
        from ai_edge_litert.interpreter import Interpreter  # noqa: PLC0415 - only when chosen
    except ImportError as err:
        raise DetectorError(f"the objects detector needs LiteRT ({err}): {RUNTIME_HINT}") from err
    try:
        interpreter = Interpreter(model_path=str(path), num_threads=num_threads)
        interpreter.allocate_tensors()
    except (RuntimeError, ValueError) as err:
        raise DetectorError(f"cannot load the objects model from {path}: {err}") from err
    return interpreter


class ObjectsDetector:
    """COCO objects, boxes in the frame's pixels (class names Frigate's, see `model_files`).

    The frame is resized to the model's 300x300 RGB input (no letterbox: the model was trained
    on stretched images). The post-processing inside the model returns its 20 best boxes,
    already through non-maximum suppression; we keep those of the wanted classes at or above
    the confidence.
    """

    model_id = "objects"

    def __init__(
        self,
        classes: frozenset[str],
        confidence: float = 0.5,
        model: Path | None = None,
        num_threads: int = 1,
    ) -> None:
        """Load the model (from the models folder unless `model` is given)."""
        self._interpreter = load_interpreter(model or coco_model_path(), num_threads)
        (image,) = self._interpreter.get_input_details()
        if tuple(image["shape"]) != (1, INPUT_SIZE, INPUT_SIZE, 3) or image["dtype"] != np.uint8:
            raise DetectorError(f"the objects model's input is not 300x300 uint8: {image}")
        self._input = image["index"]
        # The post-processing op's outputs, in its documented order: boxes, classes, scores, count.
        outputs = sorted(self._interpreter.get_output_details(), key=lambda d: d["name"])
        self._boxes, self._classes, self._scores, self._count = (d["index"] for d in outputs)
        self._wanted = {k for k, name in COCO_LABELMAP.items() if name in classes}
        self._confidence = confidence

    def __call__(self, image: Frame) -> list[Detection]:
        """Return one box per wanted object found, window by window (see `windows`)."""
        height, width = image.shape[:2]
        found: list[tuple[Box, bool, int, float]] = []
        for wx1, wy1, wx2, wy2 in windows(width, height):
            for (x1, y1, x2, y2), key, score in self._run(image[wy1:wy2, wx1:wx2]):
                # Cut by a window's side inside the frame: the next window sees it whole.
                cut = (x1 < 1 < wx1) or (wx2 - wx1 - x2 < 1 and wx2 < width)
                cut = cut or (y1 < 1 < wy1) or (wy2 - wy1 - y2 < 1 and wy2 < height)
                box = (x1 + wx1, y1 + wy1, x2 + wx1, y2 + wy1)
                found.append((box, cut, key, score))
        kept: list[tuple[Box, bool, int, float]] = []
        for candidate in sorted(found, key=lambda f: (f[1], -f[3])):
            if not any(_same_object(candidate, other) for other in kept):
                kept.append(candidate)
        return [_detection(box, key, score) for box, _cut, key, score in kept]

    def _run(self, image: Frame) -> list[tuple[Box, int, float]]:
        """Run the model once on `image`: wanted boxes at or above the confidence, in pixels."""
        height, width = image.shape[:2]
        rgb = cv2.cvtColor(
            cv2.resize(image, (INPUT_SIZE, INPUT_SIZE), interpolation=cv2.INTER_LINEAR),
            cv2.COLOR_BGR2RGB,
        )
        interpreter = self._interpreter
        interpreter.set_tensor(self._input, rgb[np.newaxis])
        interpreter.invoke()
        count = int(interpreter.get_tensor(self._count)[0])
        boxes = interpreter.get_tensor(self._boxes)[0][:count].tolist()
        ids = interpreter.get_tensor(self._classes)[0][:count].tolist()
        scores = interpreter.get_tensor(self._scores)[0][:count].tolist()
        found = []
        for (top, left, bottom, right), key, score in zip(boxes, ids, scores, strict=True):
            if int(key) not in self._wanted or score < self._confidence:
                continue
            x1, x2 = min(max(left, 0.0), 1.0) * width, min(max(right, 0.0), 1.0) * width
            y1, y2 = min(max(top, 0.0), 1.0) * height, min(max(bottom, 0.0), 1.0) * height
            if x2 > x1 and y2 > y1:
                found.append(((x1, y1, x2, y2), int(key), float(score)))
        return found


def windows(width: int, height: int) -> list[tuple[int, int, int, int]]:
    """Return the windows the model runs on: the frame, or 4:3 windows along a wide one.

    The model was trained on COCO's photos (mostly 4:3) stretched to 300x300. A 16:9 frame
    squeezed the same way makes objects both narrower than it learned and smaller: on the
    objects scene at 1280x720 the whole-frame pass found no motorcycle and 4 people in 50
    frames. So a frame wider (or taller) than about 4:3 is covered by 4:3 windows that overlap
    by at least half (two for 16:9: twice the work, each object whole in at least one).
    """
    long_side, short_side = max(width, height), min(width, height)
    side = round(short_side * MAX_ASPECT)
    if long_side <= side * 1.1:
        return [(0, 0, width, height)]
    count = math.ceil((long_side - side) / (side / 2)) + 1
    starts = [round(i * (long_side - side) / (count - 1)) for i in range(count)]
    if width >= height:
        return [(start, 0, start + side, height) for start in starts]
    return [(0, start, width, start + side) for start in starts]


def _same_object(
    candidate: tuple[Box, bool, int, float], kept: tuple[Box, bool, int, float]
) -> bool:
    """Return True when `candidate` is `kept` seen again (from an overlapping window).

    The same class and IoU above 0.5; or, for a box cut by its window's side, most of it
    inside the kept one (the part of an object that the next window saw whole).
    """
    (box, cut, key, _score), (other, _cut, other_key, _other_score) = candidate, kept
    if COCO_LABELMAP[key] != COCO_LABELMAP[other_key]:
        return False
    width = min(box[2], other[2]) - max(box[0], other[0])
    height = min(box[3], other[3]) - max(box[1], other[1])
    if width <= 0 or height <= 0:
        return False
    inter = width * height
    area = (box[2] - box[0]) * (box[3] - box[1])
    other_area = (other[2] - other[0]) * (other[3] - other[1])
    return inter / (area + other_area - inter) > 0.5 or (cut and inter / area > 0.5)


def _detection(box: Box, key: int, score: float) -> Detection:
    name = COCO_LABELMAP[key]
    x1, y1, x2, y2 = box
    return Detection.from_corners(
        class_name=name,
        class_id=COCO_CLASS_IDS[name],
        confidence=score,
        x1=x1,
        y1=y1,
        x2=x2,
        y2=y2,
    )


def create(spec: DetectorSpec) -> Detector:
    """Build an `objects` detector for `spec`'s classes (person, car, dog, cat by default)."""
    return ObjectsDetector(spec.wanted_classes, confidence=spec.confidence)
