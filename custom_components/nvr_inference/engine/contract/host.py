"""Who publishes under a base topic: a host's identity, its availability, one live host per topic.

A *host* is one running copy of the engine behind one MQTT connection: a Home Assistant config
entry or a standalone worker. Two hosts on one base topic would obey each other's commands and
overwrite each other's retained acknowledgement, so every status and availability payload names
its host, and a host that finds another *live* host's retained messages on its base topic at
start refuses to start (`foreign_host`). A host that went away cleanly (`offline`) or whose
retained messages name no host (an older release) does not block a newcomer.

The availability payload is JSON (`{"state": "online", "host": "<id>"}`); consumers read
`value_json.state` (the discovery configs say so), and plain `online`/`offline` from an older
release are still understood.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from enum import StrEnum
import json
from pathlib import Path
import secrets
import threading
from typing import Any

from .topics import availability_topic, control_topic

PROJECT_URL = "https://github.com/nvr-inference/nvr_inference"


def _read_version() -> str:
    manifest = Path(__file__).resolve().parents[2] / "manifest.json"
    try:
        return str(json.loads(manifest.read_text(encoding="utf-8"))["version"])
    except (OSError, ValueError, KeyError):
        return "unknown"


VERSION = _read_version()
"""The release, read from the integration's manifest (the one place it is written)."""


class HostKind(StrEnum):
    """What kind of program a host is."""

    INTEGRATION = "integration"
    WORKER = "worker"


@dataclass(frozen=True, slots=True)
class HostInfo:
    """A host's stable identity: `id` is compared, `name` and `kind` are shown to people."""

    id: str
    kind: HostKind
    name: str

    def as_dict(self) -> dict[str, str]:
        """Return the `host` object of the status message."""
        return {"id": self.id, "kind": self.kind.value, "name": self.name}

    def origin(self) -> dict[str, str]:
        """Return the discovery `o` (origin) block: who made these entities."""
        suffix = " worker" if self.kind is HostKind.WORKER else ""
        return {"name": f"nvr_inference{suffix}", "sw": VERSION, "url": PROJECT_URL}


def availability_payload(host: HostInfo, *, online: bool) -> str:
    """Return the retained availability payload (also the worker's last will)."""
    state = "online" if online else "offline"
    return json.dumps({"state": state, "host": host.id}, separators=(",", ":"))


@dataclass(frozen=True, slots=True)
class Availability:
    """A parsed availability payload; `host` is None for a plain `online`/`offline`."""

    online: bool
    host: str | None


def parse_availability(payload: bytes | str) -> Availability | None:
    """Read an availability payload, JSON or plain; None when it is neither."""
    text = payload.decode("utf-8", "replace") if isinstance(payload, bytes) else payload
    text = text.strip()
    if text in ("online", "offline"):
        return Availability(text == "online", None)
    try:
        data = json.loads(text)
    except ValueError:
        return None
    if not isinstance(data, dict) or data.get("state") not in ("online", "offline"):
        return None
    host = data.get("host")
    return Availability(data["state"] == "online", host if isinstance(host, str) else None)


@dataclass(frozen=True, slots=True)
class ForeignHost:
    """Another live host on our base topic: what the refusal says."""

    id: str
    kind: str
    name: str

    def describe(self, base_topic: str) -> str:
        """One sentence a person can act on."""
        return (
            f"the MQTT base topic '{base_topic}' is in use by another {self.kind} "
            f"({self.name!r}, id {self.id}) that is online; give this one its own base topic, "
            f"or stop the other (if it is gone for good, clear its retained availability: "
            f"publish an empty retained message to {base_topic}/availability)"
        )


def foreign_host(
    me: HostInfo, status: Mapping[str, Any] | None, availability: Availability | None
) -> ForeignHost | None:
    """Return the other live host that owns this base topic, or None when we may start.

    Live means: the retained availability says `online` for a host id that is not ours. The
    retained status, when it names the same host, adds a kind and a name for the message.
    """
    if availability is None or not availability.online or availability.host is None:
        return None
    if availability.host == me.id:
        return None
    kind, name = "host", availability.host
    owner = status.get("host") if status is not None else None
    if isinstance(owner, dict) and owner.get("id") == availability.host:
        kind = str(owner.get("kind", kind))
        name = str(owner.get("name", name))
    return ForeignHost(availability.host, kind, name)


class StartCheck:
    """What the broker retains on a base topic, read up to a probe of our own.

    A host subscribes to its status, availability and probe topics, publishes a probe (a nonce)
    once the subscription is granted, and waits for the probe to come back. The broker sends a
    subscription's retained messages before anything published after it on the same
    connection, so when the probe is back, every retained message there is has arrived: no
    guessing how long a slow broker takes. Thread-safe; hosts wait in their own way and are
    told by `on_complete`.
    """

    def __init__(self, base_topic: str, on_complete: Callable[[], None]) -> None:
        """Prepare the check of `base_topic`; `on_complete()` runs when the probe is back."""
        self.status_topic = control_topic(base_topic, "status")
        self.availability_topic = availability_topic(base_topic)
        self.probe_topic = control_topic(base_topic, "probe")
        self.probe_payload = secrets.token_hex(8)
        self.topics = (self.status_topic, self.availability_topic, self.probe_topic)
        self._on_complete = on_complete
        self._lock = threading.Lock()
        self.status: dict[str, Any] | None = None
        self.availability: Availability | None = None
        self.complete = False

    def offer(self, topic: str, payload: bytes | str) -> None:
        """Take one message received on one of `topics`."""
        with self._lock:
            if self.complete:
                return
            if topic == self.status_topic:
                try:
                    status = json.loads(payload) if payload else None
                except ValueError:
                    status = None
                self.status = status if isinstance(status, dict) else None
            elif topic == self.availability_topic:
                self.availability = parse_availability(payload) if payload else None
            elif topic == self.probe_topic:
                text = payload.decode("utf-8", "replace") if isinstance(payload, bytes) else payload
                if text != self.probe_payload:
                    return
                self.complete = True
            else:
                return
            if not self.complete:
                return
        self._on_complete()

    def verdict(self, me: HostInfo) -> ForeignHost | None:
        """Return the other live host on this base topic, if any."""
        with self._lock:
            return foreign_host(me, self.status, self.availability)
