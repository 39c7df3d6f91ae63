"""Zone rules on the objects scene's ground truth: inertia, loitering_time, required_zones.

The scene's truth (engine/samples/objects_scene.py) is fed to the event engine as tracked
detections, at the scene's 10 fps, with each box's zones taken from its bottom centre as the
tracker does. The person walks in from the left edge (frames 40-49, centre x 0.125 -> 0.175),
stands until frame 179 and walks out (180-189); a zone from x = 0.15 is entered at the frame
its bottom centre crosses 0.15 and left when it crosses back. The motorcycle and the cat stay
right of x = 0.3, so they never enter it.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
import json
from typing import Any

import pytest

from custom_components.nvr_inference.engine.config.camera import CameraSettings
from custom_components.nvr_inference.engine.contract.messages import Detection, DetectionMessage
from custom_components.nvr_inference.engine.objects.events import EventEngine
from custom_components.nvr_inference.engine.objects.filters import Mask
from custom_components.nvr_inference.engine.objects.tracking import TrackingOptions
from custom_components.nvr_inference.engine.objects.zones import parse_zones
from custom_components.nvr_inference.engine.samples.objects_scene import (
    OBJECTS_FPS,
    OBJECTS_FRAMES,
    objects_at,
)
from custom_components.nvr_inference.engine.samples.sample_video import SAMPLE_SIZE
from custom_components.nvr_inference.engine.video.sources import SourceConfig

pytestmark = [pytest.mark.pipeline]  # OpenCV, streamvision or trackers: not on 3.14

WIDTH, HEIGHT = SAMPLE_SIZE
DOOR = "door: 0.15,0.5 0.3,0.5 0.3,1 0.15,1"
IDS = {"person": 1, "motorcycle": 2, "cat": 3}
START = datetime(2026, 12, 2, 10, tzinfo=UTC)
TAIL = 80  # empty frames after the scene: every event ends (end_after 5 s)


def _in_door(det: Detection) -> bool:
    door = Mask(parse_zones(DOOR).zones[0].points)
    return door.contains(det.x / (WIDTH - 1), (det.y + det.height / 2) / (HEIGHT - 1))


def _frame(index: int) -> list[Detection]:
    truth = objects_at(index) if index < OBJECTS_FRAMES else []
    out = []
    for t in truth:
        det = Detection.from_corners(
            class_name=t.class_name,
            class_id=0,
            confidence=0.9,
            x1=t.x1,
            y1=t.y1,
            x2=t.x2,
            y2=t.y2,
            tracker_id=IDS[t.class_name],
        )
        out.append(replace(det, zones=("door",) if _in_door(det) else ()))
    return out


class Run:
    """The scene through one event engine; what it published, frame by frame."""

    def __init__(self, zone: str = DOOR, camera: CameraSettings | None = None) -> None:
        self.engine = EventEngine(
            base_topic="nvr",
            sources={0: SourceConfig(0, "objects.avi", "Hall")},
            zones={0: parse_zones(zone)},
            classes=("car", "cat", "dog", "motorcycle", "person"),
            options=TrackingOptions(min_frames=3, end_after=5.0),
            cameras={0: camera} if camera else None,
        )
        self.events: list[tuple[int, dict[str, Any]]] = []
        self.counts: list[tuple[int, int]] = []  # (frame, the door's person count) on change
        self.in_view: list[int] = []  # people in the door, by the frame's own boxes
        for index in range(OBJECTS_FRAMES + TAIL):
            dets = _frame(index)
            message = DetectionMessage(
                source_id=0,
                frame_id=index + 1,
                frame_timestamp=START + timedelta(seconds=index / OBJECTS_FPS),
                model_id="objects",
                image_width=WIDTH,
                image_height=HEIGHT,
                detections=tuple(dets),
            )
            for out in self.engine.on_frame(message):
                body = json.loads(out.payload)
                if out.topic == "nvr/events":
                    self.events.append((index, body))
                elif out.topic.endswith("/zones"):
                    self.counts.append((index, body["door"]["person"]))
            self.in_view.append(sum(d.class_name == "person" and bool(d.zones) for d in dets))

    def entered(self) -> list[int]:
        return [i for i, e in self.events if "door" in e["entered"]]

    def left(self) -> list[int]:
        return [i for i, e in self.events if "door" in e["left"]]


def _truth_inside() -> list[int]:
    return [
        i
        for i in range(OBJECTS_FRAMES)
        if any(d.class_name == "person" and d.zones for d in _frame(i))
    ]


def test_the_truth_enters_and_leaves_the_door_once() -> None:
    inside = _truth_inside()
    assert inside == list(range(inside[0], inside[-1] + 1))
    assert (inside[0], inside[-1]) == (45, 184)
    others = [d for i in range(OBJECTS_FRAMES) for d in _frame(i) if d.class_name != "person"]
    assert not any(d.zones for d in others)


def test_inertia_counts_an_object_from_its_third_frame_inside() -> None:
    first, last = _truth_inside()[0], _truth_inside()[-1]
    default = Run()  # inertia 3
    assert default.entered() == [first + 2]
    assert default.left() == [last + 1]  # out of the zone at the first frame outside
    one = Run(DOOR + " | inertia=1")
    assert one.entered() == [first]
    ten = Run(DOOR + " | inertia=10")
    assert ten.entered() == [first + 9]


def test_loitering_time_counts_an_object_after_that_long_inside() -> None:
    first = _truth_inside()[0]
    run = Run(DOOR + " | loitering_time=2")
    assert run.entered() == [first + int(2 * OBJECTS_FPS)]  # 2 s at 10 fps
    assert run.counts[0] == (first + 20, 1)


def test_required_zones_publish_only_the_objects_that_entered_one() -> None:
    everyone = Run()
    assert sorted(e["after"]["label"] for _, e in everyone.events if e["type"] == "new") == [
        "cat",
        "motorcycle",
        "person",
    ]
    door = Run(camera=CameraSettings(required_zones=("door",)))
    kinds = [(e["type"], e["after"]["label"]) for _, e in door.events]
    assert {label for _, label in kinds} == {"person"}  # the cat and the motorcycle: nothing
    first = _truth_inside()[0]
    new = next(i for i, e in door.events if e["type"] == "new")
    assert new == first + 2  # published once it entered (inertia 3), with the zone entered
    assert door.events[0][1]["entered"] == ["door"]
    assert kinds[-1] == ("end", "person")


def test_the_zone_count_follows_the_objects_in_view() -> None:
    run = Run(DOOR + " | inertia=1")
    # Never more in the zone than the frame's own boxes show, and 0 at the first frame the
    # person is out of it, seconds before the event ends.
    counted = 0
    changes = dict(run.counts)
    for index, in_view in enumerate(run.in_view):
        counted = changes.get(index, counted)
        assert counted <= in_view, index
    last_inside = _truth_inside()[-1]
    assert run.counts[-1] == (last_inside + 1, 0)
    end = next(i for i, e in run.events if e["type"] == "end" and e["after"]["label"] == "person")
    assert end > last_inside + 1 + 4 * OBJECTS_FPS  # the event ended ~5 s after it was last seen
