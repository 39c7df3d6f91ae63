"""The one way tests reach the sample photographs (scripts/setup extracts them to .cache/photos)."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest

from custom_components.nvr_inference.engine.samples.photos import photo_path


def photo(name: str) -> Path:
    """Return the path of scikit-image's sample photo `name`; fail the test if it is missing."""
    try:
        return photo_path(name)
    except FileNotFoundError as err:
        pytest.fail(str(err))


def read_photo(name: str) -> np.ndarray:
    """Read sample photo `name` as a BGR image."""
    image = cv2.imread(str(photo(name)), cv2.IMREAD_COLOR)
    assert image is not None, f"OpenCV cannot read {name}"
    return image
