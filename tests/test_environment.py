"""The environment: pipeline packages added without moving one of Home Assistant's pins.

Runs in every Home Assistant lane: .venv / .venv-full (Python 3.13, Home Assistant 2026.2.3,
the pipeline added under its pins) and .venv-ha-latest (Python 3.14, Home Assistant 2026.10.4,
no pipeline package at all: none installs there).
"""

from __future__ import annotations

import ast
from importlib import metadata
import json
from pathlib import Path
import re
import sys

import homeassistant
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parents[1]
ENGINE = ROOT / "custom_components" / "nvr_inference" / "engine"
HA_LATEST_LANE = sys.version_info >= (3, 14)
LANE_REQUIREMENTS = (
    [ROOT / "requirements" / "ha-latest.txt"]
    if HA_LATEST_LANE
    else [ROOT / "requirements" / "ha.txt", ROOT / "requirements" / "demo.txt"]
)
PIPELINE_DISTRIBUTIONS = ("streamvision", "inference", "opencv-python-headless", "opencv-python")


def _pins(lines: list[str]) -> dict[str, str]:
    pins = {}
    for raw in lines:
        line = raw.split("#", 1)[0].strip()
        if not line or line.startswith("-"):
            continue
        req = Requirement(line)
        if req.marker is not None and not req.marker.evaluate():
            continue
        specs = list(req.specifier)
        if len(specs) == 1 and specs[0].operator == "==":
            pins[canonicalize_name(req.name)] = specs[0].version
    return pins


def _installed(name: str) -> str | None:
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return None


def test_home_assistant_pins_hold() -> None:
    constraints = Path(homeassistant.__file__).parent / "package_constraints.txt"
    pins = _pins(constraints.read_text().splitlines())
    assert len(pins) > 50
    checked, moved = 0, {}
    for name, version in pins.items():
        installed = _installed(name)
        if installed is None:
            continue
        checked += 1
        if installed != version:
            moved[name] = (version, installed)
    assert moved == {}, f"pinned -> installed: {moved}"
    assert checked > 20


def test_test_harness_pins_hold() -> None:
    requires = metadata.requires("pytest-homeassistant-custom-component") or []
    pins = _pins(requires)
    moved = {n: (v, _installed(n)) for n, v in pins.items() if _installed(n) not in (None, v)}
    assert moved == {}


def _lane_pins() -> dict[str, str]:
    return _pins([line for f in LANE_REQUIREMENTS for line in f.read_text().splitlines()])


def test_versions_the_project_is_built_for() -> None:
    pins = _lane_pins()
    assert homeassistant.const.__version__ == pins["homeassistant"]
    harness = "pytest-homeassistant-custom-component"
    assert _installed(harness) == pins[harness]
    if HA_LATEST_LANE:
        assert homeassistant.const.__version__ == "2026.10.4"
        # The point of this lane: none of the pipeline packages installs on Python 3.14.
        assert {name: _installed(name) for name in PIPELINE_DISTRIBUTIONS} == dict.fromkeys(
            PIPELINE_DISTRIBUTIONS
        )
    else:
        assert homeassistant.const.__version__ == "2026.2.3"
        assert _installed("streamvision") == "0.1.3"


def test_integration_requirements_we_pin_are_home_assistants() -> None:
    """What we install for Home Assistant's own integrations is what their manifests pin."""
    components = Path(homeassistant.__file__).parent / "components"
    wanted: dict[str, set[str]] = {}
    for manifest in components.glob("*/manifest.json"):
        for requirement in json.loads(manifest.read_text()).get("requirements", []):
            wanted.setdefault(canonicalize_name(Requirement(requirement).name), set()).update(
                _pins([requirement]).values()
            )
    ours = {name: v for name, v in _lane_pins().items() if name in wanted}
    assert {n: v for n, v in ours.items() if v not in wanted[n]} == {}
    for name, version in ours.items():
        assert _installed(name) == version, name


def test_engine_never_imports_home_assistant() -> None:
    offenders = []
    for path in ENGINE.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            names = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            offenders += [f"{path.name}: {n}" for n in names if re.match(r"homeassistant\b", n)]
    assert offenders == []
