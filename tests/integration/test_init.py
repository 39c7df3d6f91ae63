"""Setup, unload, reload, restore after restart, diagnostics, a broken source beside a good one."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from pathlib import Path
import threading
from typing import Any
from unittest.mock import patch

from homeassistant.config_entries import ConfigEntryState
from homeassistant.const import CONF_API_KEY
from homeassistant.core import HomeAssistant, State
from homeassistant.helpers import (
    area_registry as ar,
    device_registry as dr,
    entity_registry as er,
    issue_registry as ir,
)
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
from custom_components.nvr_inference.engine.contract.messages import DetectionMessage
from custom_components.nvr_inference.engine.errors import PipelineMissingError
from custom_components.nvr_inference.engine.fence.gate import GateSnapshot
from custom_components.nvr_inference.engine.pipeline.engine import Engine
from custom_components.nvr_inference.engine.pipeline.runner import SourceRunner
from custom_components.nvr_inference.engine.pipeline.source_status import SourceState

from ..mqtt_helpers import free_port
from .conftest import (
    NVR_OPTIONS,
    make_nvr_entry,
    nvr_entry_data,
    pause_file,
    read_saved_pause,
    setup_nvr_entry,
    wait_until,
    write_saved_pause,
)

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


async def _assert_restored_paused(
    hass: HomeAssistant, entry: MockConfigEntry, *, reason: str, sources: dict[int, bool]
) -> None:
    """Frames arrive and are held at the gate until the streams pause; nothing published."""
    controller = entry.runtime_data.controller
    await wait_until(
        lambda: all(
            controller.engine.runners[sid].status.stream_paused
            for sid, paused in sources.items()
            if paused
        ),
        controller.async_add_listener,
    )
    assert controller.status_message()["reason"] == reason
    for sid, paused in sources.items():
        if paused:
            assert controller.published(sid) == 0
            assert controller.engine.runners[sid].stats.frames_inferred == 0


@pytest.mark.usefixtures("mqtt_entry")
async def test_saved_pause_survives_a_restart_whatever_the_restore_cache_says(
    hass: HomeAssistant, sample_video: Path
) -> None:
    """The store wins: a switch the restore cache saved as `unavailable` stays paused.

    That is what a broker outage used to do: the switch was unavailable, Home Assistant saved
    `unavailable`, and the pause was lost at the next restart.
    """
    entry = make_nvr_entry(hass, sample_video, sources=2)
    write_saved_pause(hass, entry, {"format": 1, "paused": True, "paused_sources": [1]})
    registry = er.async_get(hass)
    registry.async_get_or_create(
        "switch",
        DOMAIN,
        "nvr_pause",
        config_entry=entry,
        suggested_object_id="test_nvr_pause_detections",
    )
    mock_restore_cache(hass, [State("switch.test_nvr_pause_detections", "unavailable")])
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    await _assert_restored_paused(hass, entry, reason="restored", sources={0: True, 1: True})
    controller = entry.runtime_data.controller
    assert controller.gate.snapshot() == GateSnapshot(paused=True, sources={0: False, 1: True})
    assert hass.states.get("switch.test_nvr_pause_detections").state == "on"
    assert hass.states.get("switch.cam_1_pause_detections").state == "on"
    assert hass.states.get("switch.cam_0_pause_detections").state == "off"
    assert hass.states.get("sensor.test_nvr_state").state == "paused"
    # Resuming globally leaves source 1's own pause, and saves before it is acknowledged.
    await hass.services.async_call(
        "switch", "turn_off", {"entity_id": "switch.test_nvr_pause_detections"}, blocking=True
    )
    assert read_saved_pause(hass, entry) == {"format": 1, "paused": False, "paused_sources": [1]}
    await wait_until(lambda: controller.published(0) > 0, controller.async_add_listener)
    assert controller.published(1) == 0
    assert await hass.config_entries.async_unload(entry.entry_id)


@pytest.mark.usefixtures("mqtt_entry")
async def test_pause_survives_a_reload(hass: HomeAssistant, sample_video: Path) -> None:
    entry = await setup_nvr_entry(hass, sample_video)
    await hass.services.async_call(
        "switch", "turn_on", {"entity_id": "switch.cam_0_pause_detections"}, blocking=True
    )
    assert read_saved_pause(hass, entry)["paused_sources"] == [0]
    assert await hass.config_entries.async_reload(entry.entry_id)
    await hass.async_block_till_done()
    await _assert_restored_paused(hass, entry, reason="restored", sources={0: True})
    assert hass.states.get("switch.cam_0_pause_detections").state == "on"
    assert await hass.config_entries.async_unload(entry.entry_id)


@pytest.mark.usefixtures("mqtt_entry")
async def test_an_older_release_paused_switch_is_migrated_to_the_store(
    hass: HomeAssistant, sample_video: Path
) -> None:
    """No store yet: the restore cache an older release left is read once, then saved."""
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
    await _assert_restored_paused(hass, entry, reason="restored", sources={0: True})
    assert read_saved_pause(hass, entry)["paused"] is True
    assert await hass.config_entries.async_unload(entry.entry_id)


@pytest.mark.parametrize("damage", ["garbage_data", "corrupt_file"])
@pytest.mark.usefixtures("mqtt_entry")
async def test_an_unreadable_store_starts_paused_with_a_repair_issue(
    hass: HomeAssistant,
    sample_video: Path,
    issue_registry: ir.IssueRegistry,
    damage: str,
) -> None:
    """Fail closed: a store that exists but cannot be read starts every source paused."""
    entry = make_nvr_entry(hass, sample_video)
    if damage == "garbage_data":
        write_saved_pause(hass, entry, ["paused?"])
    else:
        pause_file(hass, entry).parent.mkdir(parents=True, exist_ok=True)
        pause_file(hass, entry).write_text("{not json")
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    await _assert_restored_paused(hass, entry, reason="store_error", sources={0: True})
    controller = entry.runtime_data.controller
    assert controller.status_message()["store_error"]
    issue = issue_registry.async_get_issue(DOMAIN, f"pause_store_unreadable_{entry.entry_id}")
    assert issue is not None
    assert issue.translation_placeholders["entry"] == "Test NVR"
    # Resuming saves a good store again, and the issue goes.
    await hass.services.async_call(
        "switch", "turn_off", {"entity_id": "switch.test_nvr_pause_detections"}, blocking=True
    )
    assert read_saved_pause(hass, entry) == {"format": 1, "paused": False, "paused_sources": []}
    assert (
        issue_registry.async_get_issue(DOMAIN, f"pause_store_unreadable_{entry.entry_id}") is None
    )
    assert controller.status_message()["store_error"] is None
    await wait_until(lambda: controller.published(0) > 0, controller.async_add_listener)
    assert await hass.config_entries.async_unload(entry.entry_id)


@pytest.mark.usefixtures("mqtt_entry")
async def test_a_setup_cancelled_while_pipelines_start_leaves_no_thread(
    hass: HomeAssistant, sample_video: Path
) -> None:
    """Cancel the setup while the executor starts the second of three pipelines.

    The executor thread goes on after the cancel; the stop that follows runs beside it and
    must leave no pipeline started behind it.
    """
    entry = make_nvr_entry(hass, sample_video, sources=3)
    before = set(threading.enumerate())
    starting = threading.Event()
    release = threading.Event()
    original_start, original_stop = SourceRunner.start, Engine.stop

    def slow_start(runner: SourceRunner) -> None:
        if runner.source_id == 1:
            starting.set()
            release.wait(10)
        original_start(runner)

    def stop_beside_start(engine: Engine) -> None:
        release.set()  # runner 1 finishes starting while this stop waits for it
        original_stop(engine)

    with (
        patch.object(SourceRunner, "start", autospec=True, side_effect=slow_start),
        patch.object(Engine, "stop", autospec=True, side_effect=stop_beside_start),
    ):
        setup = hass.async_create_task(hass.config_entries.async_setup(entry.entry_id))
        await hass.async_add_executor_job(starting.wait, 10)
        setup.cancel()
        with pytest.raises(asyncio.CancelledError):
            await setup
        await hass.async_block_till_done()
    left = [t for t in threading.enumerate() if t not in before and not t.daemon and t.is_alive()]
    left = [t for t in left if not t.name.startswith(("SyncWorker", "ThreadPoolExecutor"))]
    assert left == []


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
        lambda: (status := controller.status_of(1)) is not None
        and status.state is SourceState.RECONNECTING  # down at start: retried (issue 20)
        and "Cannot connect" in (status.error or "")
        and controller.published(0) > 0,
        controller.async_add_listener,
    )
    gate_state = hass.states.get("sensor.gate_state")
    assert gate_state.state == "reconnecting"
    assert "Cannot connect" in gate_state.attributes["error"]
    assert hass.states.get("image.gate_snapshot").state == "unavailable"
    assert hass.states.get("sensor.cam_0_state").state == "running"
    assert "hunter2" not in (controller.status_of(1).error or "")
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
            "sources",
            "fps",
            "inference_ms",
            "state",
            "published",
            "refused_by_gate",
            "dropped_offline",
            "reference",
            "id",
        )
    )
    assert await hass.config_entries.async_unload(entry.entry_id)


@pytest.mark.usefixtures("mqtt_entry")
async def test_a_pipeline_found_but_not_importable_is_a_setup_error_with_a_repair(
    hass: HomeAssistant,
    sample_video: Path,
    issue_registry: ir.IssueRegistry,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """The packages are on disk but their import fails: no traceback, no retry, the repair."""
    entry = make_nvr_entry(hass, sample_video)
    with patch(
        "custom_components.nvr_inference.controller.inference_pipeline_class",
        autospec=True,
        side_effect=PipelineMissingError("Roboflow's InferencePipeline is not installed"),
    ):
        assert not await hass.config_entries.async_setup(entry.entry_id)
    assert entry.state is ConfigEntryState.SETUP_ERROR
    assert "Traceback" not in caplog.text
    issue = issue_registry.async_get_issue(DOMAIN, f"pipeline_missing_{entry.entry_id}")
    assert issue is not None
    assert issue.translation_placeholders is not None
    assert f"reference: {sample_video}" in issue.translation_placeholders["yaml"]


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
    # Every source paused first (and settled), so the pipeline's own updates cannot interleave.
    await controller.async_set_paused(True, None, "test")
    await wait_until(
        lambda: all(r.status.stream_paused for r in controller.engine.runners.values()),
        controller.async_add_listener,
    )
    await hass.async_block_till_done()
    calls: list[str] = []
    for key in (None, 0, 1):
        controller.async_add_listener(lambda k=key: calls.append(str(k)), key)
    snapshot_of_0 = DetectionMessage(
        0, 1, datetime.now(UTC), "builtin/motion", 640, 480, snapshot=b"jpeg"
    )
    controller.feed.async_published(snapshot_of_0)  # what the publisher calls after a publish
    assert sorted(calls) == ["0", "None"]
    calls.clear()
    # A pause's save goes through the executor, so the stream's own pause or resume (reported
    # by its runner) may arrive before the switch returns: that one also names its source.
    await controller.async_set_paused(True, 1, "test")
    assert set(calls) == {"1", "None"}
    calls.clear()
    await controller.async_set_paused(False, None, "test")
    assert set(calls) == {"0", "1", "None"}
    assert await hass.config_entries.async_unload(entry.entry_id)


@pytest.mark.usefixtures("mqtt_entry")
async def test_a_removed_source_leaves_no_device(
    hass: HomeAssistant, sample_video: Path, hass_ws_client: Any
) -> None:
    """Reconfigure drops a source: its device goes; a live source's device cannot be removed."""
    entry = await setup_nvr_entry(hass, sample_video, sources=2)
    devices = dr.async_get(hass)
    cam1 = devices.async_get_device(identifiers={(DOMAIN, f"{entry.entry_id}_1")})
    cam0 = devices.async_get_device(identifiers={(DOMAIN, f"{entry.entry_id}_0")})
    assert cam0 is not None
    assert cam1 is not None
    assert await async_setup_component(hass, "config", {})
    client = await hass_ws_client(hass)
    await client.send_json_auto_id(
        {
            "type": "config/device_registry/remove_config_entry",
            "config_entry_id": entry.entry_id,
            "device_id": cam0.id,
        }
    )
    response = await client.receive_json()
    assert not response["success"]  # the source still exists: its device stays

    data = {**entry.data, CONF_SOURCES: entry.data[CONF_SOURCES][:1]}
    hass.config_entries.async_update_entry(entry, data=data)
    assert await hass.config_entries.async_reload(entry.entry_id)
    await hass.async_block_till_done()
    assert devices.async_get(cam1.id) is None
    assert devices.async_get(cam0.id) is not None
    assert await hass.config_entries.async_unload(entry.entry_id)


@pytest.mark.usefixtures("mqtt_entry")
async def test_a_camera_named_after_an_area_is_placed_in_it(
    hass: HomeAssistant, sample_video: Path, area_registry: ar.AreaRegistry
) -> None:
    """A camera "porch" goes to the Porch area; "Cam 1" names no area, and none is made."""
    porch = area_registry.async_create("Porch")
    entry = make_nvr_entry(hass, sample_video, sources=2)
    data = dict(entry.data)
    data[CONF_SOURCES] = [dict(data[CONF_SOURCES][0], name="porch"), data[CONF_SOURCES][1]]
    hass.config_entries.async_update_entry(entry, data=data)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    devices = dr.async_get(hass)
    cam0 = devices.async_get_device(identifiers={(DOMAIN, f"{entry.entry_id}_0")})
    cam1 = devices.async_get_device(identifiers={(DOMAIN, f"{entry.entry_id}_1")})
    assert cam0 is not None and cam0.area_id == porch.id
    assert cam1 is not None and cam1.area_id is None
    assert [a.name for a in area_registry.async_list_areas()] == ["Porch"]
    assert await hass.config_entries.async_unload(entry.entry_id)
