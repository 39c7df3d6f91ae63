"""The options flow's per-camera step: each camera's own settings, filters and masks.

Saved in the entry's options by source id beside its zones, read back by the engine's own
grammar (`CameraSettings.from_mapping`), shown again as written, and handed over to the worker
the same (the YAML export reads back to the same settings).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any
from unittest.mock import MagicMock

from homeassistant.config_entries import ConfigFlowResult
from homeassistant.const import CONF_NAME
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.nvr_inference.const import (
    CONF_BASE_TOPIC,
    CONF_CAMERAS,
    CONF_DETECTOR,
    CONF_SOURCES,
    CONF_ZONES,
    DOMAIN,
)
from custom_components.nvr_inference.controller import cameras_from_options, sources_from_entry
from custom_components.nvr_inference.engine.config.resolve import resolve_config
from custom_components.nvr_inference.engine.objects.filters import Mask
from custom_components.nvr_inference.engine.worker.parser import build_parser
from custom_components.nvr_inference.worker_handoff import entry_worker_yaml

FORM = {
    "classes": "motion",
    "confidence": 0.3,
    "max_fps": 2,
    "motion_gating": "off",
    "filters": "motion: min_area=0.01 max_ratio=3 threshold=0.6",
    "masks": "0,0 1,0 1,0.2 0,0.2\nmotion: 0.9,0.5 1,0.5 1,1 0.9,1",
    "required_zones": "drive",
}


@pytest.fixture(autouse=True)
def auto_enable(enable_custom_integrations: None, pipeline_here: MagicMock) -> None:
    """Load the integration from custom_components; the pipeline's packages are here."""


@pytest.fixture
def mock_config_entry() -> MockConfigEntry:
    """An entry with two file sources and the motion detector."""
    return MockConfigEntry(
        domain=DOMAIN,
        title="NVR",
        unique_id="nvr",
        data={
            CONF_NAME: "NVR",
            CONF_BASE_TOPIC: "nvr",
            CONF_SOURCES: [
                {"source_id": 0, "reference": "a.mp4", "name": None, "loop": False},
                {"source_id": 1, "reference": "b.mp4", "name": None, "loop": False},
            ],
            CONF_DETECTOR: "motion",
        },
        options={},
    )


def _suggested(result: ConfigFlowResult) -> dict[str, Any]:
    schema = result["data_schema"]
    assert schema is not None
    return {
        str(key): key.description["suggested_value"]
        for key in schema.schema
        if key.description and "suggested_value" in key.description
    }


async def _camera_step(hass: HomeAssistant, entry: MockConfigEntry) -> ConfigFlowResult:
    result = await hass.config_entries.options.async_init(entry.entry_id)
    assert "cameras" in result["menu_options"]
    result = await hass.config_entries.options.async_configure(
        result["flow_id"], {"next_step_id": "cameras"}
    )
    assert result["step_id"] == "cameras"  # two cameras: choose one
    result = await hass.config_entries.options.async_configure(result["flow_id"], {"source": "1"})
    assert result["step_id"] == "camera_source"
    return result


async def test_a_cameras_own_settings_round_trip(
    hass: HomeAssistant, mock_config_entry: MockConfigEntry, tmp_path: Path
) -> None:
    mock_config_entry.add_to_hass(hass)
    hass.config_entries.async_update_entry(
        mock_config_entry,
        options={
            **mock_config_entry.options,
            CONF_ZONES: {
                "1": {"zones": [{"name": "drive", "points": [[0, 0.5], [1, 0.5], [1, 1]]}]}
            },
        },
    )
    result = await _camera_step(hass, mock_config_entry)
    assert result["description_placeholders"]["source"] == "Source 1"
    assert _suggested(result)["motion_gating"] == "default"

    # Each mistake keeps the form and says which key.
    for change, message in (
        ({"required_zones": "porch"}, "required_zones: no zone 'porch'"),
        ({"filters": "motion: min_scor=0.5"}, "unknown filter min_scor"),
        ({"masks": "0,0 1,0"}, "needs at least 3 points"),
        ({"filters": "face: min_area=10"}, "'face' is not a class this camera reports"),
    ):
        result = await hass.config_entries.options.async_configure(result["flow_id"], FORM | change)
        assert result["errors"] == {"base": "invalid_camera"}
        assert message in result["description_placeholders"]["error"]
    assert CONF_CAMERAS not in mock_config_entry.options

    result = await hass.config_entries.options.async_configure(result["flow_id"], FORM)
    assert result["type"] is FlowResultType.CREATE_ENTRY
    stored = mock_config_entry.options[CONF_CAMERAS]
    assert stored == {
        "1": {
            "classes": ["motion"],
            "confidence": 0.3,
            "max_fps": 2.0,
            "motion_gating": False,
            "masks": [[[0.0, 0.0], [1.0, 0.0], [1.0, 0.2], [0.0, 0.2]]],
            "filters": {
                "motion": {
                    "threshold": 0.6,
                    "min_area": 0.01,
                    "max_ratio": 3.0,
                    "masks": [[[0.9, 0.5], [1.0, 0.5], [1.0, 1.0], [0.9, 1.0]]],
                }
            },
            "required_zones": ["drive"],
        }
    }
    sources = {s.source_id: s for s in sources_from_entry(mock_config_entry.data)}
    camera = cameras_from_options(mock_config_entry.options, sources)[1]
    assert camera.filters.masks == (Mask(((0, 0), (1, 0), (1, 0.2), (0, 0.2))),)
    assert camera.frame_rate(5.0) == 2.0

    # Handed over to the worker, the file reads back to the same camera and zones.
    (tmp_path / "worker.yaml").write_text(entry_worker_yaml(hass, mock_config_entry))
    args = build_parser().parse_args(["worker", "--config", str(tmp_path / "worker.yaml")])
    worker = resolve_config(vars(args), {}).settings
    assert worker.cameras == {1: camera}
    assert worker.zones[1].zones[0].name == "drive"

    # Shown again as written; emptied, the camera's own settings go.
    result = await _camera_step(hass, mock_config_entry)
    shown = _suggested(result)
    assert shown["filters"] == "motion: threshold=0.6 min_area=0.01 max_ratio=3"
    assert shown["masks"] == FORM["masks"]
    assert (shown["classes"], shown["motion_gating"], shown["required_zones"]) == (
        "motion",
        "off",
        "drive",
    )
    assert (shown["confidence"], shown["max_fps"]) == (0.3, 2.0)
    result = await hass.config_entries.options.async_configure(
        result["flow_id"], {"motion_gating": "default"}
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert mock_config_entry.options[CONF_CAMERAS] == {}
