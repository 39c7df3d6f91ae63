"""The objects sample scene: a person, a motorcycle and a cat come into a room, stay, and leave.

The `objects` detector needs a camera with more than people on it, and a truth to score it
against. Each object is a rectangular cut-out of one of scikit-image's sample photos, which
`scripts/setup` extracts from its wheel: the astronaut (Eileen Collins, NASA: public domain),
`motorcycle_left.png` and `chelsea.png` the cat (both CC0). The room is the person scene's.
The three never overlap, so the truth is exactly the pasted rectangles:

    frames   0- 19  the empty room
    frames  20- 29  the motorcycle comes in from the right, to the middle (parked until 169)
    frames  40- 49  the person walks in on the left (stands until 179)
    frames  60- 69  the cat walks in on the right (sits until 149)
    frames 150-159  the cat walks out to the right
    frames 170-179  the motorcycle leaves to the right
    frames 180-189  the person walks out to the left
    frames 190-199  the empty room again

Still about 70% of the time (the motion gate has work to save), two or three classes in view
for most of it. `objects_at(i)` is the ground truth of frame `i`; the scene repeats every
`OBJECTS_FRAMES` frames, and the same index always renders the same pixels.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from ..video.sources import Frame
from .person_scene import CUTOUT as PERSON_CUTOUT, room
from .sample_video import SAMPLE_SIZE, GroundTruth, paste, write_frames

OBJECTS_FPS = 10.0
OBJECTS_FRAMES = 200
FLOOR_Y = 0.9  # where the objects stand, as a fraction of the frame height


@dataclass(frozen=True, slots=True)
class Cutout:
    """Which photo an object comes from, which part of it, and how large it is in the frame."""

    photo: str
    crop: tuple[float, float, float, float]  # left, top, right, bottom (fractions of the photo)
    height: float  # of the frame height


@dataclass(frozen=True, slots=True)
class Move:
    """A stretch of an object's timeline: its centre x (fraction of the width) from start to end."""

    first_frame: int
    last_frame: int  # inclusive
    start_x: float
    end_x: float

    def x(self, index: int) -> float:
        """Return the centre x at frame `index`, interpolated linearly."""
        span = max(1, self.last_frame - self.first_frame)
        return self.start_x + (self.end_x - self.start_x) * (index - self.first_frame) / span


CUTOUTS: Mapping[str, Cutout] = {
    "person": Cutout("astronaut.png", PERSON_CUTOUT, 0.45),
    # The motorcycle without most of the tarmac around it, and the cat with its whole photo.
    "motorcycle": Cutout("motorcycle_left.png", (0.12, 0.12, 0.93, 0.94), 0.27),
    "cat": Cutout("chelsea.png", (0.0, 0.0, 1.0, 1.0), 0.27),
}

TIMELINES: Mapping[str, tuple[Move, ...]] = {
    "motorcycle": (Move(20, 29, 0.8, 0.45), Move(30, 169, 0.45, 0.45), Move(170, 179, 0.45, 0.8)),
    "person": (
        Move(40, 49, 0.125, 0.175),
        Move(50, 179, 0.175, 0.175),
        Move(180, 189, 0.175, 0.125),
    ),
    "cat": (Move(60, 69, 0.845, 0.76), Move(70, 149, 0.76, 0.76), Move(150, 159, 0.76, 0.845)),
}


def _cutout_size(
    cutout: Cutout, photo_shape: tuple[int, int], size: tuple[int, int]
) -> tuple[int, int]:
    """Return the cut-out's (width, height) in frame pixels, keeping the crop's aspect."""
    rows, cols = photo_shape
    left, top, right, bottom = cutout.crop
    height = round(cutout.height * size[1])
    return round(height * (right - left) * cols / ((bottom - top) * rows)), height


PHOTO_SHAPES: Mapping[str, tuple[int, int]] = {
    "astronaut.png": (512, 512),
    "motorcycle_left.png": (500, 741),
    "chelsea.png": (300, 451),
}
"""(rows, columns) of each photo, so the truth needs no image read (checked on loading)."""


def objects_at(index: int, size: tuple[int, int] = SAMPLE_SIZE) -> list[GroundTruth]:
    """Return the ground truth of frame `index` at `size` = (width, height), in paint order."""
    index %= OBJECTS_FRAMES
    found = []
    for name, moves in TIMELINES.items():
        for move in moves:
            if move.first_frame <= index <= move.last_frame:
                cutout = CUTOUTS[name]
                width, height = _cutout_size(cutout, PHOTO_SHAPES[cutout.photo], size)
                x1 = round(move.x(index) * size[0] - width / 2)
                y1 = round(FLOOR_Y * size[1]) - height
                found.append(GroundTruth(name, x1, y1, x1 + width, y1 + height))
    return found


def changed_frames() -> list[int]:
    """Return the frames (0-based, within one loop) whose pixels differ from the frame before."""
    return [i for i in range(OBJECTS_FRAMES) if objects_at(i) != objects_at(i - 1)]


def load_cutouts(photo_dir: str | Path, size: tuple[int, int] = SAMPLE_SIZE) -> dict[str, Frame]:
    """Read each object's photo from `photo_dir` and cut it out, scaled for frames of `size`."""
    images = {}
    for name, cutout in CUTOUTS.items():
        path = Path(photo_dir) / cutout.photo
        image = cv2.imread(str(path), cv2.IMREAD_COLOR)
        if image is None:
            raise OSError(f"cannot read the photo {path} (a PNG or JPEG image is needed)")
        if image.shape[:2] != PHOTO_SHAPES[cutout.photo]:
            raise OSError(f"{path} is not scikit-image's {cutout.photo} ({image.shape[:2]})")
        rows, cols = image.shape[:2]
        left, top, right, bottom = cutout.crop
        crop = image[
            round(top * rows) : round(bottom * rows), round(left * cols) : round(right * cols)
        ]
        target = _cutout_size(cutout, (rows, cols), size)
        images[name] = np.asarray(cv2.resize(crop, target, interpolation=cv2.INTER_AREA), np.uint8)
    return images


def render_objects_frame(
    index: int,
    cutouts: Mapping[str, Frame],
    size: tuple[int, int] = SAMPLE_SIZE,
    background: Frame | None = None,
) -> Frame:
    """Render frame `index` of the objects scene (BGR); `cutouts` come from `load_cutouts`."""
    img = (background if background is not None else room(size)).copy()
    for truth in objects_at(index, size):
        paste(img, cutouts[truth.class_name], truth, size)
    return img


def write_objects_video(
    path: str | Path,
    photo_dir: str | Path,
    *,
    size: tuple[int, int] = SAMPLE_SIZE,
    fps: float = OBJECTS_FPS,
    frames: int = OBJECTS_FRAMES,
) -> Path:
    """Write the objects scene to `path` (MJPG in AVI: OpenCV's own encoder, no codec needed)."""
    cutouts = load_cutouts(photo_dir, size)
    background = room(size)
    return write_frames(
        path, fps, size, (render_objects_frame(i, cutouts, size, background) for i in range(frames))
    )
