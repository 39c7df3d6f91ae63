"""A deterministic sample video with known objects on known frames.

Tests, the demo and the benchmarks need a camera that needs no download and whose truth is
known. The scene: a textured static background; two drawn faces (the Haar cascade that OpenCV
ships finds them) that drift across the frame; a box that slides along the bottom (motion);
and a quiet tail with nothing in it, so "detections stopped" happens on every loop.

Positions are fractions of the frame size, so the same scene renders at any resolution, and
`objects_at(i)` gives the ground truth of frame `i` (0-based) as corner boxes in pixels.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from ..video.sources import Frame


@dataclass(frozen=True, slots=True)
class SceneObject:
    """One object of the scene: when it is visible and where it goes (fractions of the frame)."""

    class_name: str
    first_frame: int
    last_frame: int  # inclusive
    start: tuple[float, float]  # centre at first_frame
    end: tuple[float, float]  # centre at last_frame
    size: tuple[float, float]  # width, height as fractions of the frame height

    def centre(self, index: int) -> tuple[float, float]:
        """Return the centre (fractions) at frame `index`, interpolated linearly."""
        span = max(1, self.last_frame - self.first_frame)
        t = (index - self.first_frame) / span
        return (
            self.start[0] + (self.end[0] - self.start[0]) * t,
            self.start[1] + (self.end[1] - self.start[1]) * t,
        )


@dataclass(frozen=True, slots=True)
class GroundTruth:
    """Where an object is in one frame: class and corner box in pixels."""

    class_name: str
    x1: float
    y1: float
    x2: float
    y2: float

    def contains(self, x: float, y: float, margin: float = 0.0) -> bool:
        """Return True when the point lies in the box (grown by `margin` pixels)."""
        return (self.x1 - margin <= x <= self.x2 + margin) and (
            self.y1 - margin <= y <= self.y2 + margin
        )


SCENE: tuple[SceneObject, ...] = (
    SceneObject("face", 10, 69, (0.26, 0.48), (0.40, 0.46), (0.30, 0.30)),
    SceneObject("face", 40, 99, (0.74, 0.40), (0.70, 0.52), (0.24, 0.24)),
    SceneObject("motion", 20, 89, (0.10, 0.86), (0.90, 0.86), (0.28, 0.14)),
)
SAMPLE_FPS = 10.0
SAMPLE_FRAMES = 130  # frames 100..129 are empty: the "detections stopped" moment of each loop
SAMPLE_SIZE = (640, 480)


def objects_at(index: int, size: tuple[int, int] = SAMPLE_SIZE) -> list[GroundTruth]:
    """Return the ground truth of frame `index` (0-based) at `size` = (width, height).

    The scene repeats every `SAMPLE_FRAMES` frames, so a longer video is the scene in a loop.
    """
    index %= SAMPLE_FRAMES
    width, height = size
    found = []
    for obj in SCENE:
        if obj.first_frame <= index <= obj.last_frame:
            cx, cy = obj.centre(index)
            w, h = obj.size[0] * height, obj.size[1] * height
            found.append(
                GroundTruth(
                    obj.class_name,
                    cx * width - w / 2,
                    cy * height - h / 2,
                    cx * width + w / 2,
                    cy * height + h / 2,
                )
            )
    return found


def _background(width: int, height: int) -> Frame:
    rng = np.random.default_rng(20261125)
    ys = np.linspace(0.0, 1.0, height, dtype=np.float32)[:, None]
    base = np.empty((height, width, 3), np.float32)
    base[..., 0] = 85 + 30 * ys  # B
    base[..., 1] = 105 + 20 * ys  # G
    base[..., 2] = 95 + 10 * ys  # R
    texture = cv2.GaussianBlur(rng.normal(0, 12, (height, width)).astype(np.float32), (0, 0), 3)
    base += texture[..., None]
    return np.clip(base, 0, 255).astype(np.uint8)


def _draw_face(img: Frame, box: GroundTruth) -> None:
    cx, cy = int((box.x1 + box.x2) / 2), int((box.y1 + box.y2) / 2)
    s = (box.x2 - box.x1) / 1.15  # face drawn slightly inside its box, as a detector sees it
    cv2.ellipse(img, (cx, cy), (int(0.5 * s), int(0.65 * s)), 0, 0, 360, (150, 180, 220), -1)
    for side in (-1, 1):
        ex, ey = cx + int(side * 0.22 * s), cy - int(0.15 * s)
        brow = (int(0.13 * s), int(0.03 * s))
        cv2.ellipse(img, (ex, ey - int(0.12 * s)), brow, 0, 0, 360, (40, 40, 60), -1)
        cv2.ellipse(img, (ex, ey), (int(0.1 * s), int(0.05 * s)), 0, 0, 360, (255, 255, 255), -1)
        cv2.circle(img, (ex, ey), int(0.045 * s), (30, 30, 30), -1)
    nose_top, nose_tip = (cx, cy - int(0.05 * s)), (cx - int(0.05 * s), cy + int(0.15 * s))
    cv2.line(img, nose_top, nose_tip, (110, 140, 180), max(1, int(0.03 * s)))
    mouth = (int(0.18 * s), int(0.06 * s))
    cv2.ellipse(img, (cx, cy + int(0.32 * s)), mouth, 0, 0, 360, (60, 60, 150), -1)


def render_frame(
    index: int, size: tuple[int, int] = SAMPLE_SIZE, background: Frame | None = None
) -> Frame:
    """Render frame `index` of the scene (BGR)."""
    width, height = size
    img = (background if background is not None else _background(width, height)).copy()
    for truth in objects_at(index, size):
        if truth.class_name == "face":
            _draw_face(img, truth)
        else:
            p1, p2 = (int(truth.x1), int(truth.y1)), (int(truth.x2), int(truth.y2))
            cv2.rectangle(img, p1, p2, (160, 60, 20), -1)
            cv2.rectangle(img, p1, p2, (20, 20, 20), 3)
    return img


def write_sample_video(
    path: str | Path,
    *,
    size: tuple[int, int] = SAMPLE_SIZE,
    fps: float = SAMPLE_FPS,
    frames: int = SAMPLE_FRAMES,
) -> Path:
    """Write the scene to `path` (MJPG in AVI: OpenCV's built-in encoder, no codec needed)."""
    background = _background(*size)
    return write_frames(path, fps, size, (render_frame(i, size, background) for i in range(frames)))


def write_frames(
    path: str | Path, fps: float, size: tuple[int, int], frames: Iterable[Frame]
) -> Path:
    """Write rendered frames as MJPG in AVI: every scene's video, OpenCV's own encoder."""
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    writer = cv2.VideoWriter(str(target), cv2.VideoWriter.fourcc(*"MJPG"), fps, size)
    if not writer.isOpened():
        raise OSError(f"cannot write video to {target}")
    try:
        for frame in frames:
            writer.write(frame)
    finally:
        writer.release()
    return target


def paste(img: Frame, cutout: Frame, box: GroundTruth, size: tuple[int, int]) -> None:
    """Paste a cut-out photo at its ground-truth box, clipped to the frame."""
    x1, y1, x2, y2 = int(box.x1), int(box.y1), int(box.x2), int(box.y2)
    fx1, fy1, fx2, fy2 = max(x1, 0), max(y1, 0), min(x2, size[0]), min(y2, size[1])
    img[fy1:fy2, fx1:fx2] = cutout[fy1 - y1 : fy2 - y1, fx1 - x1 : fx2 - x1]
