"""Per-camera settings: the worker's YAML -> settings -> the YAML export -> the same settings."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from custom_components.nvr_inference.engine.config.camera import (
    DEFAULT_MAX_FPS,
    CameraSettings,
)
from custom_components.nvr_inference.engine.config.grammar import ConfigError
from custom_components.nvr_inference.engine.config.resolve import resolve_config
from custom_components.nvr_inference.engine.config.worker_settings import WorkerSettings
from custom_components.nvr_inference.engine.config.yaml_export import worker_yaml
from custom_components.nvr_inference.engine.detect.spec import parse_detector
from custom_components.nvr_inference.engine.objects.filters import Mask
from custom_components.nvr_inference.engine.worker.parser import build_parser

CONFIG = """\
name: garage
detector: objects
confidence: 0.5
sources:
  - name: Front
    reference: /front.avi
    area: Front garden
    classes: [person, car]
    confidence: 0.6
    max_fps: 2
    motion_gating: false
    zones:
      - "driveway: 0.1,0.6 0.55,0.6 0.55,1 0.1,1 | person, car | inertia=5 loitering_time=2"
    required_zones: [driveway]
    masks: ["0,0 1,0 1,0.25 0,0.25"]
    filters:
      person: {min_score: 0.65, threshold: 0.7, min_area: 0.01, max_area: 0.5, max_ratio: 1.2}
      car: {min_area: 2000, masks: [[[0.8, 0.5], [1, 0.5], [1, 1], [0.8, 1]]]}
  - name: Garden
    reference: /garden.avi
    classes: [dog, cat]
  - Yard=/yard.avi
"""


def _read(tmp_path: Path, text: str) -> WorkerSettings:
    path = tmp_path / "worker.yaml"
    path.write_text(text, encoding="utf-8")
    args = vars(build_parser().parse_args(["worker", "--config", str(path)]))
    return resolve_config(args, {}).settings


def test_the_yaml_the_settings_and_the_export_agree(tmp_path: Path) -> None:
    settings = _read(tmp_path, CONFIG)
    assert settings.max_fps == DEFAULT_MAX_FPS == 5.0  # the worker-wide default
    front, garden = settings.cameras[0], settings.cameras[1]
    assert 2 not in settings.cameras  # the yard sets nothing of its own
    assert front.classes == {"person", "car"}
    assert front.confidence == 0.6
    assert front.frame_rate(settings.max_fps) == 2.0
    assert front.motion_gating is False
    assert front.required_zones == ("driveway",)
    assert front.filters.masks == (Mask(((0, 0), (1, 0), (1, 0.25), (0, 0.25))),)
    person = front.filters.by_class["person"]
    assert (person.min_score, person.threshold, person.max_ratio) == (0.65, 0.7, 1.2)
    assert front.filters.by_class["car"].min_area == 2000
    zone = settings.zones[0].zones[0]
    assert (zone.inertia, zone.loitering_time) == (5, 2.0)
    assert garden == CameraSettings(classes=frozenset({"dog", "cat"}))
    assert settings.detector is not None
    spec = front.detector_spec(settings.detector)
    assert (spec.classes, spec.confidence, spec.gated) == ({"person", "car"}, 0.6, False)
    assert garden.detector_spec(settings.detector).reported_classes == ("cat", "dog")
    # The camera's area (its device's suggested area); the others have none.
    assert [source.area for source in settings.sources] == ["Front garden", None, None]

    exported = worker_yaml(settings)
    again = _read(tmp_path, exported)
    assert again.sources == settings.sources
    assert again.cameras == settings.cameras
    assert again.zones == settings.zones
    assert again.max_fps == settings.max_fps
    assert again.detector == settings.detector


def test_every_frame_is_zero_and_survives_the_export(tmp_path: Path) -> None:
    settings = _read(tmp_path, CONFIG.replace("confidence: 0.5\n", "confidence: 0.5\nmax_fps: 0\n"))
    assert settings.max_fps is None  # every frame
    assert settings.cameras[0].frame_rate(settings.max_fps) == 2.0
    assert _read(tmp_path, worker_yaml(settings)).max_fps is None


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"confidence": 2}, "source Front: confidence must be a number from 0 to 1, got 2"),
        ({"max_fps": -1}, "source Front: max_fps must be a number from 0 to 1000"),
        ({"motion_gating": "no"}, "source Front: motion_gating must be true or false"),
        ({"classes": ["person", "cars"]}, "source Front: classes: objects knows no class 'cars'"),
        ({"required_zones": ["porch"]}, "source Front: required_zones: no zone 'porch'"),
        ({"filters": {"dog": {}}}, "source Front: filters: 'dog' is not a class this camera"),
        ({"filters": {"person": {"min_score": 3}}}, "source Front: filter 'person': min_score"),
        ({"masks": ["0,0 1,0"]}, "source Front: mask 1: a polygon needs at least 3 points"),
        ({"colour": "red"}, "unknown: colour"),
        (
            {"area": ""},
            "source Front: area must be the name of an area .a non-empty string., got ''",
        ),
        ({"area": "  "}, "source Front: area must be the name of an area"),
        ({"area": None}, "source Front: area must be the name of an area .+ got None"),
        (
            {"area": ["Porch"]},
            "source Front: area must be the name of an area .+ got \\['Porch'\\]",
        ),
    ],
)
def test_a_bad_value_names_the_camera_and_the_key(
    tmp_path: Path, change: dict[str, Any], message: str
) -> None:
    import yaml  # type: ignore[import-untyped]

    config = yaml.safe_load(CONFIG)
    config["sources"][0].update(change)
    with pytest.raises(ConfigError, match=message.replace("(", r"\(")):
        _read(tmp_path, yaml.safe_dump(config))


def test_a_camera_zone_is_checked_against_the_cameras_own_classes(tmp_path: Path) -> None:
    text = CONFIG.replace(
        "classes: [dog, cat]", "classes: [dog, cat]\n    zones: ['lawn: 0,0 1,0 1,1 | car']"
    )
    with pytest.raises(ConfigError, match="source Garden: zone 'lawn': unknown class 'car'"):
        _read(tmp_path, text)


def test_unset_keeps_the_hosts_values() -> None:
    host = parse_detector("objects", confidence=0.4, classes=["person"], motion_gating=True)
    assert CameraSettings().detector_spec(host) == host
    assert CameraSettings().frame_rate(5.0) == 5.0
    assert CameraSettings(max_fps=0).frame_rate(5.0) is None
    assert not CameraSettings()
    assert CameraSettings.from_mapping({}, "Front") == CameraSettings()
