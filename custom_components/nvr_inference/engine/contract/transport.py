"""The one thing the engine needs from an MQTT client: hand a message over, now, in order.

Each host adapts its own client: the worker paho's `publish`, the integration Home
Assistant's client through one drain task (hass_mqtt.py). The engine calls `publish` with
the gate's lock held, which is what orders every message against every pause, so `publish`
must take the message in order and return: it never waits for the broker. What is handed
over travels as `Outgoing` where it is built ahead of the hand-off (the event engine returns
lists of them for the publisher).

**One QoS for everything the fence orders.** Detections, events, zone and line counts,
snapshots and the retained status all go out at `FENCED_QOS` (0, as Frigate does). Mixed
levels reorder: paho keeps at most 20 QoS-1 messages in flight and sends QoS-0 ones past the
queue, and mosquitto does the same towards each subscriber (its per-client in-flight window),
so a detection published after a QoS-1 acknowledgement could arrive before it (measured: 7 to
10 a run at 16 cameras). At one level every hop is one FIFO, whatever QoS a consumer
subscribes with. QoS 0 is never redelivered either, so no stale status handed over before a
disconnect can overwrite a fresher one after the reconnect; the host re-announces the status
on every connect instead. Availability (the last will), discovery and error replies are not
ordered by the fence and stay where they are.

**Nothing queues without bound.** `backlogged` says that more than `MAX_BACKLOG` messages were
handed over and not yet written to the socket; the publisher then drops detection messages
with objects (counted), never the status, events or the messages that clear a source.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

FENCED_QOS = 0
"""The QoS of every message the fence orders (see the module doc)."""

MAX_BACKLOG = 64
"""Messages handed over and not yet written beyond which detections are dropped."""


class Transport(Protocol):
    """A synchronous hand-off to an MQTT client, whether it is connected, and its backlog."""

    @property
    def connected(self) -> bool:
        """Return True while the client is connected to the broker."""

    @property
    def backlogged(self) -> bool:
        """Return True while more than `MAX_BACKLOG` handed-over messages wait for the socket."""

    def publish(self, topic: str, payload: str | bytes, *, qos: int, retain: bool) -> object:
        """Hand one message to the client without waiting; return the client's handle."""


@dataclass(frozen=True, slots=True)
class Outgoing:
    """One message for the transport: `Transport.publish`'s arguments, built ahead of it."""

    topic: str
    payload: str | bytes
    qos: int
    retain: bool
