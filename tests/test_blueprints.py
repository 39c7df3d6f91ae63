"""The shipped blueprints load in this lane's Home Assistant and offer the worker's entities.

Runs in every Home Assistant lane: Home Assistant 2026.2.3 (light) and 2026.10.4 (ha-latest)
both validate each blueprint with their own schema (inputs, selectors, filters). The pause
blueprint's switch picker must offer the integration's pause switches and the standalone
worker's (platform `mqtt`, discovered), or worker users cannot pick their camera in the UI.
tests/worker/test_worker_device_page.py checks the same against the worker's real entities.
"""

from __future__ import annotations

from pathlib import Path

from homeassistant.components.blueprint.models import Blueprint
from homeassistant.components.blueprint.schemas import BLUEPRINT_SCHEMA
from homeassistant.util.yaml import load_yaml_dict
import pytest

from .blueprint_selectors import blueprint_paths, load_blueprint, selector_offers, switch_pickers


@pytest.mark.parametrize("path", blueprint_paths(), ids=lambda p: p.name)
def test_home_assistant_accepts_the_blueprint(path: Path) -> None:
    blueprint = Blueprint(
        load_yaml_dict(path), path=str(path), expected_domain="automation", schema=BLUEPRINT_SCHEMA
    )
    assert blueprint.domain == "automation"
    assert blueprint.inputs


def test_the_pause_switch_pickers_offer_the_integrations_and_the_workers_switches() -> None:
    pickers = {
        f"{path.name}:{name}": selector
        for path in blueprint_paths()
        for name, selector in switch_pickers(load_blueprint(path)).items()
    }
    assert "pause_while_home.yaml:pause_switch" in pickers
    for where, selector in pickers.items():
        # The integration's global and per-camera switches, and the worker's (discovered).
        assert selector_offers(selector, "switch.porch_pause_detections", "nvr_inference"), where
        assert selector_offers(selector, "switch.porch_pause_detections", "mqtt"), where
        assert selector_offers(selector, "switch.garage_pause_detections", "mqtt"), where
        assert not selector_offers(selector, "light.porch", "mqtt"), where
