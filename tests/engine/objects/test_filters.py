"""Object filters and masks on the objects scene's ground truth, and `threshold` on events.

The scene's truth (engine/samples/objects_scene.py: a person, a motorcycle and a cat, exact
boxes in every frame) stands in for detections, so each filter is judged against boxes whose
sizes and places are known: it must drop exactly the detections it names and keep the rest.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
import json
from pathlib import Path
import threading

import pytest

from custom_components.nvr_inference.engine.config.camera import CameraSettings
from custom_components.nvr_inference.engine.config.filter_text import (
    FilterError,
    camera_filters,
    combine_lines,
    filters_as_dict,
    format_filter_lines,
    format_mask_lines,
)
from custom_components.nvr_inference.engine.contract.messages import Detection, DetectionMessage
from custom_components.nvr_inference.engine.detect.spec import parse_detector
from custom_components.nvr_inference.engine.objects.events import EventEngine
from custom_components.nvr_inference.engine.objects.filters import (
    CameraFilters,
    Mask,
    ObjectFilter,
    computed_score,
)
from custom_components.nvr_inference.engine.objects.tracking import TrackingOptions
from custom_components.nvr_inference.engine.pipeline.engine import Engine
from custom_components.nvr_inference.engine.pipeline.runner import RunnerOptions
from custom_components.nvr_inference.engine.samples.objects_scene import (
    OBJECTS_FRAMES,
    objects_at,
)
from custom_components.nvr_inference.engine.samples.sample_video import SAMPLE_FRAMES, SAMPLE_SIZE
from custom_components.nvr_inference.engine.video.sources import SourceConfig

pytestmark = [pytest.mark.pipeline]  # OpenCV, streamvision or trackers: not on 3.14

WIDTH, HEIGHT = SAMPLE_SIZE
SCORES = {"person": 0.8, "motorcycle": 0.9, "cat": 0.55}


def scene() -> list[list[Detection]]:
    """Every frame's truth as detections (a fixed score per class)."""
    return [
        [
            Detection.from_corners(
                class_name=t.class_name,
                class_id=0,
                confidence=SCORES[t.class_name],
                x1=t.x1,
                y1=t.y1,
                x2=t.x2,
                y2=t.y2,
            )
            for t in objects_at(i)
        ]
        for i in range(OBJECTS_FRAMES)
    ]


def kept_and_dropped(filters: CameraFilters) -> tuple[list[Detection], list[Detection]]:
    kept, dropped = [], []
    for frame in scene():
        out = filters.apply(frame, WIDTH, HEIGHT)
        assert all(any(d is k for k in frame) for d in out)  # the very objects, in order
        kept += out
        dropped += [d for d in frame if not any(d is k for k in out)]
    return kept, dropped


def test_min_score_drops_one_class_below_it() -> None:
    kept, dropped = kept_and_dropped(CameraFilters(by_class={"cat": ObjectFilter(min_score=0.6)}))
    assert {d.class_name for d in dropped} == {"cat"}
    assert len(dropped) == sum(t.class_name == "cat" for i in range(200) for t in objects_at(i))
    assert {d.class_name for d in kept} == {"person", "motorcycle"}


def test_area_bounds_in_pixels_and_as_a_fraction_of_the_frame() -> None:
    frames = scene()
    areas = {d.class_name: d.width * d.height for f in frames for d in f}
    small, middle, large = sorted(areas, key=areas.__getitem__)  # each class keeps its size
    between = (areas[small] + areas[middle]) / 2
    fraction = between / (WIDTH * HEIGHT)
    for bound in (between, fraction):  # pixels, or a fraction of the frame (<= 1)
        everyone = CameraFilters(by_class=dict.fromkeys(areas, ObjectFilter(min_area=bound)))
        _, dropped = kept_and_dropped(everyone)
        assert {d.class_name for d in dropped} == {small}
    top = (areas[middle] + areas[large]) / 2
    for bound in (top, top / (WIDTH * HEIGHT)):
        everyone = CameraFilters(by_class=dict.fromkeys(areas, ObjectFilter(max_area=bound)))
        _, dropped = kept_and_dropped(everyone)
        assert {d.class_name for d in dropped} == {large}


def test_ratio_bounds_width_over_height() -> None:
    # A standing person is tall (width/height < 1); a motorcycle is wide. "A person lying flat"
    # (wider than tall) is what max_ratio keeps out.
    ratios = {d.class_name: d.width / d.height for f in scene() for d in f}
    assert ratios["person"] < 1 < ratios["motorcycle"]
    rule = ObjectFilter(max_ratio=1.0)
    _, dropped = kept_and_dropped(CameraFilters(by_class={"person": rule, "motorcycle": rule}))
    assert {d.class_name for d in dropped} == {"motorcycle"}
    rule = ObjectFilter(min_ratio=1.0)
    _, dropped = kept_and_dropped(CameraFilters(by_class={"person": rule, "motorcycle": rule}))
    assert {d.class_name for d in dropped} == {"person"}


def test_a_mask_drops_exactly_the_detections_whose_bottom_centre_is_inside() -> None:
    # The right third of the floor: where the cat sits and the motorcycle leaves through.
    mask = Mask(((2 / 3, 0.5), (1.0, 0.5), (1.0, 1.0), (2 / 3, 1.0)))
    frames = scene()

    def inside(d: Detection) -> bool:
        return d.x / (WIDTH - 1) >= 2 / 3 and (d.y + d.height / 2) / (HEIGHT - 1) >= 0.5

    expected = [d for f in frames for d in f if inside(d)]
    assert expected
    assert {d.class_name for d in expected} >= {"cat"}
    kept, dropped = kept_and_dropped(CameraFilters(masks=(mask,)))
    assert [(d.class_name, d.x, d.y) for d in dropped] == [
        (d.class_name, d.x, d.y) for d in expected
    ]
    assert not any(inside(d) for d in kept)
    # The same mask for the cat only leaves the motorcycle alone.
    _, dropped = kept_and_dropped(CameraFilters(by_class={"cat": ObjectFilter(masks=(mask,))}))
    assert {d.class_name for d in dropped} == {"cat"}
    assert len(dropped) == sum(d.class_name == "cat" for d in expected)


def test_the_written_forms_read_back_the_same() -> None:
    filters = combine_lines(
        "person: min_score=0.6 threshold=0.7 min_area=0.01 max_ratio=1.2\ncat: max_area=5000",
        "0,0 1,0 1,0.25 0,0.25\nperson: 0.8,0.5 1,0.5 1,1 0.8,1",
        "Porch",
    )
    assert filters.by_class["person"].threshold == 0.7
    assert filters.by_class["person"].masks == (Mask(((0.8, 0.5), (1, 0.5), (1, 1), (0.8, 1))),)
    stored = json.loads(json.dumps(filters_as_dict(filters)))
    again = camera_filters(stored.get("masks"), stored.get("filters"), "Porch")
    assert again == filters
    assert combine_lines(format_filter_lines(again), format_mask_lines(again), "Porch") == filters


@pytest.mark.parametrize(
    ("masks", "filters", "message"),
    [
        (None, {"person": {"min_scor": 0.5}}, "Porch: filter 'person': unknown filter min_scor"),
        (None, {"person": {"min_score": 1.5}}, "min_score is a score from 0 to 1"),
        (None, {"person": {"min_area": "big"}}, "min_area must be a number >= 0"),
        (None, {"person": {"min_ratio": 2, "max_ratio": 1}}, "max_ratio 1 is below min_ratio"),
        (["0,0 1,0"], None, "Porch: mask 1: a polygon needs at least 3 points"),
        (["0,0 1,1 1,0 0,1"], None, "cross"),
        (["0,0 2,0 1,1"], None, "outside the picture"),
    ],
)
def test_bad_filters_say_what_and_where(masks: object, filters: object, message: str) -> None:
    with pytest.raises(FilterError, match=message):
        camera_filters(masks, filters, "Porch")


def test_computed_score_is_frigates_padded_median() -> None:
    assert computed_score([0.9]) == 0.0  # padded [0.9, 0, 0]
    assert computed_score([0.9, 0.8]) == 0.8
    assert computed_score([0.4, 0.4, 0.95, 0.4]) == 0.4
    assert computed_score([0.1] * 20 + [0.9] * 6) == 0.9  # the latest ten only


def _frame(frame_id: int, dets: list[Detection], start: datetime) -> DetectionMessage:
    return DetectionMessage(
        source_id=0,
        frame_id=frame_id,
        frame_timestamp=start + timedelta(seconds=frame_id / 10),
        model_id="objects",
        image_width=WIDTH,
        image_height=HEIGHT,
        detections=tuple(dets),
    )


def _events(threshold: float, scores: list[float | None], min_frames: int = 1) -> list[str]:
    """Feed one tracked object with these scores (None: unseen) and return the event types."""
    camera = CameraSettings(
        filters=CameraFilters(by_class={"person": ObjectFilter(threshold=threshold)})
    )
    engine = EventEngine(
        base_topic="nvr",
        sources={0: SourceConfig(0, "a.mp4", "Porch")},
        zones={},
        classes=("person",),
        options=TrackingOptions(min_frames=min_frames, end_after=0.5),
        cameras={0: camera},
    )
    start = datetime(2026, 12, 2, 10, tzinfo=UTC)
    out = []
    for i, score in enumerate([*scores, None, None, None, None, None, None]):
        dets = (
            []
            if score is None
            else [Detection("person", 0, score, 300, 300, 80, 200, tracker_id=7)]
        )
        out += engine.on_frame(_frame(i + 1, dets, start))
    return [json.loads(o.payload)["type"] for o in out if o.topic == "nvr/events"]


def test_threshold_keeps_a_one_frame_flicker_out_of_events() -> None:
    # One frame at 0.95, even with min_frames 1: its median (0.95, 0, 0) is 0.
    assert _events(0.7, [0.95], min_frames=1) == []
    # A score that peaks on one frame: top score 0.95, median 0.4: no event either.
    assert _events(0.7, [0.4, 0.4, 0.95, 0.4, 0.4]) == []
    # Without a threshold the flicker is an event (min_frames 1): the threshold made it none.
    assert _events(0.0, [0.95], min_frames=1) == ["new", "end"]
    # A steady object: its event comes once the median is up (the third frame) and ends.
    assert _events(0.7, [0.8, 0.8, 0.8, 0.8]) == ["new", "end"]


@pytest.mark.pipeline
@pytest.mark.usefixtures("no_thread_left_behind")
def test_a_masked_detection_is_never_delivered_or_tracked(sample_video: Path) -> None:
    """Through the real engine: the runner drops what a camera's mask covers before tracking.

    The sample's moving box (class `motion`) slides along the bottom (y about 0.86); a mask
    over the bottom half takes it out on camera 1, while camera 0 (no mask) sees and tracks
    it. The two cameras play the same file, so what camera 1 keeps is what camera 0 saw above
    the mask.
    """
    bottom = Mask(((0.0, 0.5), (1.0, 0.5), (1.0, 1.0), (0.0, 1.0)))
    delivered: dict[int, list[DetectionMessage]] = {0: [], 1: []}
    done = threading.Event()

    def deliver(message: DetectionMessage) -> None:
        delivered[message.source_id].append(message)
        if all(len(v) == SAMPLE_FRAMES for v in delivered.values()):
            done.set()

    engine = Engine(
        [SourceConfig(0, str(sample_video)), SourceConfig(1, str(sample_video))],
        parse_detector("motion"),
        deliver,
        options=RunnerOptions(cameras={1: CameraSettings(filters=CameraFilters(masks=(bottom,)))}),
    )
    engine.start()
    try:
        assert done.wait(120)
    finally:
        engine.stop()

    def masked(d: Detection) -> bool:
        return bottom.contains(d.x / (WIDTH - 1), (d.y + d.height / 2) / (HEIGHT - 1))

    unmasked = [d for m in delivered[0] for d in m.detections]
    masked_camera = [d for m in delivered[1] for d in m.detections]
    assert any(masked(d) and d.tracker_id is not None for d in unmasked)  # seen and tracked
    assert masked_camera  # what moves above the mask (the faces) is still seen there...
    assert not any(masked(d) for d in masked_camera)  # ...and nothing under it
    assert len(masked_camera) == sum(not masked(d) for d in unmasked)
