"""The controller of one config entry: Home Assistant lifecycle and entity fan-out.

The MQTT contract (commands, the acknowledgement, status, availability, discovery) is the
engine's `ControlPlane`, shared with the worker; this class adapts Home Assistant to it: its
MQTT client (`HassTransport`), a synced file for the pause (`HassPauseStore`), subscriptions,
timers, repairs, and telling the entities when something they show has changed (through its
`EntityFeed`, `feed.py`, which also keeps the pictures and events they show).

Everything here runs on the event loop except what goes to the executor (importing the
pipeline, starting and stopping it). Pipeline threads never call in here directly: they go
through `LoopBridge`, the one bridge to the loop. The switches and the MQT commands both end in
the control plane's `set_paused`, on this loop, so they always agree.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime, timedelta
from typing import Any

from homeassistant.components import mqtt
from homeassistant.components.mqtt.models import ReceiveMessage
from homeassistant.const import CONF_API_KEY, CONF_NAME, EVENT_HOMEASSISTANT_STOP
from homeassistant.core import Event, HomeAssistant, callback
from homeassistant.exceptions import HomeAssistantError
from homeassistant.helpers.device_registry import DeviceInfo
from homeassistant.helpers.event import async_track_time_interval

from .bridge import LoopBridge
from .const import (
    CONF_BASE_TOPIC,
    CONF_CAMERAS,
    CONF_CLASSES,
    CONF_CONFIDENCE,
    CONF_DETECTOR,
    CONF_DISCOVERY,
    CONF_MAX_FPS,
    CONF_MODEL_ID,
    CONF_MOTION_GATING,
    CONF_SOURCES,
    CONF_TRACKING,
    CONF_ZONES,
    DEFAULT_CONFIDENCE,
    DEFAULT_DISCOVERY,
    DEFAULT_MAX_FPS,
    DOMAIN,
    LOGGER,
)
from .engine.config.camera import CameraSettings
from .engine.contract.control import ControlPlane
from .engine.contract.host import STATUS_INTERVAL
from .engine.contract.status import overall_state, source_state_word
from .engine.contract.topics import availability_topic, control_topic
from .engine.detect.spec import DetectorSpec, parse_detector
from .engine.discovery.devices import DEFAULT_PREFIX, DiscoverySpec
from .engine.fence.gate import PauseGate
from .engine.fence.publisher import FencedPublisher
from .engine.objects.event_records import EventRecord
from .engine.objects.tracking import TrackingOptions
from .engine.objects.zones import SourceZones, zones_from_dict
from .engine.pipeline.engine import Engine
from .engine.pipeline.loader import inference_pipeline_class
from .engine.pipeline.runner import SNAPSHOT_INTERVAL, RunnerOptions
from .engine.pipeline.source_status import SourceStatus
from .engine.video.sources import SourceConfig
from .feed import EntityFeed
from .form_fields import detector_name
from .hass_mqtt import HassTransport, async_check_base_topic, discovery_node, entry_host
from .issues import ISSUE_BASE_TOPIC, ISSUE_PAUSE_STORE, async_sync_issue
from .storage import HassPauseStore, pause_from_restore_cache

EVENT_TICK = 1.0
"""Seconds between two checks for events whose object went unseen (a source gone quiet)."""


class BaseTopicInUseError(HomeAssistantError):
    """Another live host publishes under this entry's base topic."""


def sources_from_entry(data: Mapping[str, Any]) -> list[SourceConfig]:
    """Build source configs from entry data."""
    return [SourceConfig.from_dict(s) for s in data[CONF_SOURCES]]


def zones_from_options(
    options: Mapping[str, Any], sources: Mapping[int, SourceConfig]
) -> dict[int, SourceZones]:
    """Read each source's zones and lines from the entry's options (a removed source's go)."""
    stored = options.get(CONF_ZONES) or {}
    return {
        int(sid): zones_from_dict(drawn)
        for sid, drawn in stored.items()
        if str(sid).isdigit() and int(sid) in sources
    }


def cameras_from_options(
    options: Mapping[str, Any], sources: Mapping[int, SourceConfig]
) -> dict[int, CameraSettings]:
    """Read each camera's own settings from the entry's options (a removed source's go)."""
    stored = options.get(CONF_CAMERAS) or {}
    return {
        int(sid): CameraSettings.from_mapping(own, sources[int(sid)].display_name)
        for sid, own in stored.items()
        if str(sid).isdigit() and int(sid) in sources
    }


def tracking_from_options(options: Mapping[str, Any]) -> TrackingOptions:
    """Read the tracking settings from the entry's options (defaults where none are saved)."""
    return TrackingOptions.from_mapping(options.get(CONF_TRACKING) or {})


def max_fps_from_options(options: Mapping[str, Any]) -> float | None:
    """Read the frame-rate limit from the entry's options (0: no limit)."""
    return float(options.get(CONF_MAX_FPS, DEFAULT_MAX_FPS)) or None


def detector_from_entry(data: Mapping[str, Any], options: Mapping[str, Any]) -> DetectorSpec:
    """Build the detector spec from entry data and options."""
    return parse_detector(
        detector_name(data[CONF_DETECTOR], data.get(CONF_MODEL_ID)),
        confidence=float(options.get(CONF_CONFIDENCE, DEFAULT_CONFIDENCE)),
        classes=options.get(CONF_CLASSES, ()),
        motion_gating=bool(options.get(CONF_MOTION_GATING, True)),
    )


class NvrController:
    """Owns one entry's engine, its control plane, and the Home Assistant side of both."""

    def __init__(
        self,
        hass: HomeAssistant,
        entry_id: str,
        title: str,
        data: dict[str, Any],
        options: dict[str, Any],
    ) -> None:
        """Prepare; nothing runs until `async_start`."""
        self.hass = hass
        self.entry_id = entry_id
        self.title = title
        self.base_topic: str = data[CONF_BASE_TOPIC]
        self.unique_prefix = self.base_topic
        self.sources = {s.source_id: s for s in sources_from_entry(data)}
        self.spec = detector_from_entry(data, options)
        self.tracking = tracking_from_options(options)
        self.zones = zones_from_options(options, self.sources)
        self.cameras = cameras_from_options(options, self.sources)
        self.gate = PauseGate(self.sources)
        self.transport = HassTransport(hass)
        self.bridge = LoopBridge(
            hass, lambda message: self.publisher(message), self._async_source_status
        )
        self.engine = Engine(
            self.sources.values(),
            self.spec,
            self.bridge.deliver,
            gate=self.gate,
            on_status=self.bridge.status,
            options=RunnerOptions(
                max_fps=max_fps_from_options(options),
                api_key=data.get(CONF_API_KEY),
                snapshot_interval=SNAPSHOT_INTERVAL,
                tracking=self.tracking,
                zones=self.zones,
                cameras=self.cameras,
            ),
        )
        self.feed = EntityFeed()
        self.publisher = FencedPublisher.for_engine(
            self.engine, self.transport, self.base_topic, on_published=self.feed.async_published
        )
        self.events = self.publisher.events
        self.store = HassPauseStore(hass, entry_id)
        name = data.get(CONF_NAME, title)
        self.plane = ControlPlane.for_engine(
            self.engine,
            host=entry_host(entry_id, title),
            base_topic=self.base_topic,
            transport=self.transport,
            store=self.store,
            publisher=self.publisher,
            discovery=DiscoverySpec(
                node=discovery_node(self.base_topic),
                device_name=f"{name} detections",
                include_control=False,  # the pause switches and sensors are native entities
            )
            if options.get(CONF_DISCOVERY, DEFAULT_DISCOVERY)
            else None,
            on_change=self._async_plane_changed,
            logger=LOGGER,
        )
        self.plane.add_pause_hook(self.feed.drop_snapshots)
        if self.events is not None:
            self.events.add_listener(self.feed.async_event_engine_changed)
        self._unsubs: list[Callable[[], None]] = []
        self._started = False
        self._stopped = False
        self._unsub_stop: Callable[[], None] | None = None

    # -- lifecycle ------------------------------------------------------------------------------

    async def async_start(self) -> None:
        """Check, restore the pause, start the pipelines, then the control plane.

        Raises the engine's errors and `BaseTopicInUseError`; the caller maps them.
        """
        hass = self.hass
        await self._async_restore()  # the saved pause holds from here, before anything runs
        await hass.async_add_executor_job(inference_pipeline_class)
        check = await async_check_base_topic(hass, self.base_topic, self.plane.host)
        foreign = None if check is None else check.verdict(self.plane.host)
        taken = None if foreign is None else foreign.describe(self.base_topic)
        async_sync_issue(hass, ISSUE_BASE_TOPIC, self.entry_id, self.title, taken)
        if taken is not None:
            raise BaseTopicInUseError(taken)
        if check is not None and check.stale is not None:  # left behind: ours replaces it
            self.plane.took_over(check.stale.id)
        self._started = True
        await hass.async_add_executor_job(self.engine.start)
        self._unsubs += [
            await mqtt.async_subscribe(
                hass,
                control_topic(self.base_topic, "commands"),
                self._async_command,
                qos=1,
                encoding=None,
            ),
            await mqtt.async_subscribe(
                hass, f"{DEFAULT_PREFIX}/status", self._async_ha_status, qos=1
            ),
            await mqtt.async_subscribe(
                hass,
                availability_topic(self.base_topic),
                self._async_availability,
                qos=1,
                encoding=None,
            ),
            mqtt.async_subscribe_connection_status(hass, self._async_mqtt_connection),
            async_track_time_interval(
                hass, self._async_refresh, timedelta(seconds=STATUS_INTERVAL)
            ),
            async_track_time_interval(hass, self._async_tick, timedelta(seconds=EVENT_TICK)),
        ]
        self._unsub_stop = hass.bus.async_listen_once(
            EVENT_HOMEASSISTANT_STOP, self._async_hass_stop
        )
        self.plane.announce()

    async def async_stop(self) -> None:
        """Publish `stopped` and `offline`, then terminate and join the pipelines."""
        if self._stopped:
            return
        self._stopped = True
        while self._unsubs:
            self._unsubs.pop()()
        if self._unsub_stop is not None:
            self._unsub_stop()
            self._unsub_stop = None
        self.bridge.close()
        if self._started:
            self.plane.close()  # the gate refuses every frame from here: the ack is the truth
            await self.transport.async_flush()  # the final status and `offline` reach paho
        await self.hass.async_add_executor_job(self.engine.stop)

    async def _async_hass_stop(self, _event: Event) -> None:
        """Home Assistant is stopping: pipeline threads are not daemons, so stop them now."""
        self._unsub_stop = None  # a fired listen_once must not be unsubscribed
        await self.async_stop()

    async def _async_restore(self) -> None:
        """Apply the saved pause to the gate before any pipeline starts (fail closed)."""
        saved, error = await self.store.async_load()
        if error is None and saved is None:
            saved = pause_from_restore_cache(self.hass, self.unique_prefix, self.sources)
            if saved is not None:
                try:
                    await self.store.async_save(saved)  # migrated: the store is the memory now
                except OSError as err:
                    error = f"Cannot save the pause ({self.store.path}): {err.strerror or err}"
        self.plane.restore(saved, error=error)
        self._async_sync_store_issue()

    @callback
    def _async_sync_store_issue(self) -> None:
        """Raise the repair issue while the pause cannot be read or saved; clear it after."""
        error = self.plane.store_error
        async_sync_issue(self.hass, ISSUE_PAUSE_STORE, self.entry_id, self.title, error)

    # -- the switches' door to the gate ---------------------------------------------------------

    async def async_set_paused(self, paused: bool, source_id: int | None, reason: str) -> None:
        """Pause or resume; on return it is saved, the fence holds and the ack is out."""
        done = self.hass.loop.create_future()
        self.plane.set_paused(paused, source_id, reason, on_done=lambda: done.set_result(None))
        await done

    @callback
    def _async_command(self, msg: ReceiveMessage) -> None:
        payload = msg.payload if isinstance(msg.payload, bytes | str) else str(msg.payload)
        self.plane.handle_command(payload, retained=msg.retain)

    # -- status and entities --------------------------------------------------------------------

    def hub_device_info(self) -> DeviceInfo:
        """Return the entry's device, which every source device hangs from."""
        return DeviceInfo(
            identifiers={(DOMAIN, self.entry_id)},
            name=self.title,
            manufacturer="nvr_inference",
            model=f"InferencePipeline ({self.spec.model_id})",
        )

    @callback
    def async_add_listener(
        self, listener: Callable[[], None], source_id: int | None = None
    ) -> Callable[[], None]:
        """Call `listener()` after changes entities show (of `source_id`, see `EntityFeed`)."""
        return self.feed.async_add_listener(listener, source_id)

    @callback
    def async_add_refresh_listener(self, listener: Callable[[], None]) -> Callable[[], None]:
        """Call `listener()` every `STATUS_INTERVAL` (the values written only then)."""
        return self.feed.async_add_refresh_listener(listener)

    @callback
    def async_add_event_listener(
        self, source_id: int, listener: Callable[[EventRecord], None]
    ) -> Callable[[], None]:
        """Call `listener(record)` for each event of `source_id`; return an unsubscribe."""
        return self.feed.async_add_event_listener(source_id, listener)

    @callback
    def _async_plane_changed(self, source_id: int | None) -> None:
        """Settle the repair issue and tell the entities (a pause, a source, another host)."""
        self._async_sync_store_issue()
        self.feed.async_notify(source_id)

    @callback
    def _async_source_status(self, status: SourceStatus) -> None:
        self.plane.source_changed(status)

    def status_of(self, source_id: int) -> SourceStatus | None:
        """Return a source's latest state."""
        return self.plane.status_of(source_id)

    def zone_count(self, source_id: int, zone: str, object_class: str) -> int:
        """Return the objects of a class standing in a zone of a source (0 untracked)."""
        if self.events is None:
            return 0
        return self.events.zone_counts(source_id).get(zone, {}).get(object_class, 0)

    def line_count(self, source_id: int, line: str, direction: str) -> int:
        """Return the crossings of a line of a source, `in` or `out` (0 untracked)."""
        if self.events is None:
            return 0
        return self.events.line_counts(source_id).get(line, {}).get(direction, 0)

    def published(self, source_id: int) -> int:
        """Return how many detection messages a source has published."""
        return self.publisher.published_by_source.get(source_id, 0)

    @callback
    def _async_tick(self, _now: datetime) -> None:
        self.publisher.tick()

    @callback
    def _async_refresh(self, _now: datetime) -> None:
        self.plane.publish_status()
        self.feed.async_notify()
        self.feed.async_refresh()

    def overall_state(self) -> str:
        """Return the hub's one-word state."""
        statuses = {sid: s for sid in self.sources if (s := self.status_of(sid)) is not None}
        return overall_state(self.gate.snapshot(), statuses)

    def source_state(self, source_id: int) -> str:
        """Return a source's one-word state."""
        snap = self.gate.snapshot()
        return source_state_word(snap.effective(source_id), self.status_of(source_id))

    def status_message(self) -> dict[str, Any]:
        """Build the retained status body."""
        return self.plane.status_message()

    # -- MQTT ------------------------------------------------------------------------------------

    @callback
    def _async_mqtt_connection(self, connected: bool) -> None:
        self.transport.connection_changed(connected)
        if connected:
            self.plane.announce()
        self.feed.async_notify()

    @callback
    def _async_ha_status(self, msg: ReceiveMessage) -> None:
        if msg.payload == "online":
            self.plane.publish_discovery()

    @callback
    def _async_availability(self, msg: ReceiveMessage) -> None:
        payload = msg.payload if isinstance(msg.payload, bytes | str) else str(msg.payload)
        self.plane.observe_availability(payload, retained=msg.retain)
