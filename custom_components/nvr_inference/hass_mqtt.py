"""Home Assistant's MQTT client, adapted to the engine: the transport and the base-topic check.

The base-topic check also hands a topic back: an entry that is not running replaces its own
stale retained `online` (see `async_release_base_topic`).

Also the names an entry goes by on the broker (its host identity, its discovery node) and
the removal of its discovery config: what the controller and the entry's removal share.

`HassTransport.publish` starts `mqtt.async_publish` as an *eager* task: it runs synchronously up
to its first await, and Home Assistant's client calls paho's `publish()` before that await, so
the message is in paho's outgoing queue when `publish` returns, inside the gate's fence. That
is a Home Assistant internal the fence rests on; `tests/integration/test_hass_mqtt.py` pins it
against the real client and a real broker, so an upgrade that changes it fails CI.

Everything here runs on the event loop.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from homeassistant.components import mqtt
from homeassistant.components.mqtt.models import ReceiveMessage
from homeassistant.core import HomeAssistant, callback
from homeassistant.exceptions import HomeAssistantError

from .const import LOGGER
from .engine.contract.discovery import DEFAULT_PREFIX, discovery_topic, node_id
from .engine.contract.host import (
    ForeignHost,
    HostInfo,
    HostKind,
    StartCheck,
    availability_payload,
)

START_CHECK_TIMEOUT = 10.0
"""Seconds to wait for the base-topic probe to come back through the broker."""


def discovery_node(base_topic: str) -> str:
    """Return the discovery node id of the entry that publishes under `base_topic`."""
    return node_id(f"nvr_inference_{base_topic}")


def entry_host(entry_id: str, title: str) -> HostInfo:
    """Return the identity an entry publishes under (stable: the entry id)."""
    return HostInfo(f"ha:{entry_id}", HostKind.INTEGRATION, title)


async def async_remove_discovery(hass: HomeAssistant, base_topic: str) -> None:
    """Clear an entry's retained discovery config, so its discovered entities go too."""
    topic = discovery_topic(DEFAULT_PREFIX, discovery_node(base_topic))
    try:
        await mqtt.async_publish(hass, topic, "", qos=1, retain=True)
    except HomeAssistantError as err:
        LOGGER.warning("Cannot remove the discovery config on %s: %s", topic, err)


class HassTransport:
    """The engine's `Transport` over Home Assistant's MQTT client (event loop only)."""

    def __init__(self, hass: HomeAssistant) -> None:
        """Bind to Home Assistant's MQTT integration."""
        self._hass = hass
        self._failure_logged = False

    @property
    def connected(self) -> bool:
        """Return True while Home Assistant's client is connected."""
        return mqtt.is_connected(self._hass)

    @callback
    def publish(self, topic: str, payload: str | bytes, *, qos: int, retain: bool) -> object:
        """Hand the message to paho before returning (an eager task; see the module doc)."""
        return self._hass.async_create_task(
            self._async_publish(topic, payload, qos, retain),
            "nvr_inference publish",
            eager_start=True,
        )

    async def _async_publish(
        self, topic: str, payload: str | bytes, qos: int, retain: bool
    ) -> None:
        try:
            await mqtt.async_publish(self._hass, topic, payload, qos=qos, retain=retain)
        except HomeAssistantError as err:
            if not self._failure_logged:
                self._failure_logged = True
                LOGGER.warning("Cannot publish to %s: %s (logged once)", topic, err)


async def async_check_base_topic(
    hass: HomeAssistant, base_topic: str, me: HostInfo
) -> ForeignHost | None:
    """Return another live host publishing under `base_topic`, or None.

    Without a broker connection, or when the probe does not come back in time, there is
    nothing to go on: None (the running host's availability watch still reports a second
    host later).
    """
    check = await _async_read_base_topic(hass, base_topic)
    return None if check is None else check.verdict(me)


async def async_release_base_topic(hass: HomeAssistant, base_topic: str, me: HostInfo) -> None:
    """Replace our own retained `online` with `offline`: the entry is not running.

    Why: the entry's availability is published through Home Assistant's client, whose one
    last will is Home Assistant's own (`homeassistant/status`), so after a crash the entry's
    retained `online` outlives it. When the entry then cannot start (the pipeline is gone
    after an upgrade: the documented move to the worker), that stale `online` would make the
    worker refuse the base topic. Only our own `online` is touched: another host's stays.
    """
    if not await mqtt.async_wait_for_mqtt_client(hass):
        return
    check = await _async_read_base_topic(hass, base_topic)
    if check is None:
        return
    seen = check.availability
    if seen is None or not seen.online or seen.host != me.id:
        return
    LOGGER.debug("Not running: replacing the stale 'online' on %s", check.availability_topic)
    try:
        await mqtt.async_publish(
            hass,
            check.availability_topic,
            availability_payload(me, online=False),
            qos=1,
            retain=True,
        )
    except HomeAssistantError as err:
        LOGGER.warning("Cannot publish to %s: %s", check.availability_topic, err)


async def _async_read_base_topic(hass: HomeAssistant, base_topic: str) -> StartCheck | None:
    """Read what the broker retains under `base_topic`; None when it cannot be read now.

    Subscribes to what `StartCheck` needs, publishes its probe once the broker granted the
    subscription, and waits for the probe to come back.
    """
    if not await mqtt.async_wait_for_mqtt_client(hass) or not mqtt.is_connected(hass):
        LOGGER.debug("MQTT is not connected: the base topic %s is not checked", base_topic)
        return None
    complete = asyncio.Event()
    check = StartCheck(base_topic, complete.set)

    @callback
    def _received(msg: ReceiveMessage) -> None:
        payload = msg.payload if isinstance(msg.payload, bytes | str) else str(msg.payload)
        check.offer(msg.topic, payload)

    unsubs: list[Callable[[], None]] = []
    subscribed = asyncio.Event()
    try:
        unsubs.extend(
            [
                await mqtt.async_subscribe(hass, topic, _received, qos=1, encoding=None)
                for topic in check.topics
            ]
        )
        unsubs.append(mqtt.async_on_subscribe_done(hass, check.probe_topic, 1, subscribed.set))
        async with asyncio.timeout(START_CHECK_TIMEOUT):
            await subscribed.wait()
            await mqtt.async_publish(hass, check.probe_topic, check.probe_payload, qos=1)
            await complete.wait()
    except (TimeoutError, HomeAssistantError) as err:
        LOGGER.warning(
            "Could not check who else publishes under %s: %s", base_topic, err or "timeout"
        )
        return None
    finally:
        for unsub in unsubs:
            unsub()
    return check
