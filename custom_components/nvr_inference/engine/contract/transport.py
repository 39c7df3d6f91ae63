"""The one thing the engine needs from an MQTT client: hand a message over, now.

Each host adapts its own client: the worker paho's `publish`, the integration Home
Assistant's `mqtt.async_publish` started as an eager task (it reaches paho's `publish` before
its first await). The engine calls `publish` with the gate's lock held, which is what orders
every message against every pause, so `publish` must hand the message to the client and
return: it never waits for the broker. What is handed over travels as `Outgoing` where it is
built ahead of the hand-off (the event engine returns lists of them for the publisher).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol


class Transport(Protocol):
    """A synchronous hand-off to an MQTT client, and whether it is connected."""

    @property
    def connected(self) -> bool:
        """Return True while the client is connected to the broker."""

    def publish(self, topic: str, payload: str | bytes, *, qos: int, retain: bool) -> object:
        """Hand one message to the client without waiting; return the client's handle."""


@dataclass(frozen=True, slots=True)
class Outgoing:
    """One message for the transport: `Transport.publish`'s arguments, built ahead of it."""

    topic: str
    payload: str | bytes
    qos: int
    retain: bool
