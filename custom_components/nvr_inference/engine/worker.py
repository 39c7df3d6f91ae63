"""The standalone worker: the engine behind its own paho-mqtt client, same MQTT contract.

For every install that cannot host the pipeline inside Home Assistant (Home Assistant OS, the
container, Python 3.14), and for spreading cameras over several machines behind one broker.
It publishes what the integration publishes (detections, the retained status, availability)
and, having no native entities, a discovery config that includes the pause switches and the
fps/latency sensors.

Threads and the fence. Commands arrive on paho's network thread and go straight to
`Engine.pause`/`resume`, which take the gate's lock. Detections are published from each
source's dispatch thread through `FencedPublisher`, which holds that same lock from the gate
check to `client.publish` (QoS 0, not retained: nothing is queued while the broker is away).
The retained status, the acknowledgement, is published by a gate listener, which runs under
the lock right after the change: it follows every detection handed to paho before the pause
and precedes every one after it. paho writes its outgoing packets in the order they were
handed to it, so subscribers see that order too. Every other status (on request, on a source
change, every `status_interval` seconds) is also built and handed to paho under the lock, from
the snapshot the listener keeps, so a status built before a pause can never be published
after the acknowledgement and overwrite it.

Nothing ever *waits* on paho while holding the gate lock (paho's network thread may be
blocked on that lock, delivering a command).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
import json
import logging
from pathlib import Path
import socket
import ssl
import threading
import time
from typing import Any

import paho.mqtt.client as paho
from paho.mqtt.enums import CallbackAPIVersion

from .commands import Command, CommandError, CommandName, accept_command
from .detectors import DetectorSpec
from .discovery import build_discovery, discovery_topic, node_id
from .errors import EngineError
from .gate import GateSnapshot
from .probe import check_setup
from .publisher import FencedPublisher
from .ratelimit import RateLimitedLog
from .runner import Engine, RunnerOptions, SourceState, SourceStatus
from .sources import SourceConfig
from .status import availability_topic, build_status, control_topic, status_json

_LOGGER = logging.getLogger(__name__)

STATUS_INTERVAL = 10.0
"""Seconds between status refreshes (fps and latency sensors read them)."""

BUILTIN_CLASSES: Mapping[str, tuple[str, ...]] = {
    "motion": ("motion",),
    "face": ("face",),
    "person": ("person",),
}
"""Classes the built-in detectors emit (for the per-class occupancy sensors)."""

_PUBLISH_WAIT = 3.0
"""Seconds to wait for the broker to acknowledge each message published while stopping."""


def _version() -> str:
    manifest = Path(__file__).resolve().parent.parent / "manifest.json"
    try:
        return str(json.loads(manifest.read_text())["version"])
    except (OSError, ValueError, KeyError):
        return "unknown"


ORIGIN: Mapping[str, str] = {
    "name": "nvr_inference worker",
    "sw": _version(),
    "url": "https://github.com/nvr-inference/nvr_inference",
}


class BrokerUnavailableError(Exception):
    """The broker cannot be reached, or refused us (credentials, TLS)."""


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

    @property
    def node(self) -> str:
        """The discovery node id, also the MQTT client id: `nvr_worker_<name>`."""
        return node_id(f"nvr_worker_{self.name}")


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
        client.will_set(availability_topic(settings.base_topic), "offline", qos=1, retain=True)
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


def remove_worker(settings: WorkerSettings) -> None:
    """Clear this worker's retained discovery config and mark it offline (`--remove`)."""
    client = make_client(settings, will=False, suffix="_remove")  # never takes the worker's
    result: list[Any] = []
    client.on_connect = lambda _c, _u, _f, reason, _p: result.append(reason)
    connect_sync(client, settings.mqtt, lambda: result[0] if result else None)
    client.loop_start()
    try:
        topic = discovery_topic(settings.discovery_prefix, settings.node)
        _wait_published(client.publish(topic, "", qos=1, retain=True), "the discovery removal")
        _wait_published(
            client.publish(availability_topic(settings.base_topic), "offline", qos=1, retain=True),
            "offline",
        )
        _LOGGER.info("Removed the discovery config on %s", topic)
    finally:
        client.disconnect()
        client.loop_stop()


def read_retained_status(settings: WorkerSettings, timeout: float = 3.0) -> dict[str, Any] | None:
    """Return this worker's last retained status from the broker, or None if there is none.

    Read with a short-lived side client before the engine starts: the retained status is the
    worker's memory of its pauses across restarts. The broker sends retained messages right
    after the subscription is granted, so a short grace after SUBACK is enough to know there
    is none.
    """
    client = make_client(settings, will=False, suffix="_restore")  # never takes the worker's
    topic = control_topic(settings.base_topic, "status")
    connack: list[Any] = []
    found: list[bytes] = []
    granted = threading.Event()
    arrived = threading.Event()

    def on_connect(c: Any, _u: Any, _f: Any, reason: Any, _p: Any) -> None:
        connack.append(reason)
        c.subscribe(topic, 1)

    client.on_connect = on_connect
    client.on_subscribe = lambda *_args: granted.set()

    def on_message(_c: Any, _u: Any, msg: Any) -> None:
        if msg.retain:
            found.append(bytes(msg.payload))
            arrived.set()

    client.on_message = on_message
    connect_sync(client, settings.mqtt, lambda: connack[0] if connack else None)
    client.loop_start()
    try:
        if granted.wait(timeout):
            arrived.wait(0.5)
    finally:
        client.disconnect()
        client.loop_stop()
    if not found:
        return None
    try:
        status = json.loads(found[0])
    except ValueError:
        return None
    return status if isinstance(status, dict) else None


# -- the worker -------------------------------------------------------------------------------


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
        self.engine = Engine(
            settings.sources,
            self.spec,
            lambda message: self.publisher(message),
            on_status=self._on_source_status,
            options=RunnerOptions(max_fps=settings.max_fps, api_key=settings.api_key),
        )
        self.gate = self.engine.gate
        self.publisher = FencedPublisher(self.gate, self._publish_detection, self.base)
        # Guarded by the gate lock: the listener keeps the snapshot current, so status built
        # under the lock never needs to call back into the gate.
        self._snapshot: GateSnapshot = self.gate.snapshot()
        self._connected = False
        self._closing = False
        self._changed = datetime.now(UTC)
        self._reason = "start"
        self._pending_reason = "command"
        self._reported: dict[int, tuple[SourceState, str | None, bool]] = {}
        self._unlisten = self.gate.add_listener(self._on_gate_change)
        self._connack: Any = None
        self._subscribe_mid: int | None = None
        self._stop = threading.Event()
        self._refresher: threading.Thread | None = None
        self._started = False
        self._command_log = RateLimitedLog(_LOGGER)
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
        """Close the gate where the last retained status says paused, before anything runs.

        A paused camera stays paused across worker restarts (and reboots), as it does across
        Home Assistant restarts in the integration.
        """
        status = read_retained_status(self.settings)
        if status is None:
            return
        paused_sources = [
            int(sid)
            for sid, source in (status.get("sources") or {}).items()
            if isinstance(source, dict)
            and source.get("paused_by_source") is True
            and str(sid).isdigit()
            and int(sid) in self.sources
        ]
        if status.get("paused") is True:
            self.set_paused(True, None, "restored")
        for source_id in paused_sources:
            self.set_paused(True, source_id, "restored")
        if status.get("paused") is True or paused_sources:
            _LOGGER.info(
                "Restored the pause from the retained status: global=%s, sources=%s",
                status.get("paused") is True,
                paused_sources,
            )

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
        """Stop every source, publish the final status and `offline`, disconnect. Idempotent."""
        if self._stop.is_set():
            return
        self._stop.set()
        started = time.monotonic()
        with self.gate.lock:
            self._closing = True  # no status while the sources stop one by one: one final
        self.engine.stop()
        if self._refresher is not None:
            self._refresher.join()
            self._refresher = None
        with self.gate.lock:
            self._reason = "stopped"
            self._changed = datetime.now(UTC)
            final = self._publish_status_locked(state="stopped", force=True)
            offline = self._publish_locked(
                availability_topic(self.base), "offline", qos=1, retain=True
            )
        self._unlisten()
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

    # -- the gate's door: commands ------------------------------------------------------------

    def set_paused(
        self, paused: bool, source_id: int | None = None, reason: str = "command"
    ) -> None:
        """Pause or resume; on return the fence holds and the retained ack is with paho."""
        self._pending_reason = reason
        if paused:
            self.engine.pause(source_id)
        else:
            self.engine.resume(source_id)
        target = "every source" if source_id is None else self.sources[source_id].display_name
        _LOGGER.info("%s %s (%s)", "Paused" if paused else "Resumed", target, reason)

    def _on_command(self, _client: Any, _userdata: Any, msg: Any) -> None:
        """Validate one command and apply it (on paho's network thread)."""
        result = accept_command(msg.payload, retained=msg.retain, source_ids=self.sources)
        if result is None:
            _LOGGER.debug("Ignored an empty message on the command topic")
            return
        if isinstance(result, CommandError):
            self._reject(result)
            return
        self._apply(result)

    def _apply(self, command: Command) -> None:
        if command.name is CommandName.STATUS:
            self.publish_status()
        else:
            self.set_paused(command.name is CommandName.PAUSE, command.source_id, "command")

    def _reject(self, error: CommandError) -> None:
        self._command_log.warning(
            "Ignored a command on %s: %s", control_topic(self.base, "commands"), error.message
        )
        with self.gate.lock:
            self._publish_locked(
                control_topic(self.base, "error"), status_json(error.as_dict()), qos=1
            )

    # -- status ------------------------------------------------------------------------------

    def _on_gate_change(self, snapshot: GateSnapshot) -> None:
        """Gate listener, under the gate lock: the acknowledgement goes to paho right here."""
        self._snapshot = snapshot
        self._changed = datetime.now(UTC)
        self._reason = self._pending_reason
        self._publish_status_locked()

    def publish_status(self) -> None:
        """Publish the retained status now (any thread)."""
        with self.gate.lock:
            self._publish_status_locked()

    def status_message(self, state: str | None = None) -> dict[str, Any]:
        """Build the status body (call with the gate lock held)."""
        message = build_status(
            snapshot=self._snapshot,
            sources=self.sources,
            statuses=self.engine.statuses(),
            stats={sid: r.stats for sid, r in self.engine.runners.items()},
            changed=self._changed,
            reason=self._reason,
        )
        if state is not None:
            message["state"] = state
        return message

    def _publish_status_locked(self, state: str | None = None, *, force: bool = False) -> Any:
        if self._closing and not force:
            return None
        return self._publish_locked(
            control_topic(self.base, "status"),
            status_json(self.status_message(state)),
            qos=1,
            retain=True,
        )

    def _publish_locked(self, topic: str, payload: str, *, qos: int, retain: bool = False) -> Any:
        """Hand a message to paho (gate lock held). Dropped while offline: never queued stale."""
        if not self._connected:
            return None
        return self.client.publish(topic, payload, qos=qos, retain=retain)

    def _publish_detection(self, topic: str, payload: str) -> None:
        """FencedPublisher's hand-off, under the gate lock: QoS 0, dropped while offline."""
        if self._connected:
            self.client.publish(topic, payload, qos=0, retain=False)

    def _on_source_status(self, status: SourceStatus) -> None:
        """Pipeline threads: log availability changes, republish the status when it shows."""
        name = self.sources[status.source_id].display_name
        key = (status.state, status.error, status.stream_paused)
        with self.gate.lock:
            previous = self._reported.get(status.source_id)
            self._reported[status.source_id] = key
            if previous == key:
                return
            self._publish_status_locked()
        was_up = previous is not None and previous[0] is SourceState.RUNNING
        if status.state is SourceState.ERROR:
            _LOGGER.error("%s failed: %s", name, status.error or "error")
        elif was_up and not status.available and status.state is not SourceState.STOPPED:
            _LOGGER.warning("%s is unavailable: %s", name, status.error or status.state.value)
        elif status.available and (previous is None or not was_up):
            _LOGGER.info("%s is running", name)

    def _refresh_loop(self) -> None:
        while not self._stop.wait(self.settings.status_interval):
            self.publish_status()

    # -- MQTT callbacks (paho's network thread) ---------------------------------------------

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
            self._connected = True
            if self._closing:
                return
            self._publish_locked(availability_topic(self.base), "online", qos=1, retain=True)
        _rc, mid = client.subscribe(
            [
                (control_topic(self.base, "commands"), 1),
                (f"{self.settings.discovery_prefix}/status", 1),
            ]
        )
        self._subscribe_mid = mid

    def _on_subscribe(self, _client: Any, _userdata: Any, mid: int, _codes: Any, _p: Any) -> None:
        """Announce the status and discovery once subscribed.

        Done here rather than in `on_connect` because paho re-sends the QoS 1 messages that
        were in flight when the connection dropped right *after* `on_connect` returns; a status
        published now comes after those stale ones and is the one the broker retains.
        """
        if mid != self._subscribe_mid:
            return
        self.publish_status()
        self.publish_discovery()

    def _on_disconnect(
        self, _client: Any, _userdata: Any, _flags: Any, reason: Any, _p: Any
    ) -> None:
        with self.gate.lock:
            self._connected = False
            closing = self._closing
        if self._started and not closing:
            self._connection_log.warning(
                "Lost the connection to the MQTT broker (%s); reconnecting", reason
            )

    def _on_connect_fail(self, _client: Any, _userdata: Any) -> None:
        self._connection_log.warning(
            "Cannot reconnect to the MQTT broker at %s:%s; retrying with backoff",
            self.settings.mqtt.host,
            self.settings.mqtt.port,
        )

    def _on_ha_status(self, _client: Any, _userdata: Any, msg: Any) -> None:
        if msg.payload == b"online":
            self.publish_discovery()

    # -- discovery ---------------------------------------------------------------------------

    def discovery_config(self) -> dict[str, Any]:
        """Build the device-based discovery config (pause switches included)."""
        classes: dict[int, Sequence[str]] = {
            sid: sorted(self.spec.classes)
            if self.spec.classes
            else BUILTIN_CLASSES.get(self.spec.name, ())
            for sid in self.sources
        }
        return build_discovery(
            node=self.settings.node,
            device_name=self.settings.name,
            base_topic=self.base,
            sources=self.sources.values(),
            classes=classes,
            include_control=True,
            origin=ORIGIN,
        )

    def publish_discovery(self) -> None:
        """Publish the retained discovery config."""
        topic = discovery_topic(self.settings.discovery_prefix, self.settings.node)
        payload = status_json(self.discovery_config())
        with self.gate.lock:
            if not self._closing:
                self._publish_locked(topic, payload, qos=1, retain=True)


def describe_settings(settings: WorkerSettings) -> Iterable[str]:
    """Lines for the startup log, without secrets."""
    mqtt = settings.mqtt
    auth = f" as user {mqtt.username}" if mqtt.username else ""
    tls = " with TLS" if mqtt.tls or mqtt.tls_ca or mqtt.tls_insecure else ""
    yield f"broker {mqtt.host}:{mqtt.port}{auth}{tls}, base topic {settings.base_topic!r}"
    for source in settings.sources:
        loop = " (loop)" if source.loop else ""
        yield f"source {source.source_id} {source.display_name}: {source.safe_reference}{loop}"
