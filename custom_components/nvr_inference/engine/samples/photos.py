"""Where the sample photographs are, and how to read one.

The photos are scikit-image's samples (astronaut: public domain, NASA; chelsea and coffee: CC0;
...). In the repository, `scripts/setup` takes them out of scikit-image's wheel into
`.cache/photos` of the source tree: the tests use them, and so does the person sample scene.
An installed worker has neither folder nor script: there, the photos come with scikit-image
itself when it is installed (`pip install scikit-image`: its `data` folder ships them), or
`NVR_PHOTO_DIR` names a folder, or the photo's path is given (`--photo`). Nothing is downloaded
at run time.
"""

from __future__ import annotations

import importlib.util
import os
from pathlib import Path

PHOTO_DIR_ENV = "NVR_PHOTO_DIR"
SOURCE_TREE = Path(__file__).resolve().parents[4]
SOURCE_TREE_PHOTOS = SOURCE_TREE / ".cache" / "photos"
SETUP_SCRIPT = SOURCE_TREE / "scripts" / "setup"
"""Only in a clone of the repository: an installed package has no `scripts/`."""


def photo_dir() -> Path:
    """Return the folder the sample photos are in (`NVR_PHOTO_DIR`, else the setup cache)."""
    configured = os.environ.get(PHOTO_DIR_ENV)
    return Path(configured) if configured else SOURCE_TREE_PHOTOS


def scikit_image_photos() -> Path | None:
    """Return scikit-image's own `data` folder when it is installed (not imported: heavy)."""
    spec = importlib.util.find_spec("skimage")
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(next(iter(spec.submodule_search_locations))) / "data"


def photo_path(name: str) -> Path:
    """Return the path of sample photo `name` (e.g. `astronaut.png`); raise if it is missing.

    `NVR_PHOTO_DIR` when set (and only there: a folder named on purpose), else the setup cache
    of the source tree, else scikit-image's own photos. The error says what this install can
    do: `scripts/setup` only where there is one.
    """
    if os.environ.get(PHOTO_DIR_ENV):
        folders = [photo_dir()]
    else:
        folders = [SOURCE_TREE_PHOTOS, *filter(None, [scikit_image_photos()])]
    for folder in folders:
        if (folder / name).is_file():
            return folder / name
    if os.environ.get(PHOTO_DIR_ENV):
        raise FileNotFoundError(
            f"the sample photo {name} is not in {photo_dir()} (${PHOTO_DIR_ENV}); put it there, "
            "or give the photo's path (--photo)"
        )
    setup = (
        f"run {SETUP_SCRIPT} (it extracts them into .cache/photos), "
        if SETUP_SCRIPT.is_file()
        else ""
    )
    raise FileNotFoundError(
        f"the sample photo {name} is missing (it is one of scikit-image's sample photos): "
        f"{setup}install scikit-image in this Python (`pip install scikit-image`; its photos "
        f"come with it), set ${PHOTO_DIR_ENV} to a folder holding {name}, or give the photo's "
        "path (--photo)"
    )
