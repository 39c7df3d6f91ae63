"""A real RTSP camera (GStreamer's RTSP server) that stops and comes back.

The camera goes unavailable (logged once), the other source keeps running, and the camera
recovers by itself when the server returns on the same address.
"""

from __future__ import annotations

import logging
from pathlib import Path

from homeassistant.core import HomeAssistant
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.nvr_inference.const import CONF_SOURCES, DOMAIN
from custom_components.nvr_inference.engine.pipeline.source_status import SourceState

from ..integration.conftest import NVR_OPTIONS, nvr_entry_data, wait_until
from ..mqtt_helpers import free_port
from ..rtsp_camera import rtsp_camera

pytestmark = [
    pytest.mark.pipeline,
    pytest.mark.usefixtures("enable_custom_integrations", "mqtt_entry"),
]


async def test_rtsp_camera_goes_away_and_comes_back(
    hass: HomeAssistant, sample_video: Path, caplog: pytest.LogCaptureFixture
) -> None:
    port = free_port()
    data = nvr_entry_data(sample_video)  # source 0: the looping file
    data[CONF_SOURCES].append(
        {"source_id": 1, "reference": f"rtsp://127.0.0.1:{port}/cam", "name": "Gate", "loop": False}
    )
    entry = MockConfigEntry(
        domain=DOMAIN, title="Test NVR", unique_id="nvr", data=data, options=dict(NVR_OPTIONS)
    )
    entry.add_to_hass(hass)
    caplog.set_level(logging.INFO)
    with rtsp_camera(port) as camera:
        assert await hass.config_entries.async_setup(entry.entry_id)
        await hass.async_block_till_done()
        controller = entry.runtime_data.controller
        runners = controller.engine.runners

        def state(source_id: int) -> SourceState | None:
            status = controller.status_of(source_id)
            return status.state if status else None

        await wait_until(
            lambda: state(1) is SourceState.RUNNING and runners[1].stats.frames_inferred > 5,
            controller.async_add_listener,
            60,
        )
        assert hass.states.get("sensor.gate_state").state == "running"
        camera.terminate()  # the camera goes away
        await hass.async_add_executor_job(camera.wait, 10)
        await wait_until(
            lambda: state(1) is not SourceState.RUNNING, controller.async_add_listener, 60
        )
        assert hass.states.get("image.gate_snapshot").state == "unavailable"
        before = runners[0].stats.frames_inferred
        await wait_until(  # the file source is unaffected
            lambda: runners[0].stats.frames_inferred > before + 10,
            controller.async_add_listener,
            60,
        )
    with rtsp_camera(port):  # back on the same address
        await wait_until(lambda: state(1) is SourceState.RUNNING, controller.async_add_listener, 90)
        recovered = runners[1].stats.frames_inferred
        await wait_until(
            lambda: runners[1].stats.frames_inferred > recovered + 5,
            controller.async_add_listener,
            60,
        )
        down = [r for r in caplog.records if "Gate is unavailable" in r.getMessage()]
        back = [r for r in caplog.records if "Gate is available again" in r.getMessage()]
        assert len(down) == 1, [r.getMessage() for r in down]
        assert len(back) == 1
        assert await hass.config_entries.async_unload(entry.entry_id)
