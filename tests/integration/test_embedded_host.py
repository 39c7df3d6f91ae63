"""The embedded entry as one host among others on the broker (issue 21, item 6).

Its discovery is off unless asked (the Home Assistant that runs it has the native entities),
and an entry that is not running hands its base topic back: its own stale retained `online`,
left by a crash (Home Assistant's client carries only Home Assistant's own last will), becomes
`offline`, so the worker it hands over to may start. Real broker, Home Assistant's real client.
"""

from __future__ import annotations

import json
from pathlib import Path

from homeassistant.config_entries import ConfigEntryState
from homeassistant.core import HomeAssistant
import pytest

from custom_components.nvr_inference.const import CONF_DISCOVERY
from custom_components.nvr_inference.engine.contract.host import (
    HostInfo,
    HostKind,
    foreign_host,
    parse_availability,
)
from custom_components.nvr_inference.hass_mqtt import async_release_base_topic, entry_host

from ..mqtt_helpers import Broker, Received, Subscriber, is_status
from .conftest import PIPELINE_GONE, hosting, make_nvr_entry

pytestmark = pytest.mark.usefixtures("enable_custom_integrations", "mqtt_entry")

AVAILABILITY = "nvr/availability"
WORKER = HostInfo("worker:nvr@box", HostKind.WORKER, "nvr")


def _retained(broker: Broker, topic: str) -> Received:
    """Connect a new client and return the retained message it gets on `topic`."""
    late = Subscriber(broker, [topic], client_id="nvr-late-subscriber")
    try:
        return late.wait_for(lambda m: m.topic == topic and m.retain, 10)
    finally:
        late.close()


@pytest.mark.pipeline
async def test_discovery_is_off_unless_the_entry_asks_for_it(
    hass: HomeAssistant, sample_video: Path, subscriber: Subscriber
) -> None:
    """An entry whose options do not say (new entries): nothing under `homeassistant/`."""
    entry = make_nvr_entry(hass, sample_video)
    options = dict(entry.options)
    del options[CONF_DISCOVERY]
    hass.config_entries.async_update_entry(entry, options=options)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    # The announce ends with availability, then discovery (when on); everything it sent is
    # before the answer to a status request sent once availability is seen.
    online = await hass.async_add_executor_job(
        subscriber.wait_for, lambda m: m.topic == AVAILABILITY, 30
    )
    await hass.async_add_executor_job(
        subscriber.publish, "nvr/control/commands", '{"command": "status"}'
    )
    barrier = await hass.async_add_executor_job(
        subscriber.wait_for, is_status(lambda _s: True), 30, online.seq
    )
    assert subscriber.count(lambda m: m.topic.startswith("homeassistant/"), -1, barrier.seq) == 0
    assert await hass.config_entries.async_unload(entry.entry_id)


async def test_an_entry_that_cannot_start_hands_its_stale_online_back(
    hass: HomeAssistant, broker: Broker, subscriber: Subscriber, tmp_path: Path
) -> None:
    """Crash, then an upgrade the pipeline cannot follow: the worker must be let in."""
    entry = make_nvr_entry(hass, tmp_path / "yard.avi")
    me = entry_host(entry.entry_id, entry.title)
    stale = json.dumps({"state": "online", "host": me.id})
    await hass.async_add_executor_job(subscriber.publish, AVAILABILITY, stale, True)
    # What a worker's start check says today: the base topic is taken.
    assert foreign_host(WORKER, None, parse_availability(stale)) is not None

    with hosting(PIPELINE_GONE):
        assert not await hass.config_entries.async_setup(entry.entry_id)
    assert entry.state is ConfigEntryState.SETUP_ERROR

    offline = await hass.async_add_executor_job(
        subscriber.wait_for,
        lambda m: m.topic == AVAILABILITY and parse_availability(m.payload).online is False,
    )
    assert json.loads(offline.payload)["host"] == me.id
    retained = await hass.async_add_executor_job(_retained, broker, AVAILABILITY)
    assert foreign_host(WORKER, None, parse_availability(retained.payload)) is None


async def test_another_hosts_online_is_left_alone(hass: HomeAssistant, broker: Broker) -> None:
    """Only our own `online` is handed back: a worker that took the topic over keeps it."""
    theirs = json.dumps({"state": "online", "host": WORKER.id})
    publisher = Subscriber(broker, [AVAILABILITY], client_id="nvr-worker-stand-in")
    try:
        await hass.async_add_executor_job(publisher.publish, AVAILABILITY, theirs, True)
    finally:
        publisher.close()
    await async_release_base_topic(hass, "nvr", entry_host("01ENTRY", "Test NVR"))
    retained = await hass.async_add_executor_job(_retained, broker, AVAILABILITY)
    assert retained.payload.decode() == theirs
