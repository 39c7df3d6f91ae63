"""The `sample-video` command's body: which scene, its size and length, the file written.

Apart from argparse and from exit codes: the command line passes the flag values as written
and turns a `SampleError` (or an `OSError` from writing) into its one error line and exit 2.
Imports OpenCV, so the command line imports this module only for this command.
"""

from __future__ import annotations

from pathlib import Path
import re

from .objects_scene import CUTOUTS, OBJECTS_FRAMES, write_objects_video
from .person_scene import PERSON_FRAMES, PERSON_PHOTO, write_person_video
from .photos import photo_dir, photo_path
from .sample_video import SAMPLE_FRAMES, SAMPLE_SIZE, write_sample_video


class SampleError(ValueError):
    """A flag value the sample cannot be written with; the message names the flag."""


def write_scene(
    path: str,
    *,
    scene: str = "faces",
    photo: str | None = None,
    frames: int | None = None,
    size: str | None = None,
) -> Path:
    """Write `scene` to `path` and return where it went.

    `size`: `WIDTHxHEIGHT` as written (default 640x480); `frames`: None for one loop; `photo`:
    the person scene's photograph (default: astronaut.png from the photo cache). The objects
    scene takes its three photos from the photo folder (`NVR_PHOTO_DIR` or the setup cache).
    """
    dimensions = SAMPLE_SIZE
    if size:
        match = re.fullmatch(r"\s*(\d+)\s*[xX]\s*(\d+)\s*", size)
        if not match or int(match[1]) < 16 or int(match[2]) < 16:
            raise SampleError(f"--size must be WIDTHxHEIGHT (at least 16x16), got {size!r}")
        dimensions = (int(match[1]), int(match[2]))
    person = scene == "person"
    if photo and not person:
        raise SampleError("--photo is for --scene person")
    loop = {"person": PERSON_FRAMES, "objects": OBJECTS_FRAMES}.get(scene, SAMPLE_FRAMES)
    count = loop if frames is None else frames
    if count < 1:
        raise SampleError(f"--frames must be at least 1, got {count}")
    if person:
        picture = Path(photo) if photo else photo_path(PERSON_PHOTO)
        if not picture.is_file():
            raise SampleError(f"the photo {picture} does not exist")
        return write_person_video(path, picture, size=dimensions, frames=count)
    if scene == "objects":
        for cutout in CUTOUTS.values():
            photo_path(cutout.photo)  # FileNotFoundError names the folder and what fills it
        return write_objects_video(path, photo_dir(), size=dimensions, frames=count)
    return write_sample_video(path, size=dimensions, frames=count)
