"""Run a detector through the real engine on a video file, and score it against ground truth."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
import threading
from typing import Any

from custom_components.nvr_inference.engine.contract.messages import DetectionMessage
from custom_components.nvr_inference.engine.detect.spec import DetectorSpec
from custom_components.nvr_inference.engine.fence.gate import PauseGate
from custom_components.nvr_inference.engine.fence.publisher import FencedPublisher
from custom_components.nvr_inference.engine.pipeline.engine import Engine
from custom_components.nvr_inference.engine.samples.sample_video import GroundTruth
from custom_components.nvr_inference.engine.video.sources import SourceConfig

from ..conftest import CallbackTransport

Found = dict[int, list[dict[str, Any]]]


@dataclass(frozen=True)
class Run:
    """What a run on a video found (detections by 0-based frame index) and the detector used."""

    found: Found
    detector: Any


def run_on_video(video: Path, spec: DetectorSpec, frames: int, timeout: float = 240) -> Run:
    """Run `spec` on every one of the `frames` frames of `video` through the engine.

    Every frame's message is recorded as it is handed to the fenced publisher, so frames without
    detections count too. We wait for all of them rather than for the source's ENDED state:
    that comes when decoding ends, while up to a buffer's worth of frames still await inference.
    """
    gate = PauseGate([0])
    publisher = FencedPublisher(gate, CallbackTransport())
    delivered: dict[int, list[dict[str, Any]]] = {}
    done = threading.Event()

    def deliver(message: DetectionMessage) -> None:
        delivered[message.frame_id - 1] = [d.as_dict() for d in message.detections]
        publisher(message)
        if len(delivered) == frames:
            done.set()

    engine = Engine([SourceConfig(0, str(video))], spec, deliver, gate=gate)
    engine.start()
    try:
        assert done.wait(timeout), f"{len(delivered)} of {frames} frames within {timeout} s"
    finally:
        engine.stop()
    assert publisher.published > 0
    return Run(delivered, engine.runners[0]._detector)


def iou(detection: dict[str, Any], truth: GroundTruth) -> float:
    """Intersection over union of a detection (centre, size) and a ground-truth box."""
    x1, x2 = detection["x"] - detection["width"] / 2, detection["x"] + detection["width"] / 2
    y1, y2 = detection["y"] - detection["height"] / 2, detection["y"] + detection["height"] / 2
    width = max(0.0, min(x2, truth.x2) - max(x1, truth.x1))
    height = max(0.0, min(y2, truth.y2) - max(y1, truth.y1))
    inter = width * height
    union = (x2 - x1) * (y2 - y1) + (truth.x2 - truth.x1) * (truth.y2 - truth.y1) - inter
    return inter / union if union > 0 else 0.0


def centre_inside(detection: dict[str, Any], truth: GroundTruth) -> bool:
    """Return True when the detection's centre lies in the ground-truth box."""
    return truth.contains(detection["x"], detection["y"])


@dataclass(frozen=True)
class Score:
    """Matches over a video: every truth box found once is a hit; the rest miss or are extra."""

    hits: int
    misses: int
    false_alarms: int
    missed_frames: tuple[int, ...]

    @property
    def recall(self) -> float:
        return self.hits / max(1, self.hits + self.misses)

    @property
    def precision(self) -> float:
        return self.hits / max(1, self.hits + self.false_alarms)


def score(
    found: Found,
    truth_at: Callable[[int], list[GroundTruth]],
    frames: int,
    class_name: str,
    match: Callable[[dict[str, Any], GroundTruth], bool],
) -> Score:
    """Match each frame's `class_name` detections to its truth boxes, one to one, greedily."""
    hits = misses = false_alarms = 0
    missed: list[int] = []
    for index in range(frames):
        truth = [t for t in truth_at(index) if t.class_name == class_name]
        detections = [d for d in found.get(index, []) if d["class"] == class_name]
        for box in truth:
            partner = next((d for d in detections if match(d, box)), None)
            if partner is None:
                misses += 1
                missed.append(index)
            else:
                hits += 1
                detections.remove(partner)
        false_alarms += len(detections)
    return Score(hits, misses, false_alarms, tuple(missed))
