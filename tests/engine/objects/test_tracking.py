"""The tracker on the person scene's ground truth: one id per crossing, never a switch.

The person scene (engine/samples/person_scene.py) at 10 fps: she walks in on frames 40-49,
stands still until 149, walks out on 150-159; the room is empty for 40 frames either side. Fed
her true boxes (with two frames a detector missed while she walked), each crossing must carry
one tracker id from its second frame to its last, and the next loop's crossing a new one: four
empty seconds are well past the lost-track buffer (30 frames at 30 fps, one second).
"""

from __future__ import annotations

import numpy as np
import pytest

from custom_components.nvr_inference.engine.contract.messages import Detection
from custom_components.nvr_inference.engine.objects.tracking import SourceTracker, TrackingOptions
from custom_components.nvr_inference.engine.objects.zones import SourceZones, parse_zones
from custom_components.nvr_inference.engine.samples.person_scene import (
    PERSON_FPS,
    PERSON_FRAMES,
    person_at,
)
from custom_components.nvr_inference.engine.samples.sample_video import SAMPLE_SIZE

pytestmark = [pytest.mark.pipeline]  # OpenCV, streamvision or trackers: not on 3.14

IMAGE = np.zeros((SAMPLE_SIZE[1], SAMPLE_SIZE[0], 3), dtype=np.uint8)
MISSED = {44, 153}  # a detector's misses while she walks (the person detector misses two)
LOOPS = 2


def _boxes(index: int) -> list[Detection]:
    if index % PERSON_FRAMES in MISSED:
        return []
    return [
        Detection(
            t.class_name, 0, 0.8, (t.x1 + t.x2) / 2, (t.y1 + t.y2) / 2, t.x2 - t.x1, t.y2 - t.y1
        )
        for t in person_at(index)
    ]


def _ids_by_crossing(tracker: SourceTracker, held: bool) -> list[list[int | None]]:
    """Track LOOPS loops of the scene; the ids each crossing's detections got, in order.

    With `held`, the standing frames repeat the very same detections, as the motion gate
    reports an unchanged picture.
    """
    crossings: list[list[int | None]] = [[] for _ in range(LOOPS)]
    previous: list[Detection] = []
    for index in range(LOOPS * PERSON_FRAMES):
        found = _boxes(index)
        if held and 51 <= index % PERSON_FRAMES <= 149:
            found = previous
        previous = found
        tracked = tracker.process(found, IMAGE, epoch=0, captured=100.0 + index / PERSON_FPS)
        crossings[index // PERSON_FRAMES].extend(d.tracker_id for d in tracked.detections)
    return crossings


def test_one_id_per_person_crossing_and_no_switch() -> None:
    tracker = SourceTracker(TrackingOptions(), SourceZones(), PERSON_FPS)
    crossings = _ids_by_crossing(tracker, held=False)
    ids = []
    for seen in crossings:
        assert len(seen) == 120 - len(MISSED)  # every frame she is in, found and returned
        assert seen[0] is None  # a track is confirmed on its second frame
        assert None not in seen[1:]  # then never lost, not even across a missed frame
        assert len(set(seen[1:])) == 1, f"id switched: {sorted(set(seen[1:]))}"
        ids.append(seen[1])
    assert len(set(ids)) == LOOPS  # the next crossing is a new object


def test_held_frames_keep_ids_and_zones_without_a_tracker_step() -> None:
    zones = parse_zones("middle: 0.3,0 0.7,0 0.7,1 0.3,1")
    tracker = SourceTracker(TrackingOptions(), zones, PERSON_FPS)
    steps = []
    real_step = tracker._step
    tracker._step = lambda boxes, scores, captured: steps.append(captured) or real_step(
        boxes, scores, captured
    )  # type: ignore[method-assign]
    crossings = _ids_by_crossing(tracker, held=True)
    for seen in crossings:
        assert len(set(seen[1:])) == 1 and None not in seen[1:]
    assert len(steps) == LOOPS * (PERSON_FRAMES - 99)  # 99 held frames a loop: no update
    standing = tracker.process(_boxes(100), IMAGE, epoch=0, captured=1000.0)
    assert standing.detections[0].zones == ("middle",)


def _passing(frame: int) -> list[Detection]:
    """Ever-new objects: object k is seen on frames k to k+3, each on its own spot for a while.

    Forty spots 100 px apart; a spot is used again 40 frames later, long after its last
    object's track was let go, so every object is a new track with a new id.
    """
    found = []
    for k in range(max(0, frame - 3), frame + 1):
        spot = k % 40
        x, y = 60 + 100 * (spot % 8), 60 + 100 * (spot // 8)
        found.append(Detection("car", 2, 0.9, x, y, 40, 40))
    return found


@pytest.mark.parametrize("fps", [6.5, None])  # capture times (live), or one step an update
def test_best_frames_of_lost_tracks_are_forgotten(fps: float | None) -> None:
    """The best-frame table holds no more ids than the tracker keeps tracks (issue 20)."""
    image = np.zeros((600, 900, 3), dtype=np.uint8)
    tracker = SourceTracker(TrackingOptions(), SourceZones(), 30.0)
    ids: set[int] = set()
    largest = 0
    for frame in range(600):
        captured = 100.0 + frame / fps if fps else None
        tracked = tracker.process(_passing(frame), image, epoch=0, captured=captured)
        ids.update(d.tracker_id for d in tracked.detections if d.tracker_id is not None)
        live = tracker._tracker.confirmed_ids()
        assert set(tracker._best) <= live, f"frame {frame}: {set(tracker._best) - live}"
        largest = max(largest, len(tracker._best))
    assert len(ids) >= 590  # ever-new ids all along
    # The objects seen now (4) and those lost within the buffer: one second, or 30 updates.
    assert largest <= (4 + 7 if fps else 4 + 30), largest


@pytest.mark.parametrize("held", [False, True])
def test_a_track_is_drawn_first_when_it_could_become_an_event(held: bool) -> None:
    """No JPEG for a flicker the events never announce; one by the `min_frames`-th frame.

    She walks in on frames 40-49 and stands from 50 (`held`: the motion gate repeats her
    detections while she stands, so no tracker step, yet those frames count as the events
    count them). Her id is confirmed on her second frame.
    """
    options = TrackingOptions(min_frames=5)
    tracker = SourceTracker(options, SourceZones(), PERSON_FPS)
    due_at: list[int] = []
    seen_in = 0
    previous: list[Detection] = []
    for index in range(40, 149):
        found = previous if held and index >= 51 else _boxes(index)
        previous = found
        tracked = tracker.process(found, IMAGE, epoch=0, captured=100.0 + index / PERSON_FPS)
        seen_in += any(d.tracker_id is not None for d in tracked.detections)
        if tracked.snapshots_due:
            due_at.append(seen_in)
            assert [d.tracker_id for d in tracked.snapshots_due] == [
                tracked.detections[0].tracker_id
            ]
    # Drawn once, in the 5th frame with her id (her score never improves), never before.
    assert due_at == [options.min_frames]
    assert tracked.draw_snapshots(IMAGE, tracker.polygons) == ()  # nothing due on this frame


def test_a_better_score_within_a_second_is_not_drawn_again() -> None:
    """Her score rises every frame; the interval is a real second, and these 20 take ms."""
    tracker = SourceTracker(TrackingOptions(min_frames=1), SourceZones(), PERSON_FPS)
    draws, with_id = [], []
    for index in range(40, 60):
        found = [
            Detection(d.class_name, 0, 0.3 + 0.03 * (index - 40), d.x, d.y, d.width, d.height)
            for d in _boxes(index)
        ]
        tracked = tracker.process(found, IMAGE, epoch=0, captured=100.0 + index / PERSON_FPS)
        draws += [d.confidence for d in tracked.snapshots_due]
        with_id += [d.confidence for d in tracked.detections if d.tracker_id is not None]
    assert len(with_id) > 10  # she had her id for most of them, her score rising
    assert draws == [with_id[0]]  # drawn once: the first frame with her id
