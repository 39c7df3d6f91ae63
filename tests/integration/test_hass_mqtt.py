"""Home Assistant's real MQTT client against a real broker: what the fence rests on, and ownership.

The integration's fence assumes that its transport hands messages to paho in the order it was
given them, the first of a burst before `publish` returns (an eagerly started drain task). That
rests on Home Assistant internals: this pins them, so an upgrade that changes them fails here
instead of silently weakening the fence.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from functools import partial
import json
from pathlib import Path
from typing import Any
from unittest.mock import patch

from homeassistant.components.mqtt.models import DATA_MQTT
from homeassistant.config_entries import SOURCE_USER, ConfigEntryState
from homeassistant.const import CONF_NAME
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
from homeassistant.helpers import issue_registry as ir
import pytest

from custom_components.nvr_inference.config_flow import CONF_LOOP
from custom_components.nvr_inference.const import (
    CONF_BASE_TOPIC,
    CONF_DETECTOR,
    CONF_SOURCES,
    DOMAIN,
)
from custom_components.nvr_inference.engine.contract.host import (
    HostInfo,
    HostKind,
    availability_payload,
)
from custom_components.nvr_inference.hass_mqtt import HassTransport

from ..mqtt_helpers import Broker, FakeHost, Subscriber
from .conftest import make_nvr_entry, wait_subscriptions, wait_until

pytestmark = [
    pytest.mark.pipeline,
    pytest.mark.usefixtures("enable_custom_integrations", "mqtt_entry"),
]

OTHER = HostInfo("worker:nvr_worker_garage@pi", HostKind.WORKER, "garage")


async def test_the_transport_hands_over_in_order_through_one_drain(
    hass: HomeAssistant, subscriber: Subscriber
) -> None:
    """Pin the Home Assistant internal the integration's fence rests on.

    The first message of a burst reaches paho before `publish` returns (the drain starts
    eagerly and Home Assistant's client calls paho's `publish()` before its first await); the
    rest follow in order through the one drain task, not one task per message.
    """
    paho_client = hass.data[DATA_MQTT].client._mqttc
    handed: list[str] = []
    original = paho_client.publish

    def spy(topic: str, *args: Any, **kwargs: Any) -> Any:
        handed.append(topic)
        return original(topic, *args, **kwargs)

    transport = HassTransport(hass)
    tasks_before = len(asyncio.all_tasks())
    with patch.object(paho_client, "publish", side_effect=spy):
        for n in range(50):
            transport.publish(f"nvr/pin/{n}", b"x", qos=n % 2, retain=False)
            # No await since the first call: the first message is already in paho's hands.
            assert handed[:1] == ["nvr/pin/0"]
        assert len(asyncio.all_tasks()) <= tasks_before + 1  # one drain, not one per message
        await hass.async_block_till_done()
    assert handed == [f"nvr/pin/{n}" for n in range(50)]
    last = await hass.async_add_executor_job(
        subscriber.wait_for, lambda m: m.topic == "nvr/pin/49", 10
    )
    pins = [m.topic for m in subscriber.messages if m.topic.startswith("nvr/pin/")]
    assert pins == [f"nvr/pin/{n}" for n in range(50)] and last.topic == pins[-1]


async def _retain_other_host(hass: HomeAssistant, sub: Subscriber, *, online: bool) -> None:
    status = {"paused": False, "state": "running", "sources": {}, "host": OTHER.as_dict()}
    await hass.async_add_executor_job(sub.publish, "nvr/control/status", json.dumps(status), True)
    await hass.async_add_executor_job(
        sub.publish, "nvr/availability", availability_payload(OTHER, online=online), True
    )


@asynccontextmanager
async def _live_other_host(hass: HomeAssistant, broker: Broker) -> AsyncIterator[FakeHost]:
    """OTHER, live: it answers the check's status request (its 10 s refresh is too far)."""
    other = await hass.async_add_executor_job(partial(FakeHost, broker, OTHER, answer=True))
    try:
        yield other
    finally:
        await hass.async_add_executor_job(other.close)


USER_INPUT = {
    CONF_NAME: "Yard",
    CONF_LOOP: True,
    CONF_DETECTOR: "motion",
    CONF_BASE_TOPIC: "nvr",
}


async def test_the_config_flow_checks_the_broker_for_another_host(
    hass: HomeAssistant, broker: Broker, subscriber: Subscriber, sample_video: Path
) -> None:
    result = await hass.config_entries.flow.async_init(DOMAIN, context={"source": SOURCE_USER})
    user_input = USER_INPUT | {CONF_SOURCES: str(sample_video)}
    with patch("custom_components.nvr_inference.config_flow.check_setup", autospec=True):
        async with _live_other_host(hass, broker) as other:
            result = await hass.config_entries.flow.async_configure(result["flow_id"], user_input)
        assert other.requests == 1
        assert result["type"] is FlowResultType.FORM
        assert result["errors"] == {CONF_BASE_TOPIC: "base_topic_in_use"}
        assert result["description_placeholders"] == {"owner": "garage (worker)"}

        # The other host went offline: the topic is free.
        await _retain_other_host(hass, subscriber, online=False)
        result = await hass.config_entries.flow.async_configure(result["flow_id"], user_input)
        assert result["type"] is FlowResultType.CREATE_ENTRY
        assert result["data"][CONF_BASE_TOPIC] == "nvr"


async def test_the_config_flow_takes_a_silent_online_over(
    hass: HomeAssistant,
    subscriber: Subscriber,
    sample_video: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """The same rule as a start: an `online` nothing refreshes is not a reason to refuse."""
    await _retain_other_host(hass, subscriber, online=True)  # and nothing more from it
    result = await hass.config_entries.flow.async_init(DOMAIN, context={"source": SOURCE_USER})
    with (
        patch("custom_components.nvr_inference.config_flow.check_setup", autospec=True),
        patch("custom_components.nvr_inference.hass_mqtt.STALE_AFTER", 0.5),
    ):
        result = await hass.config_entries.flow.async_configure(
            result["flow_id"], USER_INPUT | {CONF_SOURCES: str(sample_video)}
        )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert f"another worker ('garage', id {OTHER.id}) that said nothing for 0.5 s" in caplog.text


async def test_setup_refuses_a_base_topic_another_live_host_owns(
    hass: HomeAssistant,
    broker: Broker,
    subscriber: Subscriber,
    sample_video: Path,
    issue_registry: ir.IssueRegistry,
) -> None:
    entry = make_nvr_entry(hass, sample_video)
    async with _live_other_host(hass, broker):
        assert not await hass.config_entries.async_setup(entry.entry_id)
        await hass.async_block_till_done()
    assert entry.state is ConfigEntryState.SETUP_RETRY
    assert "garage" in (entry.reason or "")
    issue = issue_registry.async_get_issue(DOMAIN, f"base_topic_in_use_{entry.entry_id}")
    assert issue is not None
    # Nothing of ours went out on the other host's topics: its availability still stands.
    retained = await hass.async_add_executor_job(Subscriber, broker, ["nvr/availability"], "late")
    try:
        seen = await hass.async_add_executor_job(
            retained.wait_for, lambda m: m.topic == "nvr/availability", 10
        )
    finally:
        await hass.async_add_executor_job(retained.close)
    assert json.loads(seen.payload)["host"] == OTHER.id

    await _retain_other_host(hass, subscriber, online=False)
    assert await hass.config_entries.async_reload(entry.entry_id)
    await hass.async_block_till_done()
    assert entry.state is ConfigEntryState.LOADED
    assert issue_registry.async_get_issue(DOMAIN, f"base_topic_in_use_{entry.entry_id}") is None
    assert await hass.config_entries.async_unload(entry.entry_id)


async def test_setup_takes_a_silent_online_over(
    hass: HomeAssistant,
    broker: Broker,
    subscriber: Subscriber,
    sample_video: Path,
    issue_registry: ir.IssueRegistry,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """OTHER crashed without a last will: after the bound the entry starts, and says why."""
    await _retain_other_host(hass, subscriber, online=True)
    entry = make_nvr_entry(hass, sample_video)
    with patch("custom_components.nvr_inference.hass_mqtt.STALE_AFTER", 0.5):
        assert await hass.config_entries.async_setup(entry.entry_id)
        await hass.async_block_till_done()
    assert entry.state is ConfigEntryState.LOADED
    assert issue_registry.async_get_issue(DOMAIN, f"base_topic_in_use_{entry.entry_id}") is None
    assert "stopped without its last will" in caplog.text
    ours = entry.runtime_data.controller.plane.host
    await hass.async_add_executor_job(
        subscriber.wait_for,
        lambda m: m.topic == "nvr/availability" and json.loads(m.payload)["host"] == ours.id,
    )
    # A copy of the left-behind `online` its subscription may get is not "another host" (here
    # Home Assistant's batched SUBSCRIBE usually goes after our own `online`; the worker's
    # cannot: test_worker_stale_host.py).
    await wait_subscriptions(hass)
    after = subscriber.messages[-1].seq
    await hass.async_add_executor_job(
        subscriber.publish, "nvr/control/commands", '{"command": "status"}'
    )
    await hass.async_add_executor_job(
        subscriber.wait_for, lambda m: m.topic == "nvr/control/status", 30, after
    )
    assert entry.runtime_data.controller.plane.foreign is None
    assert await hass.config_entries.async_unload(entry.entry_id)


async def test_a_second_host_appearing_later_is_reported(
    hass: HomeAssistant, subscriber: Subscriber, sample_video: Path
) -> None:
    entry = make_nvr_entry(hass, sample_video)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    await wait_subscriptions(hass)
    controller = entry.runtime_data.controller
    await hass.async_add_executor_job(
        subscriber.publish, "nvr/availability", availability_payload(OTHER, online=True)
    )
    await wait_until(lambda: controller.plane.foreign is not None, controller.async_add_listener)
    assert controller.plane.foreign.host == OTHER.id
    assert await hass.config_entries.async_unload(entry.entry_id)
