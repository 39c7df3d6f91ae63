"""ByteTrack with every track's Kalman filter in one set of arrays: one numpy call per step.

Why our own: Roboflow's `trackers` ByteTrack (the algorithm this follows, with its noise
tuning and its timestamp rules) keeps one Kalman filter object per track and runs its predict
and update one track at a time, a dozen small numpy calls each: with ten objects in view that
alone cost a quarter of the motion detector's whole frame, on the pipeline's dispatch thread,
which is the thread that also builds and publishes the messages. Here the states of all tracks
are rows of one array and their covariances one stack of matrices, so a step costs the same
few calls for one object or fifty. It also frees the full profile from `trackers`' version
pins (inference 1.8.3 asks for 2.4, which takes no capture times).

The algorithm (Zhang et al., "ByteTrack", 2022), as `trackers` 2.6 runs it with capture times:
predict every track by the time since the last step; drop tracks lost for longer than the
lost-track budget; match the confident detections to all tracks by IoU (optimal assignment),
then the weak ones to the tracks left; a confident detection matched by no track starts one
if it clears the activation threshold; a track gets its id when it is matched again after it
started; an unconfirmed track that misses a frame is dropped. State per track: corners
`x1, y1, x2, y2` and their velocities (per 1/30 s), `P0 = I`, `Q = 0.01 I` for a nominal step
(scaled as discrete white-noise acceleration for longer or shorter ones), `R = 0.1 I`.

**Four small filters, not one of eight.** The transition couples each corner coordinate with
its own velocity only, the measurement reads the coordinates alone, and `P0`, `Q` and `R`
couple nothing else, so every track's 8x8 covariance stays four independent 2x2 blocks, one
per coordinate: `a` (coordinate), `b` (coordinate-velocity), `c` (velocity). The filter is
kept as those three (tracks, 4) arrays, and each predict or correct is a dozen element-wise
operations on them: the same numbers as the matrix form (Joseph form included), without the
8x8 products and the 4x4 inverse, which on a few tracks cost more than the algebra they did.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from scipy.optimize import linear_sum_assignment

REFERENCE_RATE = 30.0
"""The frame rate the velocities, the noise and the lost-track buffer are tuned for."""

_NOMINAL_BAND_SECONDS = 0.004  # a step within 4 ms of one nominal frame is one nominal frame
_SIGMA_A2 = 0.01  # the one-frame process noise; also the acceleration variance for other steps
_MEASUREMENT_NOISE = 0.1
_NONE = np.empty(0, int)


def _process_noise(step: float) -> tuple[float, float, float]:
    """Return the noise `(a, b, c)` of one block over `step` frames.

    One frame's noise near one frame, else white-noise acceleration over the step.
    """
    if abs(step - 1.0) <= _NOMINAL_BAND_SECONDS * REFERENCE_RATE:
        return _SIGMA_A2, 0.0, _SIGMA_A2
    return _SIGMA_A2 * step**4 / 4.0, _SIGMA_A2 * step**3 / 2.0, _SIGMA_A2 * step**2


def iou_matrix(a: Any, b: Any) -> Any:
    """Pairwise IoU of corner boxes `a` (N, 4) and `b` (M, 4)."""
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
    return np.divide(inter, union, out=np.zeros_like(inter), where=union > 0)


def _assign(similarity: Any, threshold: float) -> tuple[Any, Any, Any, Any]:
    """Optimal matches at or above `threshold`: rows, cols, and the rows and cols left."""
    n_rows, n_cols = similarity.shape
    if n_rows == 0 or n_cols == 0:
        return _NONE, _NONE, np.arange(n_rows), np.arange(n_cols)
    rows, cols = linear_sum_assignment(similarity, maximize=True)
    good = similarity[rows, cols] >= threshold
    rows, cols = rows[good], cols[good]
    free_rows, free_cols = np.ones(n_rows, bool), np.ones(n_cols, bool)
    free_rows[rows] = False
    free_cols[cols] = False
    return rows, cols, np.flatnonzero(free_rows), np.flatnonzero(free_cols)


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
        self._budget = lost_track_buffer / REFERENCE_RATE  # seconds a lost track is kept
        self._activation = activation_threshold
        self._high = high_confidence
        self._min_iou = min_iou
        self._pos = np.zeros((0, 4))  # corners per track
        self._vel = np.zeros((0, 4))  # their velocities (per nominal frame)
        self._a = np.zeros((0, 4))  # covariance blocks per track and coordinate (see above)
        self._b = np.zeros((0, 4))
        self._c = np.zeros((0, 4))
        self._ids = np.zeros(0, int)  # -1 until confirmed
        self._hits = np.zeros(0, int)  # consecutive updates
        self._missed = np.zeros(0, int)  # steps since the last update
        self._lost_for = np.zeros(0)  # seconds since the last update
        self._last: float | None = None
        self._next_id = 1

    def __len__(self) -> int:
        """Count the tracks kept now (confirmed or not, seen or lost)."""
        return len(self._ids)

    def confirmed_ids(self) -> set[int]:
        """Return the ids of the confirmed tracks kept now (seen or lost)."""
        return {int(i) for i in self._ids if i >= 0}

    def update(self, xyxy: Any, confidence: Any, timestamp: float) -> Any:
        """Track one frame's boxes (N, 4 corners) taken at `timestamp` seconds (increasing).

        Returns each box's track id, -1 for a box whose track is not confirmed yet (or that
        started none). A timestamp before the last changes nothing and returns all -1.
        """
        count = len(xyxy)
        out = np.full(count, -1, int)
        last, self._last = self._last, timestamp
        if last is not None and timestamp < last:
            self._last = last
            return out
        elapsed = 1.0 / REFERENCE_RATE if last is None else timestamp - last
        if len(self._ids) == 0 and count == 0:
            return out
        if elapsed > 0:
            self._predict(elapsed * REFERENCE_RATE, elapsed)
        self._keep(self._lost_for <= self._budget)
        boxes = np.asarray(xyxy, dtype=np.float64).reshape(count, 4)
        scores = np.asarray(confidence, dtype=np.float64).reshape(count)
        high = np.flatnonzero(scores >= self._high)
        low = np.flatnonzero(scores < self._high)
        predicted = self._pos
        rows, cols, rest, new = _assign(iou_matrix(predicted, boxes[high]), self._min_iou)
        rows2 = cols2 = _NONE
        if len(rest) and len(low):  # the weak detections, for the tracks left (often none)
            rows2, cols2, _, _ = _assign(iou_matrix(predicted[rest], boxes[low]), self._min_iou)
        tracks = np.concatenate([rows, rest[rows2]])
        found = np.concatenate([high[cols], low[cols2]])
        self._correct(tracks, boxes[found])
        confirm = tracks[self._ids[tracks] < 0]
        self._ids[confirm] = np.arange(self._next_id, self._next_id + len(confirm))
        self._next_id += len(confirm)
        out[found] = self._ids[tracks]
        self._spawn(boxes[high[new]][scores[high[new]] >= self._activation])
        mature = (self._ids >= 0) | (self._hits >= 1)
        self._keep((self._lost_for <= self._budget) & (mature | (self._missed == 0)))
        return out

    def _predict(self, step: float, elapsed: float) -> None:
        q_a, q_b, q_c = _process_noise(step)
        a, b, c = self._a, self._b, self._c
        self._pos = self._pos + step * self._vel
        self._a = a + (2.0 * step) * b + (step * step) * c + q_a
        self._b = b + step * c + q_b
        self._c = c + q_c
        self._hits[self._missed > 0] = 0  # missed last time: the run of hits starts over
        self._missed += 1
        self._lost_for += elapsed

    def _correct(self, tracks: Any, boxes: Any) -> None:
        """Update the filters of `tracks` with their matched `boxes` (Joseph form, per block)."""
        if len(tracks) == 0:
            return
        which: Any = tracks
        if len(tracks) == len(self._ids):
            # Every track matched, the usual frame: put the boxes in track order and work on
            # whole arrays. Indexing by an array copies (2-3 us a time, a dozen times here);
            # a slice is a view.
            ordered = np.empty_like(boxes)
            ordered[tracks] = boxes
            boxes, which = ordered, slice(None)
        a, b, c = self._a[which], self._b[which], self._c[which]
        r = _MEASUREMENT_NOISE
        k_pos = a / (a + r)  # the gain, coordinate and velocity rows of P H^T S^-1
        k_vel = b / (a + r)
        innovation = boxes - self._pos[which]
        self._pos[which] += k_pos * innovation
        self._vel[which] += k_vel * innovation
        # (I - K H) P (I - K H)^T + K R K^T, written out for one 2x2 block.
        keep = 1.0 - k_pos
        # All three from the old blocks, assigned after (with a slice, a, b and c are views).
        self._a[which], self._b[which], self._c[which] = (
            keep * keep * a + r * k_pos * k_pos,
            keep * (b - k_vel * a) + r * k_pos * k_vel,
            k_vel * k_vel * (a + r) - 2.0 * k_vel * b + c,
        )
        self._hits[which] += 1
        self._missed[which] = 0
        self._lost_for[which] = 0.0

    def _spawn(self, boxes: Any) -> None:
        n = len(boxes)
        if n == 0:
            return
        zeros, ones = np.zeros((n, 4)), np.ones((n, 4))  # P0 = I
        self._pos = np.concatenate([self._pos, boxes])
        self._vel = np.concatenate([self._vel, zeros])
        self._a = np.concatenate([self._a, ones])
        self._b = np.concatenate([self._b, zeros])
        self._c = np.concatenate([self._c, ones])
        self._ids = np.concatenate([self._ids, np.full(n, -1, int)])
        self._hits = np.concatenate([self._hits, np.ones(n, int)])
        self._missed = np.concatenate([self._missed, np.zeros(n, int)])
        self._lost_for = np.concatenate([self._lost_for, np.zeros(n)])

    def _keep(self, mask: Any) -> None:
        if mask.all():
            return
        self._pos, self._vel, self._ids = self._pos[mask], self._vel[mask], self._ids[mask]
        self._a, self._b, self._c = self._a[mask], self._b[mask], self._c[mask]
        self._hits, self._missed = self._hits[mask], self._missed[mask]
        self._lost_for = self._lost_for[mask]
