"""Setup, unload, reload, restore after restart, diagnostics, a broken source beside a good one."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from unittest.mock import patch

from homeassistant.config_entries import ConfigEntryState
from homeassistant.const import CONF_API_KEY
from homeassistant.core import HomeAssistant, State
from homeassistant.helpers import device_registry as dr, entity_registry as er
from homeassistant.setup import async_setup_component
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry, mock_restore_cache
from pytest_homeassistant_custom_component.components.diagnostics import (
    get_diagnostics_for_config_entry,
)
from pytest_homeassistant_custom_component.typing import ClientSessionGenerator
from syrupy.assertion import SnapshotAssertion
from syrupy.filters import props

from custom_components.nvr_inference.const import CONF_SOURCES, DOMAIN
from custom_components.nvr_inference.engine.errors import PipelineMissingError
from custom_components.nvr_inference.engine.messages import DetectionMessage
from custom_components.nvr_inference.engine.runner import SourceState

from ..mqtt_helpers import free_port
from .conftest import NVR_OPTIONS, make_nvr_entry, nvr_entry_data, setup_nvr_entry, wait_until

pytestmark = [pytest.mark.pipeline, pytest.mark.usefixtures("enable_custom_integrations")]


@pytest.mark.usefixtures("mqtt_entry")
async def test_setup_unload_reload(hass: HomeAssistant, sample_video: Path) -> None:
    entry = make_nvr_entry(hass, sample_video)
    with patch.object(dr, "report_usage", autospec=True) as report_usage:
        assert await hass.config_entries.async_setup(entry.entry_id)
        await hass.async_block_till_done()
    assert entry.state is ConfigEntryState.LOADED
    assert report_usage.call_count == 0, report_usage.call_args  # e.g. a via_device not there yet
    devices = dr.async_get(hass)
    hub = devices.async_get_device(identifiers={(DOMAIN, entry.entry_id)})
    source = devices.async_get_device(identifiers={(DOMAIN, f"{entry.entry_id}_0")})
    assert hub is not None and source is not None
    assert source.via_device_id == hub.id  # the hub existed before any source device
    first_engine = entry.runtime_data.controller.engine

    assert await hass.config_entries.async_reload(entry.entry_id)
    await hass.async_block_till_done()
    assert entry.state is ConfigEntryState.LOADED
    assert entry.runtime_data.controller.engine is not first_engine
    assert all(r.status.state is SourceState.STOPPED for r in first_engine.runners.values())

    assert await hass.config_entries.async_unload(entry.entry_id)
    await hass.async_block_till_done()
    assert entry.state is ConfigEntryState.NOT_LOADED
    assert hass.states.get("switch.test_nvr_pause_detections").state == "unavailable"
    # (The harness fails the test if any pipeline thread is still alive now.)


@pytest.mark.usefixtures("mqtt_entry")
async def test_paused_switch_survives_a_restart(hass: HomeAssistant, sample_video: Path) -> None:
    """The gate is closed from the saved switch state before the pipeline starts."""
    entry = make_nvr_entry(hass, sample_video)
    registry = er.async_get(hass)
    registry.async_get_or_create(
        "switch",
        DOMAIN,
        "nvr_pause",
        config_entry=entry,
        suggested_object_id="test_nvr_pause_detections",
    )
    mock_restore_cache(hass, [State("switch.test_nvr_pause_detections", "on")])
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    controller = entry.runtime_data.controller
    runner = controller.engine.runners[0]
    # Frames arrive and are held at the gate, until the stream itself is paused.
    await wait_until(lambda: runner.status.stream_paused, controller.async_add_listener)
    assert controller.gate.snapshot().paused is True
    assert controller.status_message()["reason"] == "restored"
    assert controller.bridge.published == 0
    assert runner.stats.frames_inferred == 0
    assert hass.states.get("switch.test_nvr_pause_detections").state == "on"
    assert hass.states.get("sensor.test_nvr_state").state == "paused"
    assert await hass.config_entries.async_unload(entry.entry_id)


@pytest.mark.usefixtures("mqtt_entry")
async def test_a_broken_source_does_not_stop_the_others(
    hass: HomeAssistant, sample_video: Path
) -> None:
    data = nvr_entry_data(sample_video)
    data[CONF_SOURCES].append(
        {
            "source_id": 1,
            "reference": f"rtsp://admin:hunter2@127.0.0.1:{free_port()}/live",
            "name": "Gate",
            "loop": False,
        }
    )
    entry = MockConfigEntry(
        domain=DOMAIN, title="Test NVR", unique_id="nvr", data=data, options=dict(NVR_OPTIONS)
    )
    entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    controller = entry.runtime_data.controller
    await wait_until(
        lambda: controller.statuses.get(1) is not None
        and controller.statuses[1].state is SourceState.ERROR
        and controller.bridge.published > 0,
        controller.async_add_listener,
    )
    gate_state = hass.states.get("sensor.gate_state")
    assert gate_state.state == "error"
    assert "Cannot connect" in gate_state.attributes["error"]
    assert hass.states.get("sensor.gate_processing_rate").state == "unavailable"
    assert hass.states.get("sensor.cam_0_state").state == "running"
    assert "hunter2" not in (controller.statuses[1].error or "")
    assert await hass.config_entries.async_unload(entry.entry_id)


@pytest.mark.usefixtures("mqtt_entry")
async def test_diagnostics_redact_secrets(
    hass: HomeAssistant,
    hass_client: ClientSessionGenerator,
    sample_video: Path,
    snapshot: SnapshotAssertion,
) -> None:
    data = nvr_entry_data(sample_video)
    data[CONF_API_KEY] = "rf_secret_key_123"
    data[CONF_SOURCES][0]["reference"] = str(sample_video)
    data[CONF_SOURCES].append(
        {
            "source_id": 1,
            "reference": "rtsp://admin:hunter2@127.0.0.1:9/live",
            "name": "Gate",
            "loop": False,
        }
    )
    entry = MockConfigEntry(
        domain=DOMAIN, title="Test NVR", unique_id="nvr", data=data, options=dict(NVR_OPTIONS)
    )
    entry.add_to_hass(hass)
    assert await async_setup_component(hass, "diagnostics", {})
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    diagnostics = await get_diagnostics_for_config_entry(hass, hass_client, entry)
    text = str(diagnostics)
    assert "rf_secret_key_123" not in text
    assert "hunter2" not in text
    assert diagnostics["entry"]["data"]["sources"][1]["reference"] == "rtsp://***@127.0.0.1:9/live"
    assert diagnostics == snapshot(
        exclude=props(
            "sources", "fps", "inference_ms", "state", "published", "refused_by_gate", "reference"
        )
    )
    assert await hass.config_entries.async_unload(entry.entry_id)


@pytest.mark.usefixtures("mqtt_entry")
async def test_missing_pipeline_is_a_setup_error(hass: HomeAssistant, sample_video: Path) -> None:
    entry = make_nvr_entry(hass, sample_video)
    with patch(
        "custom_components.nvr_inference.controller.inference_pipeline_class",
        autospec=True,
        side_effect=PipelineMissingError("Roboflow's InferencePipeline is not installed"),
    ):
        assert not await hass.config_entries.async_setup(entry.entry_id)
    assert entry.state is ConfigEntryState.SETUP_ERROR
    assert "not installed" in (entry.reason or "")


async def test_mqtt_not_configured_means_not_ready(
    hass: HomeAssistant, sample_video: Path, mock_hass_config: None
) -> None:
    entry = make_nvr_entry(hass, sample_video)
    with patch(
        "custom_components.nvr_inference.integration.mqtt.async_wait_for_mqtt_client",
        autospec=True,
        return_value=False,
    ):
        assert not await hass.config_entries.async_setup(entry.entry_id)
    assert entry.state is ConfigEntryState.SETUP_RETRY


@pytest.mark.usefixtures("mqtt_entry")
async def test_a_source_change_rewrites_that_source_entities_only(
    hass: HomeAssistant, sample_video: Path
) -> None:
    """One camera's snapshot must not rewrite every entity of every camera (loop load)."""
    entry = await setup_nvr_entry(hass, sample_video, sources=2)
    controller = entry.runtime_data.controller
    calls: list[str] = []
    for key in (None, 0, 1):
        controller.async_add_listener(lambda k=key: calls.append(str(k)), key)
    # No await below until the last assert: the pipeline's own updates cannot interleave.
    snapshot_of_0 = DetectionMessage(
        0, 1, datetime.now(UTC), "builtin/motion", 640, 480, snapshot=b"jpeg"
    )
    controller._async_published(snapshot_of_0)  # what the bridge calls
    assert sorted(calls) == ["0", "None"]
    calls.clear()
    controller.async_set_paused(True, 1, "test")
    assert sorted(calls) == ["1", "None"]
    calls.clear()
    controller.async_set_paused(True, None, "test")
    assert sorted(calls) == ["0", "1", "None"]
    assert await hass.config_entries.async_unload(entry.entry_id)
