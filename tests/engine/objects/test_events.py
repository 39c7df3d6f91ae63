"""Tracked objects, events and zones on the real pipeline, judged by the sample's ground truth.

The sample scene (engine/samples/sample_video.py) has two drawn faces: one on frames 10-69 drifting
right, one on frames 40-99. With the face detector and tracking, each must become exactly one
event: `new` within `min_frames` (plus the tracker's one-frame confirmation) of its first frame,
`end` after its last, and a zone on the right half entered by the first face at a known frame.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
import json
from pathlib import Path
import re
import threading
from typing import Any

import pytest

from custom_components.nvr_inference.engine.detect.spec import parse_detector
from custom_components.nvr_inference.engine.fence.gate import PauseGate
from custom_components.nvr_inference.engine.fence.publisher import FencedPublisher
from custom_components.nvr_inference.engine.objects.events import EventEngine
from custom_components.nvr_inference.engine.objects.tracking import TrackingError, TrackingOptions
from custom_components.nvr_inference.engine.objects.zones import (
    SourceZones,
    ZoneError,
    format_zones,
    parse_zones,
    validate_zones,
    zones_from_dict,
)
from custom_components.nvr_inference.engine.pipeline.engine import Engine
from custom_components.nvr_inference.engine.pipeline.runner import RunnerOptions
from custom_components.nvr_inference.engine.pipeline.source_status import SourceState
from custom_components.nvr_inference.engine.samples.sample_video import SCENE, objects_at
from custom_components.nvr_inference.engine.video.sources import SourceConfig

from ...conftest import CallbackTransport, Recorder

pytestmark = [pytest.mark.pipeline, pytest.mark.usefixtures("no_thread_left_behind")]

MIN_FRAMES = 3
RIGHT_HALF = "right: 0.30,0.50 1,0.50 1,0.80 0.30,0.80"
FACES = [obj for obj in SCENE if obj.class_name == "face"]


class EventRun:
    """The engine on one source, its publisher with an event engine, everything recorded."""

    def __init__(self, video: Path, zones: SourceZones, end_after: float = 0.5) -> None:
        self.sent = Recorder()
        self.statuses = Recorder()
        source = SourceConfig(0, str(video), name="Porch")
        options = TrackingOptions(min_frames=MIN_FRAMES, end_after=end_after)
        self.gate = PauseGate([0])
        self.events = EventEngine(
            base_topic="nvr",
            sources={0: source},
            zones={0: zones},
            classes=("face",),
            options=options,
        )
        self.publisher = FencedPublisher(
            self.gate, CallbackTransport(self._record), "nvr", events=self.events
        )
        self.engine = Engine(
            [source],
            parse_detector("face"),
            self.publisher,
            gate=self.gate,
            on_status=self.statuses.append,
            options=RunnerOptions(tracking=options, zones={0: zones}),
        )
        self._stop = threading.Event()
        self._ticker = threading.Thread(target=self._tick, name="test-ticker")

    def _record(self, topic: str, payload: Any) -> None:
        self.sent.append((topic, payload))

    def _tick(self) -> None:  # what the hosts do every second, faster
        while not self._stop.wait(0.05):
            self.publisher.tick()

    def run_to_the_end(self) -> None:
        self._ticker.start()
        self.engine.start()
        assert self.statuses.wait_for(
            lambda items: any(s.state is SourceState.ENDED for s in items), 60
        )
        # Every event has ended (the ticker ends them once the objects are gone long enough).
        assert self.sent.wait_for(lambda _items: self._open_events() == set(), 30)

    def stop(self) -> None:
        self._stop.set()
        if self._ticker.is_alive():
            self._ticker.join()
        self.engine.stop()

    def events_of(self) -> list[dict[str, Any]]:
        return [json.loads(p) for t, p in self.sent.snapshot() if t == "nvr/events"]

    def _open_events(self) -> set[str]:
        opened: set[str] = set()
        for event in self.events_of():
            if event["type"] == "new":
                opened.add(event["after"]["id"])
            elif event["type"] == "end":
                opened.discard(event["after"]["id"])
        return opened

    def frame_of(self, stamp: str) -> int:
        """The frame id whose detection message carries this capture time."""
        for topic, payload in self.sent.snapshot():
            if topic == "nvr/detections/0":
                message = json.loads(payload)
                if message["frame_timestamp"] == stamp:
                    return int(message["frame_id"])
        raise AssertionError(f"no frame captured at {stamp}")


@pytest.fixture
def event_run(sample_video: Path) -> Iterator[Any]:
    runs: list[EventRun] = []

    def make(zones: SourceZones | None = None, **kwargs: Any) -> EventRun:
        run = EventRun(sample_video, zones or SourceZones(), **kwargs)
        runs.append(run)
        return run

    yield make
    for run in runs:
        run.stop()


def test_each_drawn_face_is_one_event_from_new_to_end(event_run: Any) -> None:
    run = event_run()
    run.run_to_the_end()
    events = run.events_of()
    by_id: dict[str, list[dict[str, Any]]] = {}
    for event in events:
        by_id.setdefault(event["after"]["id"], []).append(event)
    assert len(by_id) == len(FACES), [e["type"] for e in events]
    starts = sorted(by_id.values(), key=lambda evs: evs[0]["after"]["start_time"])
    for face, evs in zip(FACES, starts, strict=True):
        kinds = [e["type"] for e in evs]
        assert kinds[0] == "new"
        assert kinds[-1] == "end"
        assert set(kinds[1:-1]) <= {"update"}  # new < update* < end
        assert len({e["after"]["tracker_id"] for e in evs}) == 1  # never switched ids
        new, end = evs[0]["after"], evs[-1]["after"]
        first_frame = face.first_frame + 1  # frame ids count from 1
        new_frame = run.frame_of(new["frame_time"])
        # `new` once seen in MIN_FRAMES frames; ByteTrack confirms a track on its 2nd frame.
        assert first_frame <= new_frame <= first_frame + MIN_FRAMES + 1, (new_frame, face)
        last_frame = run.frame_of(end["end_time"])
        assert face.last_frame - 2 <= last_frame - 1 <= face.last_frame, (last_frame, face)
        assert end["label"] == "face"
        assert end["top_score"] >= end["score"] > 0
        assert end["has_snapshot"] is True
        assert datetime.fromisoformat(end["end_time"]) >= datetime.fromisoformat(new["start_time"])
        # The box is where the face is, in the detections' convention (centre, size).
        truth = objects_at(new_frame - 1)
        assert any(t.contains(new["box"]["x"], new["box"]["y"]) for t in truth)
    # Each event's best frame went out once it was taken, before the event message itself.
    snapshots = [t for t, _p in run.sent.snapshot() if t.endswith("/snapshot")]
    assert {t.split("/")[2] for t in snapshots} == set(by_id)


def test_a_zone_is_entered_at_the_frame_the_ground_truth_says(event_run: Any) -> None:
    zones = parse_zones(RIGHT_HALF)
    run = event_run(zones)
    run.run_to_the_end()
    events = run.events_of()
    first_face = [e for e in events if e["after"]["start_time"] == events[0]["after"]["start_time"]]
    entered = [e for e in first_face if "right" in e["entered"]]
    assert len(entered) == 1
    frame = run.frame_of(entered[0]["after"]["frame_time"])
    # Ground truth: the face's bottom centre crosses x = 0.30 (and stands at y ~ 0.63).
    expected = next(
        i + 1
        for i in range(FACES[0].first_frame, FACES[0].last_frame + 1)
        if FACES[0].centre(i)[0] >= 0.30
    )
    assert abs(frame - expected) <= 3, (frame, expected)
    # The second face starts inside the zone: its `new` says so.
    second = [e for e in events if e["type"] == "new"][1]
    assert second["entered"] == ["right"]
    assert second["after"]["current_zones"] == ["right"]
    # The zone's count went 0 -> 1 -> 2 -> ... -> 0 on the retained zones topic.
    counts = [
        json.loads(p)["right"]["face"] for t, p in run.sent.snapshot() if t.endswith("/zones")
    ]
    assert counts[0] == 1
    assert max(counts) == 2
    assert counts[-1] == 0
    assert run.events.zone_counts(0) == {"right": {"face": 0}}


def test_one_frame_flickers_make_no_event(event_run: Any) -> None:
    """min_frames above the longest a face is seen: the detections flow, no event comes."""
    run = event_run()
    run.events.options = TrackingOptions(min_frames=1000, end_after=0.5)
    run.run_to_the_end()
    assert run.events_of() == []
    assert any(t == "nvr/detections/0" for t, _p in run.sent.snapshot())


def test_zone_definitions_get_precise_errors() -> None:
    cases = {
        "a: 0.1,0.1 0.2,0.2": "needs at least 3 points, got 2",
        "a: 0.1,0.1 1.2,0.2 0.3,0.9": "point 2 (1.2, 0.2) is outside the picture",
        "a: 0,0 1,1 1,0 0,1": "its edges 1-2 and 3-4 cross",
        "a: 0,0 1,0 1,1 | persn": "unknown class 'persn'; the detector reports face",
        "a: 0,0 1,0 x,1": "point 3 'x,1' is not x,y",
        "line g: 0.1,0.1": "a line has exactly 2 points, got 1",
        "line g: 0.5,0.5 0.5,0.5": "its two points are the same",
        "no colon here": "write a zone as `name: x,y x,y x,y",
        "a: 0,0 1,0 1,1\nA: 0,0 1,0 0,1": "the name is used twice",
    }
    for text, message in cases.items():
        with pytest.raises(ZoneError, match=re.escape(message)):
            validate_zones(parse_zones(text), ("face",))
    good = parse_zones(f"{RIGHT_HALF} | face\n# a comment\nline gate: 0.2,0.5 0.8,0.5")
    validate_zones(good, ("face",))
    assert parse_zones(format_zones(good)) == good
    assert zones_from_dict(good.as_dict()) == good


def test_impossible_tracker_settings_get_precise_errors() -> None:
    for settings, message in (
        ({"activation_threshold": 0}, "activation threshold must be above 0"),
        ({"matching_threshold": 1.5}, "matching threshold must be between 0 and 1"),
        ({"lost_track_buffer": 0}, "lost-track buffer must be 1 to 3000"),
        ({"min_frames": 2.5}, "min_frames must be a whole number"),
        ({"end_after": "soon"}, "end_after must be a number"),
        ({"end_after": -1}, "must end 0 to 3600 seconds"),
        ({"enabled": "yes"}, "enabled must be true or false"),
        ({"lost_buffer": 3}, "unknown tracking setting"),
    ):
        with pytest.raises(TrackingError, match=message):
            TrackingOptions.from_mapping(settings)
    assert TrackingOptions.from_mapping({"min_frames": "5"}).min_frames == 5


def test_a_line_counts_the_face_that_crosses_it(event_run: Any) -> None:
    """A vertical line at x = 0.33: the first face's bottom centre crosses it once, going right.

    The second face stays right of it (x 0.70-0.74): never counted.
    """
    run = event_run(parse_zones("line middle: 0.33,0.2 0.33,0.95"))
    run.run_to_the_end()
    counts = run.events.line_counts(0)["middle"]
    assert counts["in"] + counts["out"] == 1, counts
    sent = [json.loads(p) for t, p in run.sent.snapshot() if t == "nvr/sources/0/lines"]
    assert sent[-1] == {"middle": counts}
