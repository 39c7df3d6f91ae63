"""The standalone worker: the engine behind its own paho-mqtt client, same MQTT contract.

For every install that cannot host the pipeline inside Home Assistant (Home Assistant OS, the
container, Python 3.14), and for spreading cameras over several machines behind one broker.
The contract itself (commands, the acknowledgement, status, availability, discovery) is the
engine's `ControlPlane`, the same as in the integration; this module adapts paho to it
(`PahoTransport`), keeps the pause in a state file (`FilePauseStore`), and owns the process:
connect, the start checks, the status refresher, and a clean stop.

Threads and the fence. Commands arrive on paho's network thread and go to the control plane,
which writes the state file, changes the gate and hands the acknowledgement to paho inside the
gate's lock. Detections are published from each source's dispatch thread through
`FencedPublisher`, which holds that same lock from the gate check to `client.publish` (QoS 0,
not retained: nothing is queued while the broker is away). paho writes its outgoing packets in
the order they were handed to it, so subscribers see that order too. Nothing ever *waits* on
paho while holding the gate lock (paho's network thread may be blocked on that lock,
delivering a command).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
import logging
import os
from pathlib import Path
import socket
import ssl
import threading
import time
from typing import Any

import paho.mqtt.client as paho
from paho.mqtt.enums import CallbackAPIVersion

from ..contract.control import STATUS_INTERVAL, ControlPlane
from ..detect.spec import DetectorSpec
from ..contract.discovery import DiscoverySpec, node_id
from ..errors import EngineError
from ..contract.host import HostInfo, HostKind, StartCheck, availability_payload
from ..fence.pause_store import FilePauseStore, PauseState, PauseStoreError
from ..video.probe import check_setup
from ..fence.publisher import FencedPublisher
from ..contract.ratelimit import RateLimitedLog
from ..video.runner import SNAPSHOT_INTERVAL, Engine, RunnerOptions
from ..video.sources import SourceConfig
from ..contract.status import availability_topic, control_topic
from ..objects.tracking import TrackingOptions
from ..objects.zones import SourceZones

_LOGGER = logging.getLogger(__name__)

_PUBLISH_WAIT = 3.0
"""Seconds to wait for the broker to acknowledge each message published while stopping."""

TICK = 1.0
"""Seconds between two checks for events whose object went unseen."""

START_CHECK_TIMEOUT = 10.0
"""Seconds the start check waits for its probe to come back through the broker."""


class BrokerUnavailableError(Exception):
    """The broker cannot be reached, or refused us (credentials, TLS)."""


class BaseTopicInUseError(EngineError):
    """Another live host publishes under this worker's base topic."""


def default_state_file(name: str) -> Path:
    """Return where a worker keeps its pause: `$XDG_STATE_HOME/nvr-inference/<node>.json`."""
    state_home = os.environ.get("XDG_STATE_HOME") or str(Path.home() / ".local" / "state")
    return Path(state_home) / "nvr-inference" / f"{node_id(f'nvr_worker_{name}')}.json"


@dataclass(frozen=True, slots=True)
class MqttSettings:
    """How to reach the broker. `password` never appears in a repr, a log or a payload."""

    host: str = "127.0.0.1"
    port: int = 1883
    username: str | None = None
    password: str | None = field(default=None, repr=False)
    tls: bool = False
    tls_ca: str | None = None
    tls_insecure: bool = False
    keepalive: int = 30
    connect_timeout: float = 10.0


@dataclass(frozen=True, slots=True)
class WorkerSettings:
    """Everything one worker needs; built by the CLI from flags and the config file."""

    name: str
    mqtt: MqttSettings = field(default_factory=MqttSettings)
    base_topic: str = "nvr"
    discovery_prefix: str = "homeassistant"
    sources: tuple[SourceConfig, ...] = ()
    detector: DetectorSpec | None = None
    api_key: str | None = field(default=None, repr=False)
    max_fps: float | None = None
    status_interval: float = STATUS_INTERVAL
    state_file: Path | None = None  # None: default_state_file(name)
    tracking: TrackingOptions = field(default_factory=TrackingOptions)
    zones: Mapping[int, SourceZones] = field(default_factory=dict)

    @property
    def node(self) -> str:
        """The discovery node id, also the MQTT client id: `nvr_worker_<name>`."""
        return node_id(f"nvr_worker_{self.name}")

    @property
    def host(self) -> HostInfo:
        """This worker's identity on the broker: its name on this machine."""
        return HostInfo(f"worker:{self.node}@{socket.gethostname()}", HostKind.WORKER, self.name)

    @property
    def pause_file(self) -> Path:
        """Where the pause is kept."""
        return self.state_file or default_state_file(self.name)


# -- the paho client --------------------------------------------------------------------------


def make_client(settings: WorkerSettings, *, will: bool = True, suffix: str = "") -> Any:
    """Create the paho client: credentials, TLS, last will (retained `offline`), backoff.

    The client id is the node id, on purpose: a worker restarted before the broker noticed the
    old connection died takes that connection over, so the old last will (`offline`) fires
    *before* the new `online`, never after it.
    """
    mqtt = settings.mqtt
    client = paho.Client(
        CallbackAPIVersion.VERSION2,
        client_id=f"{settings.node}{suffix}",
        protocol=paho.MQTTv311,
        clean_session=True,
    )
    client.enable_logger(logging.getLogger("paho.mqtt.client"))
    if mqtt.username is not None:
        client.username_pw_set(mqtt.username, mqtt.password)
    if mqtt.tls or mqtt.tls_ca or mqtt.tls_insecure:
        try:
            client.tls_set(
                ca_certs=mqtt.tls_ca,
                cert_reqs=ssl.CERT_NONE if mqtt.tls_insecure else ssl.CERT_REQUIRED,
            )
        except (OSError, ValueError) as err:
            raise EngineError(f"cannot set up TLS with CA file {mqtt.tls_ca}: {err}") from err
        if mqtt.tls_insecure:
            client.tls_insecure_set(True)
    if will:
        client.will_set(
            availability_topic(settings.base_topic),
            availability_payload(settings.host, online=False),
            qos=1,
            retain=True,
        )
    client.reconnect_delay_set(1, 30)
    client.connect_timeout = mqtt.connect_timeout
    return client


def connect_sync(client: Any, settings: MqttSettings, connack: Callable[[], Any]) -> None:
    """Connect once, synchronously, and wait for the broker's answer.

    `connack()` returns the reason code that `on_connect` recorded (None until it came). Raises
    `BrokerUnavailableError` with one line a person can act on. Run before `loop_start()`.
    """
    where = f"{settings.host}:{settings.port}"
    try:
        client.connect(settings.host, settings.port, settings.keepalive)
    except (OSError, ValueError) as err:
        reason = getattr(err, "strerror", None) or str(err) or type(err).__name__
        raise BrokerUnavailableError(f"cannot reach the MQTT broker at {where}: {reason}") from None
    deadline = time.monotonic() + settings.connect_timeout
    while connack() is None:
        if time.monotonic() > deadline:
            client.disconnect()
            raise BrokerUnavailableError(
                f"the MQTT broker at {where} did not answer within {settings.connect_timeout:g} s"
            )
        rc = client.loop(timeout=0.1)
        if rc != paho.MQTT_ERR_SUCCESS and connack() is None:
            raise BrokerUnavailableError(
                f"lost the connection to the MQTT broker at {where}: {paho.error_string(rc)}"
            )
    reason = connack()
    if reason.is_failure:
        client.disconnect()
        raise BrokerUnavailableError(f"the MQTT broker at {where} refused the connection: {reason}")


def _wait_published(info: Any, what: str) -> None:
    """Wait (bounded) until the broker acknowledged a QoS 1 message; never raise."""
    if info is None or info.rc != paho.MQTT_ERR_SUCCESS:
        return
    try:
        info.wait_for_publish(_PUBLISH_WAIT)
    except (RuntimeError, ValueError) as err:
        _LOGGER.debug("Could not confirm %s: %s", what, err)
        return
    if not info.is_published():
        _LOGGER.warning("The broker did not confirm %s within %g s", what, _PUBLISH_WAIT)


def _status_sources(status: Mapping[str, Any] | None) -> set[int]:
    """Return the source ids a retained status names (what the last run announced)."""
    sources = (status or {}).get("sources")
    if not isinstance(sources, dict):
        return set()
    return {int(sid) for sid in sources if str(sid).isdigit()}


def remove_worker(settings: WorkerSettings) -> None:
    """Clear this worker's retained discovery configs and mark it offline (`--remove`).

    The hub's config, and one per source: the sources configured now, and those the worker's
    last retained status names (a camera since dropped from the config has a device too).
    """
    check = check_base_topic(settings)
    source_ids = {s.source_id for s in settings.sources} | _status_sources(check.status)
    spec = DiscoverySpec(settings.node, settings.name, True, settings.discovery_prefix)
    client = make_client(settings, will=False, suffix="_remove")  # never takes the worker's
    result: list[Any] = []
    client.on_connect = lambda _c, _u, _f, reason, _p: result.append(reason)
    connect_sync(client, settings.mqtt, lambda: result[0] if result else None)
    client.loop_start()
    try:
        for topic in spec.topics(sorted(source_ids)):
            _wait_published(client.publish(topic, "", qos=1, retain=True), f"clearing {topic}")
        _wait_published(
            client.publish(
                availability_topic(settings.base_topic),
                availability_payload(settings.host, online=False),
                qos=1,
                retain=True,
            ),
            "offline",
        )
        _LOGGER.info(
            "Removed the discovery configs of %s and %d source(s)", settings.node, len(source_ids)
        )
    finally:
        client.disconnect()
        client.loop_stop()


def check_base_topic(settings: WorkerSettings, timeout: float = START_CHECK_TIMEOUT) -> StartCheck:
    """Read what the broker retains on the base topic, up to a probe of our own.

    A short-lived side client (it never takes the worker's client id) subscribes to the
    status, availability and probe topics and publishes its probe once subscribed; when the
    probe is back, every retained message there is has arrived (see `StartCheck`). Returns the
    check, `complete` False when the probe did not come back within `timeout`.
    """
    done = threading.Event()
    check = StartCheck(settings.base_topic, done.set)
    client = make_client(settings, will=False, suffix="_start")
    connack: list[Any] = []

    def on_connect(c: Any, _u: Any, _f: Any, reason: Any, _p: Any) -> None:
        connack.append(reason)
        c.subscribe([(topic, 1) for topic in check.topics])

    def on_subscribe(c: Any, *_args: Any) -> None:
        c.publish(check.probe_topic, check.probe_payload, qos=1)

    client.on_connect = on_connect
    client.on_subscribe = on_subscribe
    client.on_message = lambda _c, _u, msg: check.offer(msg.topic, bytes(msg.payload))
    connect_sync(client, settings.mqtt, lambda: connack[0] if connack else None)
    client.loop_start()
    try:
        done.wait(timeout)
    finally:
        client.disconnect()
        client.loop_stop()
    return check


# -- the worker -------------------------------------------------------------------------------


class PahoTransport:
    """The control plane's and publisher's way into paho: hand over, never wait.

    `connected` follows paho's callbacks; it is changed under the gate's lock, so a message is
    either handed over while connected or dropped (QoS 0 detections are never queued stale).
    """

    def __init__(self, client: Any) -> None:
        """Wrap a paho client."""
        self._client = client
        self.connected = False

    def publish(self, topic: str, payload: str | bytes, *, qos: int, retain: bool) -> object:
        """Hand one message to paho (its network thread sends it)."""
        return self._client.publish(topic, payload, qos=qos, retain=retain)


class Worker:
    """One engine, one MQTT connection, the control plane between them."""

    def __init__(self, settings: WorkerSettings) -> None:
        """Prepare everything; nothing connects or starts until `connect()` and `start()`."""
        if settings.detector is None or not settings.sources:
            raise EngineError("a worker needs a detector and at least one source")
        self.settings = settings
        self.spec: DetectorSpec = settings.detector
        self.base = settings.base_topic
        self.sources = {s.source_id: s for s in settings.sources}
        self.client = make_client(settings)
        self.client.on_connect = self._on_connect
        self.client.on_disconnect = self._on_disconnect
        self.client.on_subscribe = self._on_subscribe
        self.client.on_connect_fail = self._on_connect_fail
        self.client.message_callback_add(control_topic(self.base, "commands"), self._on_command)
        self.client.message_callback_add(f"{settings.discovery_prefix}/status", self._on_ha_status)
        self.client.message_callback_add(availability_topic(self.base), self._on_availability)
        self.transport = PahoTransport(self.client)
        self.engine = Engine(
            settings.sources,
            self.spec,
            lambda message: self.publisher(message),
            on_status=lambda status: self.plane.source_changed(status),
            options=RunnerOptions(
                max_fps=settings.max_fps,
                api_key=settings.api_key,
                snapshot_interval=SNAPSHOT_INTERVAL,
                tracking=settings.tracking,
                zones=settings.zones,
            ),
        )
        self.gate = self.engine.gate
        self.publisher = FencedPublisher.for_engine(
            self.engine, self.transport, self.base, snapshots=True
        )
        self.store = FilePauseStore(settings.pause_file)
        self.plane = ControlPlane.for_engine(
            self.engine,
            host=settings.host,
            base_topic=self.base,
            transport=self.transport,
            store=self.store,
            publisher=self.publisher,
            discovery=DiscoverySpec(
                node=settings.node,
                device_name=settings.name,
                include_control=True,
                prefix=settings.discovery_prefix,
                zones=settings.zones,
            ),
            logger=_LOGGER,
        )
        self._connack: Any = None
        self._subscribe_mid: int | None = None
        self._stop = threading.Event()
        self._refresher: threading.Thread | None = None
        self._started = False
        self._connection_log = RateLimitedLog(_LOGGER)

    # -- lifecycle --------------------------------------------------------------------------

    def check(self) -> None:
        """Probe before connecting: the pipeline, the detector, one frame of every source."""
        check_setup(self.sources.values(), self.spec, self.settings.api_key)

    def connect(self) -> None:
        """Connect once, synchronously; raise `BrokerUnavailableError` if that fails."""
        connect_sync(self.client, self.settings.mqtt, lambda: self._connack)
        _LOGGER.debug("Connected to the MQTT broker as %s", self.settings.node)

    def restore_pause(self) -> None:
        """Check the base topic is ours, then close the gate where the saved pause says.

        Before anything runs, so a paused camera never publishes a frame after a restart. The
        state file is the memory; the broker's retained status is only a fallback for a worker
        that has no state file yet. When neither can be read, everything starts paused.
        """
        started = time.monotonic()
        saved: PauseState | None = None
        try:
            saved = self.store.load()
        except PauseStoreError as err:
            self.plane.restore(None, error=str(err))
        else:
            if saved is not None:
                self.plane.restore(saved)
        _LOGGER.debug("Saved pause applied in %.2f ms", (time.monotonic() - started) * 1e3)
        check = check_base_topic(self.settings)
        foreign = check.verdict(self.settings.host)
        if foreign is not None:
            raise BaseTopicInUseError(foreign.describe(self.base))
        self.plane.retire_sources(_status_sources(check.status))
        if saved is not None or self.plane.store_error is not None:
            return
        if not check.complete:
            self.plane.restore(
                None,
                error=f"no state file yet ({self.store.path}) and the broker did not show "
                f"the retained status within {START_CHECK_TIMEOUT:g} s",
            )
        elif check.status is not None:
            _LOGGER.info("No state file yet: the pause comes from the retained status")
            self.plane.restore(PauseState.from_status(check.status, self.sources))
        else:
            self.plane.restore(None)

    def start(self) -> None:
        """Start paho's network thread (it reconnects with backoff), then every source."""
        self.client.loop_start()
        self._refresher = threading.Thread(target=self._refresh_loop, name="nvr-worker-status")
        self._refresher.start()
        self._started = True
        self.engine.start()
        names = ", ".join(f"{s.source_id}={s.display_name}" for s in self.sources.values())
        _LOGGER.info(
            "Worker %s running %s on %s; broker %s:%s, topics %s/#",
            self.settings.name,
            self.spec.model_id,
            names,
            self.settings.mqtt.host,
            self.settings.mqtt.port,
            self.base,
        )

    def stop(self) -> None:
        """Refuse every frame, publish `stopped` and `offline`, stop the sources. Idempotent."""
        if self._stop.is_set():
            return
        self._stop.set()
        started = time.monotonic()
        final, offline = self.plane.close()
        self.engine.stop()
        if self._refresher is not None:
            self._refresher.join()
            self._refresher = None
        if self._started:  # paho's network thread confirms them; none without it
            _wait_published(final, "the final status")
            _wait_published(offline, "offline")
        self.client.disconnect()
        if self._started:
            self.client.loop_stop()
        _LOGGER.info("Stopped in %.2f s", time.monotonic() - started)

    def run(self, stop: threading.Event) -> None:
        """Block until `stop` is set (signal handlers set it)."""
        while not stop.wait(1.0):
            pass

    def set_paused(
        self, paused: bool, source_id: int | None = None, reason: str = "command"
    ) -> None:
        """Pause or resume; on return it is saved, the fence holds and the ack is with paho."""
        self.plane.set_paused(paused, source_id, reason)

    def _refresh_loop(self) -> None:
        """Every second, end events gone quiet; every `status_interval`, refresh the status."""
        due = time.monotonic() + self.settings.status_interval
        while not self._stop.wait(TICK):
            self.publisher.tick()
            if time.monotonic() >= due:
                due += self.settings.status_interval
                self.plane.publish_status()

    # -- MQTT callbacks (paho's network thread) ---------------------------------------------

    def _on_command(self, _client: Any, _userdata: Any, msg: Any) -> None:
        self.plane.handle_command(msg.payload, retained=bool(msg.retain))

    def _on_ha_status(self, _client: Any, _userdata: Any, msg: Any) -> None:
        if msg.payload == b"online":
            self.plane.publish_discovery()

    def _on_availability(self, _client: Any, _userdata: Any, msg: Any) -> None:
        self.plane.observe_availability(msg.payload)

    def _on_connect(self, client: Any, _userdata: Any, _flags: Any, reason: Any, _p: Any) -> None:
        self._connack = reason
        if reason.is_failure:
            if self._started:  # the first connect raises instead: one line, from the CLI
                self._connection_log.warning("The MQTT broker refused the connection: %s", reason)
            return
        try:  # small acks must not wait ~40 ms for Nagle's algorithm
            client.socket().setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        except (OSError, AttributeError) as err:
            _LOGGER.debug("Cannot set TCP_NODELAY: %s", err)
        with self.gate.lock:
            self.transport.connected = True
        _rc, mid = client.subscribe(
            [
                (control_topic(self.base, "commands"), 1),
                (f"{self.settings.discovery_prefix}/status", 1),
                (availability_topic(self.base), 1),
            ]
        )
        self._subscribe_mid = mid

    def _on_subscribe(self, _client: Any, _userdata: Any, mid: int, _codes: Any, _p: Any) -> None:
        """Announce once subscribed.

        Done here rather than in `on_connect` because paho re-sends the QoS 1 messages that
        were in flight when the connection dropped right *after* `on_connect` returns; a status
        published now comes after those stale ones and is the one the broker retains.
        """
        if mid == self._subscribe_mid:
            self.plane.announce()

    def _on_disconnect(
        self, _client: Any, _userdata: Any, _flags: Any, reason: Any, _p: Any
    ) -> None:
        with self.gate.lock:
            self.transport.connected = False
        if self._started and not self._stop.is_set():
            self._connection_log.warning(
                "Lost the connection to the MQTT broker (%s); reconnecting", reason
            )

    def _on_connect_fail(self, _client: Any, _userdata: Any) -> None:
        self._connection_log.warning(
            "Cannot reconnect to the MQTT broker at %s:%s; retrying with backoff",
            self.settings.mqtt.host,
            self.settings.mqtt.port,
        )


def describe_settings(settings: WorkerSettings) -> Iterable[str]:
    """Lines for the startup log, without secrets."""
    mqtt = settings.mqtt
    auth = f" as user {mqtt.username}" if mqtt.username else ""
    tls = " with TLS" if mqtt.tls or mqtt.tls_ca or mqtt.tls_insecure else ""
    yield f"broker {mqtt.host}:{mqtt.port}{auth}{tls}, base topic {settings.base_topic!r}"
    yield f"pause kept in {settings.pause_file}"
    for source in settings.sources:
        loop = " (loop)" if source.loop else ""
        yield f"source {source.source_id} {source.display_name}: {source.safe_reference}{loop}"
