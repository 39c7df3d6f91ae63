"""Where the sample photographs are, and how to read one.

`scripts/setup` takes scikit-image's sample photos (astronaut: public domain, NASA; chelsea and
coffee: CC0; ...) out of its wheel into `.cache/photos` of the source tree: the tests use them,
and so does the person sample scene. Nothing is downloaded at run time; an installed worker
has no such folder and is given a photo's path (`--photo`), or `NVR_PHOTO_DIR` names a folder.
"""

from __future__ import annotations

import os
from pathlib import Path

PHOTO_DIR_ENV = "NVR_PHOTO_DIR"
SOURCE_TREE_PHOTOS = Path(__file__).resolve().parents[4] / ".cache" / "photos"


def photo_dir() -> Path:
    """Return the folder the sample photos are in (`NVR_PHOTO_DIR`, else the setup cache)."""
    configured = os.environ.get(PHOTO_DIR_ENV)
    return Path(configured) if configured else SOURCE_TREE_PHOTOS


def photo_path(name: str) -> Path:
    """Return the path of sample photo `name` (e.g. `astronaut.png`); raise if it is missing."""
    path = photo_dir() / name
    if not path.is_file():
        raise FileNotFoundError(
            f"the sample photo {name} is not in {path.parent}: run scripts/setup (it extracts "
            f"scikit-image's photos there), set {PHOTO_DIR_ENV}, or give the photo's path"
        )
    return path
