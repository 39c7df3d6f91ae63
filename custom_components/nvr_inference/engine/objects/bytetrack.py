"""ByteTrack on Python floats: a home camera's few objects cost microseconds, not a hundred.

Why our own: Roboflow's `trackers` ByteTrack (the algorithm this follows, with its noise
tuning and its timestamp rules) keeps one Kalman filter object per track and runs its predict
and update one track at a time, a dozen small numpy calls each: with ten objects in view that
alone cost a quarter of the motion detector's whole frame, on the pipeline's dispatch thread,
which is the thread that also builds and publishes the messages. It also frees the full
profile from `trackers`' version pins (inference 1.8.3 asks for 2.4, which takes no capture
times).

Why Python floats, not arrays: a numpy call on a few numbers costs about a microsecond,
whatever the numbers, and a step written on arrays (all tracks as rows) was some ninety of
them: 0.13 ms with one object in view, on the thread the motion detector's pipeline waits for
(its share of the GIL is what our sink costs the pipeline). The same algebra on floats, written
out, costs a twentieth of that with one object, a third with ten, and about as much with fifty
(benchmarks/events_bench.py). numpy and scipy stay for what grows with the square of the count:
the IoU table beyond `ARRAY_PAIRS` pairs (the same numbers to the last bit) and the optimal
assignment.

The algorithm (Zhang et al., "ByteTrack", 2022), as `trackers` 2.6 runs it with capture times:
predict every track by the time since the last step; drop tracks lost for longer than the
lost-track budget; match the confident detections to all tracks by IoU (optimal assignment),
then the weak ones to the tracks left; a confident detection matched by no track starts one
if it clears the activation threshold; a track gets its id when it is matched again after it
started; an unconfirmed track that misses a frame is dropped. State per track: corners
`x1, y1, x2, y2` and their velocities (per 1/30 s), `P0 = I`, `Q = 0.01 I` for a nominal step
(scaled as discrete white-noise acceleration for longer or shorter ones), `R = 0.1 I`.

**One 2x2 covariance per track, not an 8x8.** The transition couples each corner coordinate
with its own velocity only, the measurement reads the coordinates alone, and `P0`, `Q` and `R`
couple nothing else, so a track's 8x8 covariance is four independent 2x2 blocks, one per
coordinate. And the four are equal: they start equal (`P0 = I`), take the same noise, and are
predicted and corrected at the same steps, since a measurement is a whole box. So a track
keeps one block, `a` (coordinate), `b` (coordinate-velocity), `c` (velocity), and one gain
serves its four coordinates: the same numbers as the matrix form (Joseph form included),
without the 8x8 products and the 4x4 inverse.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from numpy.typing import NDArray
from scipy.optimize import linear_sum_assignment

REFERENCE_RATE = 30.0
"""The frame rate the velocities, the noise and the lost-track buffer are tuned for."""

ARRAY_PAIRS = 256
"""Above this many track-box pairs the IoU table is computed by numpy (`iou_matrix`) and
solved whole; up to it, pair by pair on floats (`overlaps`), cheaper up to about 20 x 20."""

_NOMINAL_BAND_SECONDS = 0.004  # a step within 4 ms of one nominal frame is one nominal frame
_SIGMA_A2 = 0.01  # the one-frame process noise; also the acceleration variance for other steps
_MEASUREMENT_NOISE = 0.1

Box = Sequence[float]
"""Corners `x1, y1, x2, y2`, in pixels."""


def _process_noise(step: float) -> tuple[float, float, float]:
    """Return the noise `(a, b, c)` of one block over `step` frames.

    One frame's noise near one frame, else white-noise acceleration over the step.
    """
    if abs(step - 1.0) <= _NOMINAL_BAND_SECONDS * REFERENCE_RATE:
        return _SIGMA_A2, 0.0, _SIGMA_A2
    return _SIGMA_A2 * step**4 / 4.0, _SIGMA_A2 * step**3 / 2.0, _SIGMA_A2 * step**2


def overlaps(a: Sequence[Box], b: Sequence[Box]) -> list[tuple[int, int, float]]:
    """Every pair of corner boxes of `a` and `b` that overlap: `(i, j, IoU)`, by `i` then `j`.

    The nonzero entries of `iou_matrix(a, b)`, the same to the last bit, computed on floats;
    a pair apart costs a comparison or two, which is what most pairs are.
    """
    found = []
    for i, (ax1, ay1, ax2, ay2) in enumerate(a):
        area_a = (ax2 - ax1) * (ay2 - ay1)
        for j, (bx1, by1, bx2, by2) in enumerate(b):
            width = (ax2 if ax2 < bx2 else bx2) - (ax1 if ax1 > bx1 else bx1)
            if width <= 0.0:
                continue
            height = (ay2 if ay2 < by2 else by2) - (ay1 if ay1 > by1 else by1)
            if height <= 0.0:
                continue
            inter = width * height
            union = area_a + (bx2 - bx1) * (by2 - by1) - inter
            if union > 0.0:
                found.append((i, j, inter / union))
    return found


def iou_matrix(a: NDArray[np.float64], b: NDArray[np.float64]) -> NDArray[np.float64]:
    """Pairwise IoU of corner boxes `a` (N, 4) and `b` (M, 4), for many boxes at once."""
    if len(a) == 0 or len(b) == 0:
        return np.zeros((len(a), len(b)))
    x1 = np.maximum(a[:, None, 0], b[None, :, 0])
    y1 = np.maximum(a[:, None, 1], b[None, :, 1])
    x2 = np.minimum(a[:, None, 2], b[None, :, 2])
    y2 = np.minimum(a[:, None, 3], b[None, :, 3])
    inter = np.maximum(x2 - x1, 0.0) * np.maximum(y2 - y1, 0.0)
    area_a = (a[:, 2] - a[:, 0]) * (a[:, 3] - a[:, 1])
    area_b = (b[:, 2] - b[:, 0]) * (b[:, 3] - b[:, 1])
    union = area_a[:, None] + area_b[None, :] - inter
    iou: NDArray[np.float64] = np.divide(inter, union, out=np.zeros_like(inter), where=union > 0)
    return iou


Pairs = list[tuple[int, int]]


def match(
    tracks: Sequence[Box], boxes: Sequence[Box], threshold: float
) -> tuple[Pairs, list[int], list[int]]:
    """Optimal IoU matches at or above `threshold` (> 0): (track, box) pairs, tracks and boxes left.

    The solver (scipy's) runs only where some track overlaps two boxes or some box two tracks:
    where each overlaps at most one, as objects apart do, those overlaps are the optimal
    assignment (no other reaches their sum), and the usual frame needs no solver at all.
    """
    n_rows, n_cols = len(tracks), len(boxes)
    pairs: Pairs = []
    found = overlaps(tracks, boxes) if n_rows * n_cols <= ARRAY_PAIRS else None
    if found is not None and (
        len({i for i, _, _ in found}) == len(found) == len({j for _, j, _ in found})
    ):
        pairs = [(i, j) for i, j, iou in found if iou >= threshold]
    elif n_rows and n_cols:
        if found is None:
            similarity = iou_matrix(np.array(tracks, np.float64), np.array(boxes, np.float64))
        else:
            similarity = np.zeros((n_rows, n_cols))
            for i, j, iou in found:
                similarity[i, j] = iou
        rows, cols = linear_sum_assignment(similarity, maximize=True)
        good = similarity[rows, cols] >= threshold
        pairs = list(zip(rows[good].tolist(), cols[good].tolist(), strict=True))
    used_rows, used_cols = {i for i, _ in pairs}, {j for _, j in pairs}
    return (
        pairs,
        [i for i in range(n_rows) if i not in used_rows],
        [j for j in range(n_cols) if j not in used_cols],
    )


class _Track:
    """One track's filter (see the module's docstring) and its bookkeeping."""

    __slots__ = ("a", "b", "c", "hits", "id", "lost_for", "missed", "pos", "vel")

    def __init__(self, box: Box) -> None:
        self.pos = list(box)  # corners
        self.vel = [0.0, 0.0, 0.0, 0.0]  # their velocities (per nominal frame)
        self.a, self.b, self.c = 1.0, 0.0, 1.0  # P0 = I
        self.id = -1  # -1 until confirmed
        self.hits = 1  # consecutive updates
        self.missed = 0  # steps since the last update
        self.lost_for = 0.0  # seconds since the last update

    def predict(self, step: float, noise: tuple[float, float, float], elapsed: float) -> None:
        """Move by `step` nominal frames (`elapsed` seconds) with that step's `noise`."""
        (x1, y1, x2, y2), (u1, v1, u2, v2) = self.pos, self.vel  # written out: 4x cheaper
        self.pos = [x1 + step * u1, y1 + step * v1, x2 + step * u2, y2 + step * v2]
        a, b, c = self.a, self.b, self.c
        self.a = a + (2.0 * step) * b + (step * step) * c + noise[0]
        self.b = b + step * c + noise[1]
        self.c = c + noise[2]
        if self.missed > 0:  # missed last time: the run of hits starts over
            self.hits = 0
        self.missed += 1
        self.lost_for += elapsed

    def correct(self, box: Box) -> None:
        """Update with the matched `box` (Joseph form, for one 2x2 block)."""
        a, b, c = self.a, self.b, self.c
        r = _MEASUREMENT_NOISE
        k_pos = a / (a + r)  # the gain, coordinate and velocity rows of P H^T S^-1
        k_vel = b / (a + r)
        (x1, y1, x2, y2), (u1, v1, u2, v2) = self.pos, self.vel
        dx1, dy1, dx2, dy2 = box[0] - x1, box[1] - y1, box[2] - x2, box[3] - y2  # innovation
        self.pos = [x1 + k_pos * dx1, y1 + k_pos * dy1, x2 + k_pos * dx2, y2 + k_pos * dy2]
        self.vel = [u1 + k_vel * dx1, v1 + k_vel * dy1, u2 + k_vel * dx2, v2 + k_vel * dy2]
        # (I - K H) P (I - K H)^T + K R K^T, written out.
        keep = 1.0 - k_pos
        self.a = keep * keep * a + r * k_pos * k_pos
        self.b = keep * (b - k_vel * a) + r * k_pos * k_vel
        self.c = k_vel * k_vel * (a + r) - 2.0 * k_vel * b + c
        self.hits += 1
        self.missed = 0
        self.lost_for = 0.0


class ByteTracker:
    """One camera's tracks. Not thread-safe: one pipeline thread updates it."""

    def __init__(
        self,
        *,
        lost_track_buffer: int,
        activation_threshold: float,
        high_confidence: float,
        min_iou: float,
    ) -> None:
        """Take the settings as `trackers` names them; `lost_track_buffer` counts 30 fps frames."""
        if not 0.0 < min_iou <= 1.0:
            raise ValueError(f"min_iou must be above 0 and at most 1, got {min_iou:g}")
        self._budget = lost_track_buffer / REFERENCE_RATE  # seconds a lost track is kept
        self._activation = activation_threshold
        self._high = high_confidence
        self._min_iou = min_iou
        self._tracks: list[_Track] = []
        self._last: float | None = None
        self._next_id = 1

    def __len__(self) -> int:
        """Count the tracks kept now (confirmed or not, seen or lost)."""
        return len(self._tracks)

    def confirmed_ids(self) -> set[int]:
        """Return the ids of the confirmed tracks kept now (seen or lost)."""
        return {track.id for track in self._tracks if track.id >= 0}

    def update(self, boxes: Sequence[Box], scores: Sequence[float], timestamp: float) -> list[int]:
        """Track one frame's corner boxes taken at `timestamp` seconds (increasing).

        Returns each box's track id, -1 for a box whose track is not confirmed yet (or that
        started none). A timestamp before the last changes nothing and returns all -1.
        """
        count = len(boxes)
        out = [-1] * count
        last, self._last = self._last, timestamp
        if last is not None and timestamp < last:
            self._last = last
            return out
        elapsed = 1.0 / REFERENCE_RATE if last is None else timestamp - last
        if not self._tracks and count == 0:
            return out
        if elapsed > 0:
            step = elapsed * REFERENCE_RATE
            noise = _process_noise(step)
            for track in self._tracks:
                track.predict(step, noise, elapsed)
        budget = self._budget
        tracks = [track for track in self._tracks if track.lost_for <= budget]
        high = [i for i in range(count) if scores[i] >= self._high]
        low = [i for i in range(count) if scores[i] < self._high]
        pairs, rest, new = match([t.pos for t in tracks], [boxes[i] for i in high], self._min_iou)
        matched = [(tracks[row], high[col]) for row, col in pairs]
        if rest and low:  # the weak detections, for the tracks left (often none)
            weak, _, _ = match(
                [tracks[r].pos for r in rest], [boxes[i] for i in low], self._min_iou
            )
            matched += [(tracks[rest[row]], low[col]) for row, col in weak]
        for track, index in matched:
            track.correct(boxes[index])
            if track.id < 0:
                track.id = self._next_id
                self._next_id += 1
            out[index] = track.id
        tracks += [_Track(boxes[high[c]]) for c in new if scores[high[c]] >= self._activation]
        # An unconfirmed track goes once its run of hits is broken.
        self._tracks = [t for t in tracks if t.id >= 0 or t.hits >= 1 or t.missed == 0]
        return out
