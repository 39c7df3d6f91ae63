"""An event's type says what happened to what: `person_new`, `person_update`, `person_end`.

Home Assistant's Activity list shows only the event type, so with the class alone (`person`)
an arrival and a departure read the same. One object is fed to the event engine frame by frame
(no pipeline): it appears, enters a zone, and its source is paused. Each message on the source's
event topic, and each record the hosts' event entities fire, carries `<class>_<kind>`, and the
class stays in `label` and `class` for automations that filter by class.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import UTC, datetime, timedelta
import json
from typing import Any

from custom_components.nvr_inference.engine.contract.messages import Detection, DetectionMessage
from custom_components.nvr_inference.engine.objects.event_records import EventRecord, event_types
from custom_components.nvr_inference.engine.objects.events import EventEngine
from custom_components.nvr_inference.engine.objects.tracking import TrackingOptions
from custom_components.nvr_inference.engine.objects.zones import parse_zones
from custom_components.nvr_inference.engine.video.sources import SourceConfig

START = datetime(2026, 12, 2, 10, tzinfo=UTC)
EVENT_TOPIC = "nvr/sources/0/event"


def _frame(index: int, class_name: str, zones: tuple[str, ...] = ()) -> DetectionMessage:
    """One frame with one tracked object of `class_name`, standing in `zones`."""
    det = Detection.from_corners(
        class_name=class_name, class_id=0, confidence=0.9, x1=10, y1=10, x2=60, y2=120
    )
    return DetectionMessage(
        source_id=0,
        frame_id=index + 1,
        frame_timestamp=START + timedelta(seconds=index / 10),
        model_id="test",
        image_width=640,
        image_height=480,
        detections=(replace(det, tracker_id=7, zones=zones),),
    )


def _run(classes: Sequence[str], seen: str) -> tuple[EventEngine, list[Any], list[EventRecord]]:
    """An object of class `seen` appears, enters the door, and its source is paused."""
    engine = EventEngine(
        base_topic="nvr",
        sources={0: SourceConfig(0, "a.mp4", "Porch")},
        zones={0: parse_zones("door: 0,0 1,0 1,1 0,1 | inertia=1")},
        classes=classes,
        options=TrackingOptions(min_frames=1, end_after=5.0),
    )
    records: list[EventRecord] = []
    engine.add_listener(lambda _sid, what, value: records.append(value) if what == "event" else 0)
    out = [*engine.on_frame(_frame(0, seen)), *engine.on_frame(_frame(1, seen, ("door",)))]
    out += engine.end_sources([0], START + timedelta(seconds=1))
    engine.flush()
    flat = [json.loads(o.payload) for o in out if o.topic == EVENT_TOPIC]
    return engine, flat, records


def test_the_event_types_are_each_class_with_each_kind() -> None:
    assert event_types(("car", "person")) == (
        "car_new",
        "car_update",
        "car_end",
        "person_new",
        "person_update",
        "person_end",
    )
    assert event_types(()) == ("object_new", "object_update", "object_end")
    engine, _flat, _records = _run(("car", "person"), "person")
    assert engine.event_types == event_types(("car", "person"))  # what both hosts list


def test_each_message_and_record_says_what_happened_and_keeps_the_class() -> None:
    _engine, flat, records = _run(("car", "person"), "person")
    assert [(m["event_type"], m["type"]) for m in flat] == [
        ("person_new", "new"),
        ("person_update", "update"),
        ("person_end", "end"),
    ]
    assert {(m["label"], m["class"]) for m in flat} == {("person", "person")}
    assert flat[1]["entered"] == ["door"]
    # The embedded entity fires the record: the same type, the class in its attributes.
    assert [(r.event_type, r.kind) for r in records] == [
        ("person_new", "new"),
        ("person_update", "update"),
        ("person_end", "end"),
    ]
    assert all("event_type" not in r.attributes for r in records)
    assert {(r.attributes["type"], r.attributes["label"]) for r in records} == {
        ("new", "person"),
        ("update", "person"),
        ("end", "person"),
    }


def test_a_model_with_unknown_classes_fires_object_types_with_the_class_in_label() -> None:
    engine, flat, records = _run((), "cat")
    assert engine.event_types == ("object_new", "object_update", "object_end")
    assert [m["event_type"] for m in flat] == ["object_new", "object_update", "object_end"]
    assert [r.event_type for r in records] == ["object_new", "object_update", "object_end"]
    assert {m["label"] for m in flat} == {"cat"}
