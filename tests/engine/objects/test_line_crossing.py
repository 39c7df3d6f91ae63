"""Our line counter (objects/line_crossing.py) against supervision's `LineZone`, which it follows.

The same tracked anchors, frame by frame, must cross the same lines the same way: objects
walking across, along, beyond a line's ends, flickering on it, dropping out and coming back.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from custom_components.nvr_inference.engine.objects.line_crossing import LineCounter

pytestmark = [pytest.mark.pipeline]  # supervision, the reference: not on 3.14


def _reference(start: tuple[float, float], end: tuple[float, float]) -> Any:
    import supervision as sv

    return sv.LineZone(
        sv.Point(*start), sv.Point(*end), triggering_anchors=(sv.Position.BOTTOM_CENTER,)
    )


@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize("line", [((100.0, 200.0), (500.0, 200.0)), ((50.0, 50.0), (400.0, 380.0))])
def test_the_same_crossings_as_supervision(
    seed: int, line: tuple[tuple[float, float], tuple[float, float]]
) -> None:
    import supervision as sv

    rng = np.random.default_rng(seed)
    ours, theirs = LineCounter(*line), _reference(*line)
    start, end = np.array(line[0]), np.array(line[1])
    along = end - start
    normal = np.array([-along[1], along[0]]) / np.hypot(*along)
    n = 12
    where = rng.uniform(-0.2, 1.2, n)  # along the line; some beyond its ends
    amplitude = rng.uniform(5, 60, n)  # to and fro across it, some barely
    speed = rng.uniform(0.05, 0.4, n)
    ids = np.arange(1, n + 1)
    crossings = 0
    for frame in range(300):
        offset = amplitude * np.sin(speed * frame) + rng.normal(0, 3, n)
        anchor = start + where[:, None] * along + offset[:, None] * normal
        seen = np.flatnonzero(rng.random(n) > 0.2)  # dropped out now and then
        tracker_ids = np.where(rng.random(len(seen)) > 0.1, ids[seen], -1)  # some unconfirmed
        xyxy = np.concatenate([anchor[seen] - (20, 60), anchor[seen] + (20, 0)], axis=1)
        expected = theirs.trigger(sv.Detections(xyxy=xyxy, tracker_id=tracker_ids))
        got = ours.trigger(anchor[seen].tolist(), tracker_ids.tolist())
        assert got[0] == expected[0].tolist(), frame
        assert got[1] == expected[1].tolist(), frame
        crossings += sum(got[0]) + sum(got[1])
    assert crossings > 20  # a real comparison: many crossings, both ways


def test_one_walk_across_and_back() -> None:
    counter = LineCounter((0.0, 100.0), (200.0, 100.0))
    walk = [50.0, 80.0, 120.0, 150.0, 90.0]  # the bottom centre's y, frame by frame (y down)
    got = []
    for y in walk:
        came_in, went_out = counter.trigger([(100.0, y)], [7])
        got.append("in" if came_in[0] else "out" if went_out[0] else "")
    assert got == ["", "", "out", "", "in"]  # in: the left of the line, walking start -> end
    beyond_the_end = counter.trigger([(300.0, 150.0)], [7])
    assert not beyond_the_end[0][0] and not beyond_the_end[1][0]  # past the line's end
    with pytest.raises(ValueError, match="two different points"):
        LineCounter((1.0, 1.0), (1.0, 1.0))
