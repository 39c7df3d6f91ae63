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
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
import logging
import ssl
import threading
import time
from typing import Any

import paho.mqtt.client as paho
from paho.mqtt.enums import CallbackAPIVersion

from ..config.worker_settings import MqttSettings, WorkerSettings
from ..contract.host import (
    STALE_INTERVALS,
    STATUS_REQUEST,
    HostInfo,
    StartCheck,
    availability_payload,
)
from ..contract.topics import availability_topic
from ..contract.transport import MAX_BACKLOG
from .tls import tls_context, tls_hint

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
    client.enable_logger(logging.getLogger(PAHO_LOGGER))
    if mqtt.username is not None:
        client.username_pw_set(mqtt.username, mqtt.password)
    if mqtt.tls:
        client.tls_set_context(tls_context(mqtt))
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


PAHO_LOGGER = "paho.mqtt.client"


@contextmanager
def _paho_quiet_while_connecting() -> Iterator[None]:
    """Show paho's own errors at DEBUG only while the first connect is tried.

    A failed first connect is one line from us (why, and what to do); paho's `failed to receive
    on socket` and the like before it would make it three. At DEBUG they all still show.
    """
    logger = logging.getLogger(PAHO_LOGGER)

    def demote(record: logging.LogRecord) -> bool:
        if record.levelno > logging.DEBUG:
            record.levelno, record.levelname = logging.DEBUG, "DEBUG"
        return logger.isEnabledFor(logging.DEBUG)

    logger.addFilter(demote)
    try:
        yield
    finally:
        logger.removeFilter(demote)


def connect_sync(client: Any, settings: MqttSettings, connack: Callable[[], Any]) -> None:
    """Connect once, synchronously, and wait for the broker's answer.

    `connack()` returns the reason code that `on_connect` recorded (None until it came). Raises
    `BrokerUnavailableError` with one line a person can act on. Run before `loop_start()`.
    """
    with _paho_quiet_while_connecting():
        _connect_sync(client, settings, connack)


def _connect_sync(client: Any, settings: MqttSettings, connack: Callable[[], Any]) -> None:
    where = f"{settings.host}:{settings.port}"
    try:
        client.connect(settings.host, settings.port, settings.keepalive)
    except ssl.SSLError as err:
        raise BrokerUnavailableError(
            f"the TLS handshake with the MQTT broker at {where} failed: "
            f"{getattr(err, 'verify_message', None) or err.reason or err}"
            f"{tls_hint(settings, err)}"
        ) from None
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
                f"the MQTT broker at {where} closed the connection before answering "
                f"({paho.error_string(rc).rstrip('.')}){tls_hint(settings, None)}"
            )
    reason = connack()
    if reason.is_failure:
        client.disconnect()
        raise BrokerUnavailableError(f"the MQTT broker at {where} refused the connection: {reason}")


def close(client: Any, *, threaded: bool) -> None:
    """Disconnect cleanly; with `threaded`, end paho's network thread with the DISCONNECT.

    `disconnect()` then `loop_stop()` races in paho 2.2: the network thread writes the
    DISCONNECT, closes the socket, and its loop runs once more without one, logging `ERROR
    ... Client is not connected` after a stop that went well (4 runs in 10 of `--remove`;
    also at each start, from the start check's side client). `loop_stop()` first is no better:
    the thread sleeps in `select` up to a second before it sees the flag. So the thread stops
    itself right after writing the DISCONNECT (paho calls `on_disconnect` there, before it
    closes the socket; `loop_stop()` on its own thread only sets the flag), and is joined.
    """
    if threaded:
        previous = client.on_disconnect

        def _stop_with_the_disconnect(c: Any, *args: Any) -> None:
            c.loop_stop()
            if previous is not None:
                previous(c, *args)

        client.on_disconnect = _stop_with_the_disconnect
    client.disconnect()
    if threaded:
        client.loop_stop()


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


def check_base_topic(
    settings: WorkerSettings,
    timeout: float = START_CHECK_TIMEOUT,
    *,
    me: HostInfo | None = None,
) -> StartCheck:
    """Read what the broker retains on the base topic, up to a probe of our own.

    A short-lived side client (it never takes the worker's client id) subscribes to the
    status, availability and probe topics and publishes its probe once subscribed; when the
    probe is back, every retained message there is has arrived (see `StartCheck`). Returns the
    check, `complete` False when the probe did not come back within `timeout`. When another
    host's `online` is there, the client asks that host for its status and listens up to
    `stale_after` (`STALE_INTERVALS` of our `status_interval`) for it: the verdict then tells
    a live host from one that left its `online` behind. `me`: who asks (the worker by default;
    `--remove` asks as someone else, so that the worker's own `online` is watched too).
    """
    me = settings.host if me is None else me
    done, heard = threading.Event(), threading.Event()
    stale_after = STALE_INTERVALS * settings.status_interval
    check = StartCheck(settings.base_topic, done.set, stale_after=stale_after)
    client = make_client(settings, will=False, suffix="_start")
    connack: list[Any] = []

    def on_connect(c: Any, _u: Any, _f: Any, reason: Any, _p: Any) -> None:
        connack.append(reason)
        c.subscribe([(topic, 1) for topic in check.topics])

    def on_subscribe(c: Any, *_args: Any) -> None:
        c.publish(check.probe_topic, check.probe_payload, qos=1)

    def on_message(_c: Any, _u: Any, msg: Any) -> None:
        check.offer(msg.topic, bytes(msg.payload), retained=bool(msg.retain))

    client.on_connect = on_connect
    client.on_subscribe = on_subscribe
    client.on_message = on_message
    connect_sync(client, settings.mqtt, lambda: connack[0] if connack else None)
    client.loop_start()
    try:
        if done.wait(timeout) and (other := check.watch(me, heard.set)) is not None:
            _LOGGER.debug(  # a refusal stays one line
                "The base topic %s says another host (%s) is online; asking it for its status",
                settings.base_topic,
                other.id,
            )
            client.publish(check.request_topic, STATUS_REQUEST, qos=1)
            heard.wait(stale_after)
    finally:
        close(client, threaded=True)
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
