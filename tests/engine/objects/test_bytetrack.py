"""Our ByteTrack (objects/bytetrack.py) against Roboflow's `trackers`, which it follows.

`trackers` stays installed in the test venvs as the reference: the same boxes at the same
capture times must get the same ids, frame by frame, through gaps, misses and weak detections.
"""

from __future__ import annotations

from typing import Any
import warnings

import numpy as np
import pytest

from custom_components.nvr_inference.engine.objects.bytetrack import (
    ARRAY_PAIRS,
    ByteTracker,
    iou_matrix,
    match,
    overlaps,
)

pytestmark = [pytest.mark.pipeline]  # scipy and the reference tracker: not on 3.14

SETTINGS = {"lost_track_buffer": 30, "activation_threshold": 0.35, "high_confidence": 0.25}


def _ours() -> ByteTracker:
    return ByteTracker(**SETTINGS, min_iou=0.2)


def _reference() -> Any:
    from trackers import ByteTrackTracker

    return ByteTrackTracker(
        lost_track_buffer=30,
        frame_rate=30.0,
        track_activation_threshold=0.35,
        high_conf_det_threshold=0.25,
        minimum_iou_threshold=0.2,
        minimum_consecutive_frames=1,
    )


def _reference_ids(tracker: Any, xyxy: Any, scores: Any, when: float) -> Any:
    import supervision as sv

    boxes = sv.Detections(xyxy=xyxy, confidence=scores, data={"index": np.arange(len(xyxy))})
    result = tracker.update(boxes, timestamp=when)
    ids = np.full(len(xyxy), -1)
    if len(xyxy) == 0:  # an empty frame comes back without the index
        return ids
    for index, tid in zip(result.data["index"], result.tracker_id, strict=True):
        ids[int(index)] = tid + 1 if tid >= 0 else -1  # ours count from 1
    return ids


@pytest.mark.parametrize(("n", "seed"), [(8, 0), (8, 1), (8, 2), (8, 3), (1, 4), (3, 5), (20, 6)])
def test_the_same_ids_as_roboflow_trackers(n: int, seed: int) -> None:
    """Moving objects, each missed 15 % of frames, scores 0.1-0.95, uneven frame gaps.

    One object takes the one-row shortcut, three the small Python table, twenty (400 pairs)
    numpy's; eight all of them as tracks come and go.
    """
    rng = np.random.default_rng(seed)
    ours, theirs = _ours(), _reference()
    pos = rng.uniform(0, 500, (n, 2))
    vel = rng.uniform(-5, 5, (n, 2))
    size = rng.uniform(20, 80, (n, 2))
    when = 100.0
    compared = confirmed = 0
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # trackers warns about nothing we do; keep the log clean
        for _ in range(400):
            when += float(rng.choice([1 / 30, 1 / 30, 1 / 15, 0.2, 1 / 30 + 0.001]))
            pos += vel + rng.normal(0, 1, (n, 2))
            seen = np.flatnonzero(rng.random(n) > 0.15)
            xyxy = np.concatenate([pos[seen], pos[seen] + size[seen]], axis=1)
            scores = rng.uniform(0.1, 0.95, n)[seen]
            expected = _reference_ids(theirs, xyxy, scores, when)
            got = ours.update(xyxy.tolist(), scores.tolist(), when)
            assert got == expected.tolist()
            compared += len(seen)
            confirmed += sum(1 for tid in got if tid > 0)
    assert compared > 250 * n and confirmed > compared // 2  # a real comparison, mostly tracked


def _moved(boxes: list[list[float]], by: float) -> list[list[float]]:
    return [[v + by for v in box] for box in boxes]


def test_an_id_on_the_second_sighting_and_kept_while_it_moves() -> None:
    tracker = _ours()
    box = [[10.0, 10.0, 50.0, 90.0]]
    assert tracker.update(box, [0.9], 1.0) == [-1]  # not confirmed yet
    for step in range(1, 30):
        assert tracker.update(_moved(box, 3 * step), [0.9], 1.0 + step / 30) == [1]


def test_a_time_before_the_last_changes_nothing() -> None:
    tracker = _ours()
    box = [[10.0, 10.0, 50.0, 90.0]]
    tracker.update(box, [0.9], 5.0)
    tracker.update(box, [0.9], 5.1)
    assert tracker.update(_moved(box, 200), [0.9], 4.0) == [-1]
    assert len(tracker) == 1  # no track started from the refused frame
    assert tracker.update(box, [0.9], 5.2) == [1]


def test_a_track_lost_past_the_buffer_is_let_go_and_a_return_gets_a_new_id() -> None:
    tracker = _ours()
    box = [[10.0, 10.0, 50.0, 90.0]]
    none: list[list[float]] = []
    tracker.update(box, [0.9], 0.0)
    assert tracker.update(box, [0.9], 1 / 30) == [1]
    tracker.update(none, [], 0.5)  # lost, within the buffer (1 s)
    assert tracker.confirmed_ids() == {1}
    tracker.update(none, [], 1.2)  # lost for 1.17 s: let go
    assert len(tracker) == 0
    tracker.update(box, [0.9], 1.3)
    assert tracker.update(box, [0.9], 1.3 + 1 / 30) == [2]


def test_iou_of_corner_boxes() -> None:
    a = np.array([[0.0, 0.0, 10.0, 10.0], [0.0, 0.0, 0.0, 0.0]])
    b = np.array([[5.0, 5.0, 15.0, 15.0], [0.0, 0.0, 10.0, 10.0]])
    got = iou_matrix(a, b)
    assert got[0].tolist() == pytest.approx([25 / 175, 1.0])
    assert got[1].tolist() == [0.0, 0.0]  # an empty box overlaps nothing (no division by 0)
    assert iou_matrix(a, np.empty((0, 4))).shape == (2, 0)


def test_the_overlaps_on_floats_and_the_array_agree_to_the_last_bit() -> None:
    """Which one a step uses depends on the count (`ARRAY_PAIRS`): the ids must not."""
    rng = np.random.default_rng(7)
    corner = rng.uniform(0, 300, (2, 40, 2))
    size = rng.uniform(0, 60, (2, 40, 2))
    size[0, :3] = 0.0  # empty boxes among them
    a, b = (np.concatenate([corner[i], corner[i] + size[i]], axis=1) for i in (0, 1))
    matrix = iou_matrix(a, b)
    found = overlaps(a.tolist(), b.tolist())
    assert found == [(i, j, matrix[i, j]) for i, j in zip(*np.nonzero(matrix), strict=True)]
    assert len(found) > 20  # overlaps were compared


def test_objects_apart_are_matched_without_the_solver_and_the_same() -> None:
    """Each track overlapping at most one box: those overlaps; else what scipy solves."""
    track = [[0.0, 0.0, 10.0, 10.0]]
    twins = [[20.0, 0.0, 30.0, 10.0], [0.0, 2.0, 10.0, 12.0], [2.0, 0.0, 12.0, 10.0]]
    apart = [[0.0, 0.0, 10.0, 10.0], [40.0, 0.0, 50.0, 10.0], [100.0, 100.0, 110.0, 110.0]]
    moved = [[41.0, 0.0, 51.0, 10.0], [500.0, 0.0, 510.0, 10.0], [1.0, 0.0, 11.0, 10.0]]
    assert match(apart, moved, 0.5) == ([(0, 2), (1, 0)], [2], [1])
    assert match(apart, moved, 0.9) == ([], [0, 1, 2], [0, 1, 2])  # overlaps below threshold
    assert match(track, twins, 0.5) == ([(0, 1)], [], [0, 2])  # 1 and 2 tie: scipy's first
    assert match(twins, track, 0.5) == ([(1, 0)], [0, 2], [])
    assert match(track, [], 0.5) == ([], [0], [])
    assert match(twins, twins, 0.5)[0] == [(0, 0), (1, 1), (2, 2)]  # overlapping: solved
    # Box 0 overlaps both tracks; the best total pairs it with track 1, not its best (track 0).
    crossed = [[0.0, 0.0, 10.0, 10.0], [6.0, 0.0, 16.0, 10.0]]
    boxes = [[3.0, 0.0, 13.0, 10.0], [-4.0, 0.0, 6.0, 10.0]]
    assert match(crossed, boxes, 0.1)[0] == [(0, 1), (1, 0)]
    assert ARRAY_PAIRS >= 3 * 3  # all of these were pairs on floats
