"""The detection message JSON (the MQTT contract) and the 'detections stopped' rule."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
import json

from custom_components.nvr_inference.engine.contract.messages import (
    Detection,
    DetectionMessage,
    DetectionsStoppedTracker,
    iso_timestamp,
)


def _message(frame_id: int, detections: tuple[Detection, ...]) -> DetectionMessage:
    return DetectionMessage(
        source_id=2,
        frame_id=frame_id,
        frame_timestamp=datetime(2026, 11, 25, 10, 0, 0, 123000, tzinfo=UTC),
        model_id="face",
        image_width=640,
        image_height=480,
        detections=detections,
    )


def test_contract_fields() -> None:
    det = Detection.from_corners(
        class_name="face", class_id=0, confidence=0.91234, x1=10, y1=20, x2=110, y2=220
    )
    data = json.loads(_message(7, (det,)).to_json())
    assert data == {
        "source_id": 2,
        "frame_id": 7,
        "frame_timestamp": "2026-11-25T10:00:00.123+00:00",
        "model_id": "face",
        "image": {"width": 640, "height": 480},
        "detections": [
            {
                "class": "face",
                "class_id": 0,
                "confidence": 0.9123,
                "x": 60.0,
                "y": 120.0,
                "width": 100.0,
                "height": 200.0,
            }
        ],
    }


def test_tracker_id_only_when_tracking() -> None:
    det = Detection("car", 2, 0.8, 1, 2, 3, 4, tracker_id=17)
    assert det.as_dict()["tracker_id"] == 17
    assert "tracker_id" not in Detection("car", 2, 0.8, 1, 2, 3, 4).as_dict()


def test_timestamps_carry_an_offset() -> None:
    aware = datetime(2026, 1, 1, 12, 0, tzinfo=timezone(timedelta(hours=2)))
    assert iso_timestamp(aware) == "2026-01-01T10:00:00.000+00:00"
    naive_local = datetime(2026, 1, 1, 12, 0)
    assert iso_timestamp(naive_local).endswith("+00:00")
    assert datetime.fromisoformat(iso_timestamp(naive_local)) == naive_local.astimezone()


def test_one_empty_message_when_detections_stop() -> None:
    tracker = DetectionsStoppedTracker()
    det = Detection("face", 0, 0.9, 1, 1, 1, 1)
    pattern = [(), (), (det,), (det,), (), (), (det,), ()]
    published = [tracker.should_publish(_message(i, d)) for i, d in enumerate(pattern)]
    # The first frame tells what the camera sees now, even an empty scene; then one empty
    # message each time detections stop.
    assert published == [True, False, True, True, True, False, True, True]
    tracker.reset(2)  # a pause: the next frame replaces whatever consumers hold
    assert [tracker.should_publish(_message(9, ())) for _ in range(2)] == [True, False]
    assert _message(0, ()).counts() == {}
    assert _message(0, (det, det)).counts() == {"face": 2}
