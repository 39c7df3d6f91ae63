"""The environment: pipeline packages added without moving one of Home Assistant's pins."""

from __future__ import annotations

import ast
from importlib import metadata
from pathlib import Path
import re

import homeassistant
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parents[1]
ENGINE = ROOT / "custom_components" / "nvr_inference" / "engine"


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


def test_versions_the_project_is_built_for() -> None:
    assert homeassistant.const.__version__ == "2026.2.3"
    assert _installed("pytest-homeassistant-custom-component") == "0.13.316"
    assert _installed("streamvision") == "0.1.3"


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
