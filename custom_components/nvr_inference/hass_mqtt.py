"""Home Assistant's MQTT client, adapted to the engine: the transport and the base-topic check.

The base-topic check also hands a topic back: an entry that is not running replaces its own
stale retained `online` (see `async_release_base_topic`).

Also the names an entry goes by on the broker (its host identity, its discovery node) and
the removal of what an entry retained: what the controller and the entry's removal share.

`HassTransport.publish` appends the message to one FIFO and returns; one drain task hands the
FIFO's messages to Home Assistant's client, one after the other, in order. The drain starts
eagerly, so the first message of a burst reaches paho before `publish` returns (Home
Assistant's client calls paho's `publish()` before its first await); the others follow as paho
writes each one (the drain awaits it). Order is what the fence needs: everything the entry
publishes goes through the one FIFO, so an acknowledgement handed over after a detection is
written after it. The FIFO is the backlog (`backlogged`); it never outlives a connection.
`tests/integration/test_hass_mqtt.py` pins this against the real client and a real broker.

Everything here runs on the event loop.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Callable
from contextlib import suppress

from homeassistant.components import mqtt
from homeassistant.components.mqtt.models import ReceiveMessage
from homeassistant.core import HomeAssistant, callback
from homeassistant.exceptions import HomeAssistantError

from .const import LOGGER
from .engine.contract.host import (
    STALE_AFTER,
    STATUS_REQUEST,
    HostInfo,
    HostKind,
    StartCheck,
    availability_payload,
)
from .engine.contract.retained import RetainedScan
from .engine.contract.topics import node_id
from .engine.contract.transport import MAX_BACKLOG, Outgoing
from .engine.discovery.devices import DEFAULT_PREFIX

FLUSH_TIMEOUT = 3.0
"""Seconds a stopping entry waits for its last messages to reach paho."""

START_CHECK_TIMEOUT = 10.0
"""Seconds to wait for the base-topic probe to come back through the broker."""


def discovery_node(base_topic: str) -> str:
    """Return the discovery node id of the entry that publishes under `base_topic`."""
    return node_id(f"nvr_inference_{base_topic}")


def entry_host(entry_id: str, title: str) -> HostInfo:
    """Return the identity an entry publishes under (stable: the entry id)."""
    return HostInfo(f"ha:{entry_id}", HostKind.INTEGRATION, title)


async def async_remove_or_retry(hass: HomeAssistant, base_topic: str, me: HostInfo) -> None:
    """Clear what a removed entry retained; if MQTT is away, at its next connection.

    The retry lives in memory: if Home Assistant restarts before MQTT is back, it is lost
    (docs/mqtt-contract.md says how to clear by hand).
    """
    if await async_remove_retained(hass, base_topic, me):
        return
    LOGGER.warning(
        "Could not clear what %s retains on the broker now; trying again when MQTT connects",
        base_topic,
    )
    unsub: list[Callable[[], None]] = []
    running = False

    async def _async_retry() -> None:
        nonlocal running
        running = True
        try:
            if await async_remove_retained(hass, base_topic, me):
                while unsub:
                    unsub.pop()()
        finally:
            running = False

    @callback
    def _connection(connected: bool) -> None:
        if connected and not running:
            hass.async_create_background_task(_async_retry(), "nvr_inference removal")

    try:
        unsub.append(mqtt.async_subscribe_connection_status(hass, _connection))
    except KeyError:  # MQTT itself is not set up: nothing to retry on
        LOGGER.warning("MQTT is not set up: clear %s/# and its discovery by hand", base_topic)


async def async_remove_retained(hass: HomeAssistant, base_topic: str, me: HostInfo) -> bool:
    """Clear everything the entry retained (discovery, availability, status, counts, pictures).

    Found on the broker (`RetainedScan`), then cleared, then looked for again, up to three
    times. Returns False when MQTT is not connected or something stays (the caller retries).
    """
    for _attempt in range(3):
        if not mqtt.is_connected(hass):
            return False
        found = await _async_scan_retained(hass, base_topic, me)
        if found is None:
            return False
        if not found:
            return True
        for topic in found:
            try:
                await mqtt.async_publish(hass, topic, "", qos=1, retain=True)
            except HomeAssistantError as err:
                LOGGER.warning("Cannot clear the retained %s: %s", topic, err)
                return False
    return False


async def _async_scan_retained(
    hass: HomeAssistant, base_topic: str, me: HostInfo
) -> list[str] | None:
    complete = asyncio.Event()
    scan = RetainedScan(base_topic, discovery_node(base_topic), DEFAULT_PREFIX, complete.set)

    @callback
    def _received(msg: ReceiveMessage) -> None:
        payload = msg.payload if isinstance(msg.payload, bytes) else str(msg.payload).encode()
        scan.offer(msg.topic, payload, retained=msg.retain)

    unsubs: list[Callable[[], None]] = []
    subscribed = asyncio.Event()
    try:
        unsubs.append(mqtt.async_on_subscribe_done(hass, scan.filters[-1], 1, subscribed.set))
        unsubs.extend(
            [
                await mqtt.async_subscribe(hass, topic, _received, qos=1, encoding=None)
                for topic in scan.filters
            ]
        )
        async with asyncio.timeout(START_CHECK_TIMEOUT):
            await subscribed.wait()
            await mqtt.async_publish(hass, scan.probe_topic, scan.probe_payload, qos=1)
            await complete.wait()
    except (TimeoutError, HomeAssistantError) as err:
        LOGGER.warning("Could not look for what %s retains: %s", base_topic, err or "timeout")
        return None
    finally:
        for unsub in unsubs:
            unsub()
    return scan.to_clear(me)


class HassTransport:
    """The engine's `Transport` over Home Assistant's MQTT client (event loop only)."""

    def __init__(self, hass: HomeAssistant) -> None:
        """Bind to Home Assistant's MQTT integration."""
        self._hass = hass
        self._failure_logged = False
        self._queue: deque[Outgoing] = deque()
        self._drain: asyncio.Task[None] | None = None

    @property
    def connected(self) -> bool:
        """Return True while Home Assistant's client is connected."""
        return mqtt.is_connected(self._hass)

    @property
    def backlogged(self) -> bool:
        """Return True while more than `MAX_BACKLOG` messages wait for the drain."""
        return len(self._queue) > MAX_BACKLOG

    @callback
    def publish(self, topic: str, payload: str | bytes, *, qos: int, retain: bool) -> object:
        """Queue the message behind every earlier one; start the drain if it is idle."""
        self._queue.append(Outgoing(topic, payload, qos, retain))
        if self._drain is None:
            drain = self._hass.async_create_task(
                self._async_drain(), "nvr_inference publish", eager_start=True
            )
            if not drain.done():
                self._drain = drain
        return None

    @callback
    def connection_changed(self, connected: bool) -> None:
        """Follow the connection: when it goes, what paho had not written is gone, so is the FIFO.

        A message paho took but never wrote would keep the drain waiting for Home Assistant's
        10 s timeout, and every later message, fresh ones too, behind it.
        """
        if connected:
            return
        self._queue.clear()
        if self._drain is not None:
            self._drain.cancel()
            self._drain = None

    async def async_flush(self) -> None:
        """Wait (bounded) until every queued message was handed over (the host stops)."""
        drain = self._drain
        if drain is None:
            return
        try:
            async with asyncio.timeout(FLUSH_TIMEOUT):
                await asyncio.shield(drain)
        except (TimeoutError, asyncio.CancelledError):
            LOGGER.debug("%d message(s) not handed to MQTT at stop", len(self._queue))

    async def _async_drain(self) -> None:
        try:
            while self._queue:
                out = self._queue.popleft()
                try:
                    await mqtt.async_publish(
                        self._hass, out.topic, out.payload, qos=out.qos, retain=out.retain
                    )
                except HomeAssistantError as err:
                    if not self._failure_logged:
                        self._failure_logged = True
                        LOGGER.warning("Cannot publish to %s: %s (logged once)", out.topic, err)
        finally:
            if self._drain is asyncio.current_task():
                self._drain = None


async def async_check_base_topic(
    hass: HomeAssistant, base_topic: str, me: HostInfo
) -> StartCheck | None:
    """Read `base_topic`, and whether another host's `online` there is live; None: unknown.

    The check's `verdict(me)` is the other live host, if any; its `stale` the host whose
    `online` was left behind and is taken over (the check logged it). Without a broker
    connection, or when the probe does not come back in time, there is nothing to go on: None
    (the running host's availability watch still reports a second host later).
    """
    return await _async_read_base_topic(hass, base_topic, me)


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


async def _async_read_base_topic(
    hass: HomeAssistant, base_topic: str, me: HostInfo | None = None
) -> StartCheck | None:
    """Read what the broker retains under `base_topic`; None when it cannot be read now.

    Subscribes to what `StartCheck` needs, publishes its probe once the broker granted the
    subscription, and waits for the probe to come back. With `me`, when another host's
    `online` is there, asks that host for its status and listens up to `STALE_AFTER` for it.
    """
    if not await mqtt.async_wait_for_mqtt_client(hass) or not mqtt.is_connected(hass):
        LOGGER.debug("MQTT is not connected: the base topic %s is not checked", base_topic)
        return None
    complete, heard = asyncio.Event(), asyncio.Event()
    check = StartCheck(base_topic, complete.set, stale_after=STALE_AFTER)  # read now: patchable

    @callback
    def _received(msg: ReceiveMessage) -> None:
        payload = msg.payload if isinstance(msg.payload, bytes | str) else str(msg.payload)
        check.offer(msg.topic, payload, retained=msg.retain)

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
        if me is not None and (other := check.watch(me, heard.set)) is not None:
            LOGGER.debug(
                "The base topic %s says another host (%s) is online; asking it for its status",
                base_topic,
                other.id,
            )
            await mqtt.async_publish(hass, check.request_topic, STATUS_REQUEST, qos=1)
            with suppress(TimeoutError):
                async with asyncio.timeout(check.stale_after):
                    await heard.wait()
    except (TimeoutError, HomeAssistantError) as err:
        LOGGER.warning(
            "Could not check who else publishes under %s: %s", base_topic, err or "timeout"
        )
        return None
    finally:
        for unsub in unsubs:
            unsub()
    return check
