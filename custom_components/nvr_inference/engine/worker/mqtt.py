"""The worker's way onto the broker: paho clients, a synchronous connect, and the side trips.

Everything here that talks to paho and is not the running worker itself: the client with its
credentials, TLS and last will (`make_client`), one connect that waits for the broker's answer
and says in one line why it failed (`connect_sync`), the bounded wait for a QoS 1 message
while stopping, the start check's short-lived side client (`check_base_topic`), and the
adapter the control plane and the fenced publisher hand messages to (`PahoTransport`).
`--remove` is removal.py. Side clients never take the worker's client id.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Mapping
import logging
import ssl
import threading
import time
from typing import Any

import paho.mqtt.client as paho
from paho.mqtt.enums import CallbackAPIVersion

from ..contract.host import StartCheck, availability_payload
from ..contract.topics import availability_topic
from ..contract.transport import MAX_BACKLOG
from ..errors import EngineError
from .settings import MqttSettings, WorkerSettings

_LOGGER = logging.getLogger(__name__)

_PUBLISH_WAIT = 3.0
"""Seconds to wait for the broker to acknowledge each message published while stopping."""

START_CHECK_TIMEOUT = 10.0
"""Seconds the start check waits for its probe to come back through the broker."""


class BrokerUnavailableError(Exception):
    """The broker cannot be reached, or refused us (credentials, TLS)."""


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


def wait_published(info: Any, what: str) -> None:
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


def status_sources(status: Mapping[str, Any] | None) -> set[int]:
    """Return the source ids a retained status names (what the last run announced)."""
    sources = (status or {}).get("sources")
    if not isinstance(sources, dict):
        return set()
    return {int(sid) for sid in sources if str(sid).isdigit()}


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


class PahoTransport:
    """The control plane's and publisher's way into paho: hand over, never wait, bounded.

    `connected` follows paho's callbacks; it is changed under the gate's lock, so a message is
    either handed over while connected or dropped (nothing is queued to arrive stale).

    The backlog is what was handed to paho and not yet written to the socket: paho appends
    to an unbounded queue, so a network thread starved of CPU would let it grow for seconds,
    and every acknowledgement would wait behind it. QoS 0 messages are written in the order
    handed over (their `MQTTMessageInfo` says when), so the handles are kept in order and the
    written ones dropped from the front. A reconnect discards what paho had not written
    (`_out_packet` is cleared), hence `connection_up` forgets the handles too. Called under
    the gate's lock; the deque needs no lock of its own.
    """

    def __init__(self, client: Any) -> None:
        """Wrap a paho client."""
        self._client = client
        self.connected = False
        self._unwritten: deque[Any] = deque()

    def connection_up(self) -> None:
        """Mark the client (re)connected: nothing from before waits any more (gate's lock)."""
        self._unwritten.clear()
        self.connected = True

    @property
    def backlogged(self) -> bool:
        """Return True while more than `MAX_BACKLOG` messages wait to be written."""
        unwritten = self._unwritten
        while unwritten and unwritten[0].is_published():
            unwritten.popleft()
        return len(unwritten) > MAX_BACKLOG

    def publish(self, topic: str, payload: str | bytes, *, qos: int, retain: bool) -> object:
        """Hand one message to paho (its network thread sends it)."""
        info = self._client.publish(topic, payload, qos=qos, retain=retain)
        if qos == 0 and info.rc == paho.MQTT_ERR_SUCCESS:
            self._unwritten.append(info)
        return info
