"""Run a detector through the real engine on a video file, and score it against ground truth."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
import json
from pathlib import Path
import threading
from typing import Any

from custom_components.nvr_inference.engine.detectors import DetectorSpec
from custom_components.nvr_inference.engine.gate import PauseGate
from custom_components.nvr_inference.engine.publisher import FencedPublisher
from custom_components.nvr_inference.engine.runner import Engine, SourceState
from custom_components.nvr_inference.engine.sample_video import GroundTruth
from custom_components.nvr_inference.engine.sources import SourceConfig

Found = dict[int, list[dict[str, Any]]]


def run_on_video(video: Path, spec: DetectorSpec, timeout: float = 240) -> Found:
    """Run `spec` on every frame of `video` through the engine; detections by 0-based frame index.

    The publisher sends a message for each frame with detections and one empty message when
    they stop, so a frame without a message had no detections.
    """
    gate = PauseGate([0])
    messages: list[dict[str, Any]] = []
    publisher = FencedPublisher(gate, lambda _topic, payload: messages.append(json.loads(payload)))
    ended = threading.Event()
    engine = Engine(
        [SourceConfig(0, str(video))],
        spec,
        publisher,
        gate=gate,
        on_status=lambda status: status.state is SourceState.ENDED and ended.set(),
    )
    engine.start()
    try:
        assert ended.wait(timeout), f"the video did not end within {timeout} s"
    finally:
        engine.stop()
    return {m["frame_id"] - 1: m["detections"] for m in messages}


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
