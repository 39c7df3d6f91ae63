"""The `sample-video` command's body: which scene, its size and length, the file written.

Apart from argparse and from exit codes: the command line passes the flag values as written
and turns a `SampleError` (or an `OSError` from writing) into its one error line and exit 2.
Imports OpenCV, so the command line imports this module only for this command.
"""

from __future__ import annotations

import os
from pathlib import Path
import re

from .objects_scene import CUTOUTS, OBJECTS_FRAMES, write_objects_video
from .person_scene import PERSON_FRAMES, PERSON_PHOTO, write_person_video
from .photos import PHOTO_DIR_ENV, photo_dir, photo_path
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
    scene's three photos are found the same way (`photos.photo_path`), and read from the folder
    that holds the first.
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
        return write_objects_video(path, _objects_photos(), size=dimensions, frames=count)
    return write_sample_video(path, size=dimensions, frames=count)


def _objects_photos() -> Path:
    """Return the folder holding the objects scene's photos; `SampleError` when one is missing.

    Found as `photos.photo_path` finds one; its advice for a missing photo ends with `--photo`,
    which is the person scene's, so this scene says its own.
    """
    names = [cutout.photo for cutout in CUTOUTS.values()]
    try:
        found = [photo_path(name) for name in names]
    except FileNotFoundError:
        where = (
            f"in {photo_dir()} (${PHOTO_DIR_ENV})"
            if os.environ.get(PHOTO_DIR_ENV)
            else "in .cache/photos or an installed scikit-image"
        )
        raise SampleError(
            f"the objects scene needs scikit-image's {', '.join(names)}, not all found "
            f"{where}: install scikit-image (`pip install scikit-image`), run "
            f"scripts/setup in a checkout, or set ${PHOTO_DIR_ENV} to a folder holding them"
        ) from None
    return found[0].parent
