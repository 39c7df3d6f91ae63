"""Secrets never leave: API key and RTSP credentials, at DEBUG level, on every MQTT topic."""

from __future__ import annotations

import logging
from pathlib import Path

from homeassistant.const import CONF_API_KEY
from homeassistant.core import HomeAssistant
from homeassistant.setup import async_setup_component
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry
from pytest_homeassistant_custom_component.components.diagnostics import (
    get_diagnostics_for_config_entry,
)
from pytest_homeassistant_custom_component.typing import ClientSessionGenerator

from custom_components.nvr_inference.const import CONF_SOURCES, DOMAIN
from custom_components.nvr_inference.engine.pipeline.source_status import SourceState

from ..integration.conftest import NVR_OPTIONS, nvr_entry_data, wait_subscriptions, wait_until
from ..mqtt_helpers import Subscriber, free_port

API_KEY = "rf_SECRET_api_key_5f3a"
PASSWORD = "hunter2-SECRET"

pytestmark = [
    pytest.mark.pipeline,
    pytest.mark.usefixtures("enable_custom_integrations", "mqtt_entry"),
]


async def test_secrets_never_appear(
    hass: HomeAssistant,
    hass_client: ClientSessionGenerator,
    subscriber: Subscriber,
    sample_video: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    data = nvr_entry_data(sample_video)
    data[CONF_API_KEY] = API_KEY
    data[CONF_SOURCES].append(
        {
            "source_id": 1,
            "reference": f"rtsp://admin:{PASSWORD}@127.0.0.1:{free_port()}/live",
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
    await wait_subscriptions(hass)
    controller = entry.runtime_data.controller
    await wait_until(
        # A camera down at start is retried (reconnecting), with the error that says why.
        lambda: (s := controller.status_of(1)) is not None
        and s.state is SourceState.RECONNECTING
        and s.error is not None,
        controller.async_add_listener,
    )
    await hass.async_add_executor_job(subscriber.wait_for, lambda m: "/detections/" in m.topic, 30)
    # Bad commands echo what they received: make sure a secret sent in one is not kept either.
    await hass.async_add_executor_job(
        subscriber.publish, "nvr/control/commands", b'{"command": "status"}'
    )
    diagnostics = await get_diagnostics_for_config_entry(hass, hass_client, entry)
    assert await hass.config_entries.async_unload(entry.entry_id)
    await hass.async_block_till_done()

    payloads = b"\n".join(m.topic.encode() + b" " + m.payload for m in subscriber.messages)
    states = str([s.as_dict() for s in hass.states.async_all()])
    for secret in (API_KEY, PASSWORD):
        assert secret not in caplog.text, f"{secret} in the log"
        assert secret.encode() not in payloads, f"{secret} on MQTT"
        assert secret not in str(diagnostics), f"{secret} in diagnostics"
        assert secret not in states, f"{secret} in entity states"
    assert "/control/status" in payloads.decode()  # the check above looked at real traffic
    # The URL itself did pass through the log and the status, with its credentials removed.
    assert "rtsp://127.0.0.1:" in caplog.text
    assert b"rtsp://127.0.0.1:" in payloads
    assert "rtsp://***@127.0.0.1:" in str(diagnostics)
