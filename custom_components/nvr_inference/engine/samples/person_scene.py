"""The person sample scene: a real photograph of a person crossing a still room, ground truth known.

Tests, the demo and the benchmarks need a camera on which the `person` detector has something
real to find. The person is a rectangular cut-out of scikit-image's astronaut photo (Eileen
Collins, NASA: public domain), which `scripts/setup` extracts from scikit-image's wheel; the room
is drawn. Like a real camera on a quiet hallway, the scene is still most of the time:

    frames   0- 39  the empty room
    frames  40- 49  she walks in from the left, to the middle
    frames  50-149  she stands still in the middle
    frames 150-159  she walks out to the right
    frames 160-199  the empty room again

So only 20 of 200 frames differ from the one before (walking in, walking out): the scene is
still about 90% of the time, which is what motion gating is for. `person_at(i)` is the ground
truth of frame `i`; the scene repeats every `PERSON_FRAMES` frames. Rendering is deterministic:
the same frame index always gives the same pixels.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from ..video.sources import Frame
from .sample_video import SAMPLE_SIZE, GroundTruth, paste, write_frames

PERSON_PHOTO = "astronaut.png"
PERSON_FPS = 10.0
PERSON_FRAMES = 200
# Where the cut-out is taken from the photo (fractions of its width and height): her head and
# upper body, without most of the shuttle model on the right.
CUTOUT = (0.0, 0.03, 0.70, 1.0)  # left, top, right, bottom
PERSON_HEIGHT = 0.6  # of the frame height


@dataclass(frozen=True, slots=True)
class Segment:
    """A stretch of the scene: the person's centre x (fraction of the width) from start to end."""

    first_frame: int
    last_frame: int  # inclusive
    start_x: float
    end_x: float

    def x(self, index: int) -> float:
        """Return the centre x at frame `index`, interpolated linearly."""
        span = max(1, self.last_frame - self.first_frame)
        return self.start_x + (self.end_x - self.start_x) * (index - self.first_frame) / span


TIMELINE: tuple[Segment, ...] = (
    Segment(40, 49, 0.18, 0.5),  # walks in
    Segment(50, 149, 0.5, 0.5),  # stands still
    Segment(150, 159, 0.5, 0.82),  # walks out
)
CENTRE_Y = 0.58  # of the frame height: she stands a little below the middle


def person_at(index: int, size: tuple[int, int] = SAMPLE_SIZE) -> list[GroundTruth]:
    """Return the ground truth of frame `index` at `size` = (width, height): zero or one person."""
    index %= PERSON_FRAMES
    for segment in TIMELINE:
        if segment.first_frame <= index <= segment.last_frame:
            x1, y1, x2, y2 = _placement(segment.x(index), size)
            return [GroundTruth("person", x1, y1, x2, y2)]
    return []


def changed_frames() -> list[int]:
    """Return the frames (0-based, within one loop) whose pixels differ from the frame before."""
    return [i for i in range(PERSON_FRAMES) if person_at(i) != person_at(i - 1)]


def _cutout_size(size: tuple[int, int]) -> tuple[int, int]:
    """Return the cut-out's (width, height) in pixels for frame `size` (photo is square)."""
    left, top, right, bottom = CUTOUT
    height = round(PERSON_HEIGHT * size[1])
    width = round(height * (right - left) / (bottom - top))
    return width, height


def _placement(centre_x: float, size: tuple[int, int]) -> tuple[int, int, int, int]:
    """Return the cut-out's corners (x1, y1, x2, y2) in whole pixels, so truth matches pixels."""
    width, height = _cutout_size(size)
    x1 = round(centre_x * size[0] - width / 2)
    y1 = round(CENTRE_Y * size[1] - height / 2)
    return x1, y1, x1 + width, y1 + height


def load_cutout(photo: str | Path, size: tuple[int, int] = SAMPLE_SIZE) -> Frame:
    """Read the photo and cut the person out, scaled for frames of `size` (BGR)."""
    image = cv2.imread(str(photo), cv2.IMREAD_COLOR)
    if image is None:
        raise OSError(f"cannot read the photo {photo} (a PNG or JPEG image is needed)")
    rows, cols = image.shape[:2]
    left, top, right, bottom = CUTOUT
    crop = image[round(top * rows) : round(bottom * rows), round(left * cols) : round(right * cols)]
    return np.asarray(cv2.resize(crop, _cutout_size(size), interpolation=cv2.INTER_AREA), np.uint8)


def room(size: tuple[int, int] = SAMPLE_SIZE) -> Frame:
    """Draw the empty room: a wall with a faint texture, a floor, a door and a skirting board."""
    width, height = size
    rng = np.random.default_rng(20261202)
    ys = np.linspace(0.0, 1.0, height, dtype=np.float32)[:, None]
    img = np.empty((height, width, 3), np.float32)
    img[..., 0] = 170 - 25 * ys  # B: a pale wall, a little darker towards the floor
    img[..., 1] = 185 - 25 * ys  # G
    img[..., 2] = 195 - 25 * ys  # R
    texture = cv2.GaussianBlur(rng.normal(0, 6, (height, width)).astype(np.float32), (0, 0), 2)
    img += texture[..., None]
    floor = round(0.86 * height)
    img[floor:] = (70, 90, 110)  # a wooden floor
    img[floor - max(2, height // 80) : floor] = (235, 235, 235)  # skirting board
    door = (round(0.05 * width), round(0.22 * height), round(0.2 * width), floor)
    cv2.rectangle(img, door[:2], door[2:], (60, 80, 120), -1)
    cv2.rectangle(img, door[:2], door[2:], (40, 50, 70), max(2, width // 200))
    handle = (round(0.18 * width), round(0.57 * height))
    cv2.circle(img, handle, max(2, width // 120), (90, 170, 200), -1)
    return np.clip(img, 0, 255).astype(np.uint8)


def render_person_frame(
    index: int,
    cutout: Frame,
    size: tuple[int, int] = SAMPLE_SIZE,
    background: Frame | None = None,
) -> Frame:
    """Render frame `index` of the person scene (BGR); `cutout` comes from `load_cutout`."""
    img = (background if background is not None else room(size)).copy()
    for truth in person_at(index, size):
        # Clipped to the frame (the scene keeps her inside it, but other sizes round differently).
        paste(img, cutout, truth, size)
    return img


def write_person_video(
    path: str | Path,
    photo: str | Path,
    *,
    size: tuple[int, int] = SAMPLE_SIZE,
    fps: float = PERSON_FPS,
    frames: int = PERSON_FRAMES,
) -> Path:
    """Write the person scene to `path` (MJPG in AVI: OpenCV's own encoder, no codec needed)."""
    cutout = load_cutout(photo, size)
    background = room(size)
    return write_frames(
        path, fps, size, (render_person_frame(i, cutout, size, background) for i in range(frames))
    )
