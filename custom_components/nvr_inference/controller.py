"""The controller of one config entry: engine lifecycle, the control plane, and MQTT glue.

Everything here runs on the event loop except what it sends to the executor (importing the
pipeline, starting and stopping it). Pipeline threads never call in here directly: they go
through `LoopBridge`, the one bridge to the loop.

The two doors to the gate, the switch entities and the MQTT commands, both end in
`async_set_paused`, which changes the gate (the fence holds from here), then publishes the
retained status (the acknowledgement), then updates the entities. Same thread, same order,
so they always agree.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from homeassistant.components import mqtt
from homeassistant.components.mqtt.models import ReceiveMessage
from homeassistant.const import (
    CONF_API_KEY,
    CONF_NAME,
    EVENT_HOMEASSISTANT_STOP,
    Platform,
)
from homeassistant.core import Event, HomeAssistant, callback
from homeassistant.exceptions import HomeAssistantError
from homeassistant.helpers import entity_registry as er
from homeassistant.helpers.device_registry import DeviceInfo
from homeassistant.helpers.event import async_track_time_interval
from homeassistant.helpers.restore_state import async_get as async_get_restore_state

from .bridge import LoopBridge
from .const import (
    BUILTIN_CLASSES,
    CONF_BASE_TOPIC,
    CONF_CLASSES,
    CONF_CONFIDENCE,
    CONF_DETECTOR,
    CONF_DISCOVERY,
    CONF_MAX_FPS,
    CONF_MODEL_ID,
    CONF_MOTION_GATING,
    CONF_SOURCES,
    DEFAULT_CONFIDENCE,
    DEFAULT_DISCOVERY_PREFIX,
    DEFAULT_MAX_FPS,
    DETECTOR_LOCAL,
    DETECTOR_ROBOFLOW,
    DOMAIN,
    LOGGER,
)
from .engine.commands import CommandError, CommandName, accept_command
from .engine.detectors import DetectorSpec, parse_detector
from .engine.discovery import build_discovery, discovery_topic, node_id
from .engine.gate import PauseGate
from .engine.messages import DetectionMessage
from .engine.pipeline import inference_pipeline_class
from .engine.ratelimit import RateLimitedLog
from .engine.runner import Engine, RunnerOptions, SourceStatus
from .engine.sources import SourceConfig
from .engine.status import (
    availability_topic,
    build_status,
    control_topic,
    overall_state,
    source_state_word,
    status_json,
)

STATS_INTERVAL = timedelta(seconds=10)
"""How often fps/latency sensors and the retained status refresh."""

SNAPSHOT_INTERVAL = 2.0
"""Seconds between two snapshots of one source (a JPEG encode on the dispatch thread)."""

ORIGIN = {
    "name": "nvr_inference",
    "sw": "0.1.0",
    "url": "https://github.com/nvr-inference/nvr_inference",
}


def sources_from_entry(data: dict[str, Any]) -> list[SourceConfig]:
    """Build source configs from entry data."""
    return [SourceConfig.from_dict(s) for s in data[CONF_SOURCES]]


def discovery_node(base_topic: str) -> str:
    """Return the discovery node id of the entry that publishes under `base_topic`."""
    return node_id(f"nvr_inference_{base_topic}")


async def async_remove_discovery(hass: HomeAssistant, base_topic: str) -> None:
    """Clear an entry's retained discovery config, so its discovered entities go too."""
    topic = discovery_topic(DEFAULT_DISCOVERY_PREFIX, discovery_node(base_topic))
    try:
        await mqtt.async_publish(hass, topic, "", qos=1, retain=True)
    except HomeAssistantError as err:
        LOGGER.warning("Cannot remove the discovery config on %s: %s", topic, err)


def detector_from_entry(data: dict[str, Any], options: dict[str, Any]) -> DetectorSpec:
    """Build the detector spec from entry data and options."""
    name = data[CONF_DETECTOR]
    if name == DETECTOR_ROBOFLOW:
        name = f"roboflow:{data[CONF_MODEL_ID]}"
    elif name == DETECTOR_LOCAL:
        name = f"local:{data[CONF_MODEL_ID]}"
    return parse_detector(
        name,
        confidence=float(options.get(CONF_CONFIDENCE, DEFAULT_CONFIDENCE)),
        classes=options.get(CONF_CLASSES, ()),
        motion_gating=bool(options.get(CONF_MOTION_GATING, True)),
    )


class NvrController:
    """Owns one entry's engine and its MQTT control plane."""

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
        self.discovery_enabled = bool(options.get(CONF_DISCOVERY, True))
        self.gate = PauseGate(self.sources)
        self.bridge = LoopBridge(
            hass, self.gate, self.base_topic, self._async_source_status, self._async_published
        )
        self.engine = Engine(
            self.sources.values(),
            self.spec,
            self.bridge.deliver,
            gate=self.gate,
            on_status=self.bridge.status,
            options=RunnerOptions(
                max_fps=float(options.get(CONF_MAX_FPS, DEFAULT_MAX_FPS)) or None,
                api_key=data.get(CONF_API_KEY),
                snapshot_interval=SNAPSHOT_INTERVAL,
            ),
        )
        self.statuses: dict[int, SourceStatus] = {}
        self.published: dict[int, int] = dict.fromkeys(self.sources, 0)
        self.snapshots: dict[int, tuple[bytes, datetime]] = {}
        self.changed = datetime.now(UTC)
        self.reason = "start"
        self.last_error: dict[str, Any] | None = None
        # Keyed by the source an entity shows (None: the hub, and anyone who wants every
        # change). A source's snapshot or state then rewrites that source's entities only, not
        # every entity of every camera: with 16 cameras, a snapshot every 2 s each would
        # otherwise be about 900 state writes per second on the event loop.
        self._listeners: dict[int | None, list[Callable[[], None]]] = {None: []}
        self._unsubs: list[Callable[[], None]] = []
        self._started = False
        self._unsub_stop: Callable[[], None] | None = None
        self._command_log = RateLimitedLog(LOGGER)
        self._node = discovery_node(self.base_topic)
        self._name = data.get(CONF_NAME, title)

    # -- lifecycle ------------------------------------------------------------------------------

    async def async_start(self) -> None:
        """Start the pipeline and the control plane. Raises the engine's errors."""
        await self.hass.async_add_executor_job(inference_pipeline_class)
        self._restore_pause_state()
        await self.hass.async_add_executor_job(self.engine.start)
        self._started = True
        hass = self.hass
        self._unsubs.append(
            await mqtt.async_subscribe(
                hass,
                control_topic(self.base_topic, "commands"),
                self._async_command,
                qos=1,
                encoding=None,
            )
        )
        self._unsubs.append(
            await mqtt.async_subscribe(
                hass, f"{DEFAULT_DISCOVERY_PREFIX}/status", self._async_ha_status, qos=1
            )
        )
        self._unsubs.append(
            mqtt.async_subscribe_connection_status(hass, self._async_mqtt_connection)
        )
        self._unsubs.append(async_track_time_interval(hass, self._async_refresh, STATS_INTERVAL))
        self._unsub_stop = hass.bus.async_listen_once(
            EVENT_HOMEASSISTANT_STOP, self._async_hass_stop
        )
        await self._async_announce()

    async def async_stop(self) -> None:
        """Stop everything: unsubscribe, terminate + join the pipeline, publish offline."""
        while self._unsubs:
            self._unsubs.pop()()
        if self._unsub_stop is not None:
            self._unsub_stop()
            self._unsub_stop = None
        self.bridge.close()
        if self._started:
            self._started = False
            await self.hass.async_add_executor_job(self.engine.stop)
        if mqtt.is_connected(self.hass):
            self.reason = "stopped"
            await self._async_publish(availability_topic(self.base_topic), "offline", retain=True)
            await self._async_publish_status()

    async def _async_hass_stop(self, _event: Event) -> None:
        """Home Assistant is stopping: pipeline threads are not daemons, so stop them now."""
        self._unsub_stop = None  # a fired listen_once must not be unsubscribed
        await self.async_stop()

    # -- the gate's two doors -------------------------------------------------------------------

    @callback
    def async_set_paused(self, paused: bool, source_id: int | None, reason: str) -> None:
        """Pause or resume; when this returns the fence holds and the ack is on its way."""
        self.gate.set_paused(paused, source_id)
        self.changed = datetime.now(UTC)
        self.reason = reason
        self._async_publish_status_now()
        self._async_notify(source_id)

    @callback
    def _async_command(self, msg: ReceiveMessage) -> None:
        payload = msg.payload if isinstance(msg.payload, (bytes, str)) else str(msg.payload)
        result = accept_command(payload, retained=msg.retain, source_ids=self.sources)
        if result is None:
            return
        if isinstance(result, CommandError):
            self._async_reject(result)
            return
        if result.name is CommandName.STATUS:
            self._async_publish_status_now()
            return
        self.async_set_paused(result.name is CommandName.PAUSE, result.source_id, "command")

    @callback
    def _async_reject(self, error: CommandError) -> None:
        self.last_error = error.as_dict()
        self._command_log.warning(
            "Ignored a command on %s: %s", control_topic(self.base_topic, "commands"), error.message
        )
        self._async_publish_now(
            control_topic(self.base_topic, "error"), status_json(error.as_dict()), retain=False
        )

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
        """Call `listener()` after changes entities show; return an unsubscribe.

        With `source_id`, only changes of that source or of everything (a global pause, the
        broker connection, the periodic refresh); without, every change.
        """
        listeners = self._listeners.setdefault(source_id, [])
        listeners.append(listener)
        return lambda: listeners.remove(listener)

    @callback
    def _async_notify(self, source_id: int | None = None) -> None:
        """Tell the listeners of `source_id` (None: every source) and the hub's."""
        if source_id is None:
            groups = list(self._listeners.values())
        else:
            groups = [self._listeners[None], self._listeners.get(source_id, [])]
        for group in groups:
            for listener in list(group):
                listener()

    @callback
    def _async_source_status(self, status: SourceStatus) -> None:
        previous = self.statuses.get(status.source_id)
        self.statuses[status.source_id] = status
        name = self.sources[status.source_id].display_name
        was_up = previous is not None and previous.available
        if was_up and not status.available and status.state.value != "stopped":
            LOGGER.warning("%s is unavailable: %s", name, status.error or status.state.value)
        elif previous is not None and not was_up and status.available:
            LOGGER.info("%s is available again", name)
        if previous is None or previous.state is not status.state or previous.error != status.error:
            self._async_publish_status_now()
        self._async_notify(status.source_id)

    @callback
    def _async_published(self, message: DetectionMessage) -> None:
        """Count a message the bridge published; keep its snapshot (it passed the gate)."""
        self.published[message.source_id] += 1
        if message.snapshot is not None:
            self.snapshots[message.source_id] = (message.snapshot, datetime.now(UTC))
            self._async_notify(message.source_id)

    @callback
    def _async_refresh(self, _now: datetime) -> None:
        self._async_publish_status_now()
        self._async_notify()

    def overall_state(self) -> str:
        """Return the hub's one-word state."""
        return overall_state(self.gate.snapshot(), self.statuses)

    def source_state(self, source_id: int) -> str:
        """Return a source's one-word state."""
        snap = self.gate.snapshot()
        return source_state_word(snap.effective(source_id), self.statuses.get(source_id))

    def status_message(self) -> dict[str, Any]:
        """Build the retained status body."""
        return build_status(
            snapshot=self.gate.snapshot(),
            sources=self.sources,
            statuses=self.statuses,
            stats={sid: r.stats for sid, r in self.engine.runners.items()},
            changed=self.changed,
            reason=self.reason,
        )

    # -- MQTT ------------------------------------------------------------------------------------

    async def _async_announce(self) -> None:
        """Availability, status and discovery: at start, on reconnect, on HA's birth."""
        await self._async_publish(availability_topic(self.base_topic), "online", retain=True)
        await self._async_publish_status()
        if self.discovery_enabled:
            await self._async_publish_discovery()

    async def _async_publish_discovery(self) -> None:
        classes: dict[int, Sequence[str]] = {
            sid: (
                sorted(self.spec.classes)
                if self.spec.classes
                else BUILTIN_CLASSES.get(self.spec.name, ())
            )
            for sid in self.sources
        }
        config = build_discovery(
            node=self._node,
            device_name=f"{self._name} detections",
            base_topic=self.base_topic,
            sources=self.sources.values(),
            classes=classes,
            include_control=False,  # the pause switches and sensors are native entities
            origin=ORIGIN,
        )
        await self._async_publish(
            discovery_topic(DEFAULT_DISCOVERY_PREFIX, self._node), status_json(config), retain=True
        )

    async def _async_publish_status(self) -> None:
        await self._async_publish(
            control_topic(self.base_topic, "status"),
            status_json(self.status_message()),
            retain=True,
        )

    @callback
    def _async_publish_status_now(self) -> None:
        self._async_publish_now(
            control_topic(self.base_topic, "status"),
            status_json(self.status_message()),
            retain=True,
        )

    @callback
    def _async_publish_now(self, topic: str, payload: str, *, retain: bool) -> None:
        """Hand a message to the MQTT client before returning (eager task)."""
        if not mqtt.is_connected(self.hass):
            return
        self.hass.async_create_task(
            self._async_publish(topic, payload, retain=retain),
            "nvr_inference publish",
            eager_start=True,
        )

    async def _async_publish(self, topic: str, payload: str, *, retain: bool) -> None:
        try:
            await mqtt.async_publish(self.hass, topic, payload, qos=1, retain=retain)
        except HomeAssistantError as err:
            LOGGER.debug("Cannot publish to %s: %s", topic, err)

    @callback
    def _async_mqtt_connection(self, connected: bool) -> None:
        if connected:
            self.hass.async_create_task(self._async_announce(), "nvr_inference announce")
        self._async_notify()

    @callback
    def _async_ha_status(self, msg: ReceiveMessage) -> None:
        if msg.payload == "online" and self.discovery_enabled:
            self.hass.async_create_task(self._async_publish_discovery(), "nvr_inference discovery")

    # -- restore ---------------------------------------------------------------------------------

    def _restore_pause_state(self) -> None:
        """Close the gate for every switch that was on when Home Assistant stopped.

        Done before the pipeline starts, so a paused camera never publishes a frame after a
        restart. The switches are RestoreEntity (that is what makes HA save their state);
        this reads the saved state early, by their unique ids.
        """
        registry = er.async_get(self.hass)
        saved = async_get_restore_state(self.hass).last_states
        targets: list[tuple[str, int | None]] = [(f"{self.unique_prefix}_pause", None)]
        targets += [(f"{self.unique_prefix}_{sid}_pause", sid) for sid in self.sources]
        for unique_id, source_id in targets:
            entity_id = registry.async_get_entity_id(Platform.SWITCH, DOMAIN, unique_id)
            stored = saved.get(entity_id) if entity_id else None
            if stored is not None and stored.state.state == "on":
                self.gate.pause(source_id)
                self.reason = "restored"
