"""`person` on real photographs, and every built-in's assets loading from the installed packages."""

from __future__ import annotations

import cv2
import pytest

from custom_components.nvr_inference.engine.detect.person import PersonDetector, model_path
from custom_components.nvr_inference.engine.detect.registry import build_builtin
from custom_components.nvr_inference.engine.detect.spec import (
    BUILTIN_DETECTORS,
    BUILTINS,
    parse_detector,
)
from custom_components.nvr_inference.engine.detect.ssd_graph import SsdAnchors

from ...photos import read_photo

pytestmark = pytest.mark.pipeline


def test_opencv_stays_below_5() -> None:
    # 5.0 ships an empty cv2/data and no CascadeClassifier: the face detector would break.
    assert int(cv2.__version__.split(".")[0]) < 5, cv2.__version__


@pytest.mark.parametrize("name", BUILTIN_DETECTORS)
def test_every_builtin_loads_its_assets_and_runs(name: str) -> None:
    detector = build_builtin(parse_detector(name))
    assert detector.model_id == name
    assert detector(read_photo("astronaut.png")) is not None
    reported = parse_detector(name).reported_classes
    assert reported and set(reported) <= set(BUILTINS[name].classes)


def test_the_builtin_assets_are_the_packaged_files() -> None:
    cascade = f"{cv2.data.haarcascades}haarcascade_frontalface_default.xml"  # type: ignore[attr-defined]
    assert not cv2.CascadeClassifier(cascade).empty()
    graph = model_path()
    assert graph.name == "frozen_inference_graph.pb"
    assert graph.stat().st_size > 12_000_000  # the 12.9 MB graph, not a stub


def test_person_found_on_the_astronaut() -> None:
    found = PersonDetector(confidence=0.3)(read_photo("astronaut.png"))
    assert len(found) == 1
    person = found[0]
    assert person.class_name == "person"
    assert person.confidence > 0.8  # measured 0.90
    # The box is on her: it holds her face (about 230, 120 in the 512x512 photo) and her
    # chest badge (about 170, 390), and stops before the shuttle model on the right (x > 400).
    left, right = person.x - person.width / 2, person.x + person.width / 2
    top, bottom = person.y - person.height / 2, person.y + person.height / 2
    assert left < 170 and right > 230 and right < 400
    assert top < 120 and bottom > 390


@pytest.mark.parametrize("name", ["chelsea.png", "coffee.png", "motorcycle_left.png"])
def test_no_person_on_photos_without_people(name: str) -> None:
    assert PersonDetector(confidence=0.3)(read_photo(name)) == []


def test_ssd_anchors_match_the_models_own_constants() -> None:
    """The values of the person graph's MultipleGridAnchorGenerator constants (read once)."""
    anchors = SsdAnchors()
    assert [round(s, 4) for s in anchors.scales()] == [0.2, 0.35, 0.5, 0.65, 0.8, 0.95, 1.0]
    lowest = anchors.boxes(0)
    assert len(lowest) == 3
    assert lowest[0] == pytest.approx((0.1, 0.1))
    assert lowest[1] == pytest.approx((0.2 * 2**0.5, 0.2 / 2**0.5))
    second = anchors.boxes(1)
    assert len(second) == 6
    assert second[-1] == pytest.approx((0.41833, 0.41833), abs=1e-5)  # sqrt(0.35 * 0.5)
    assert anchors.boxes(5)[-1] == pytest.approx((0.97468, 0.97468), abs=1e-5)
