"""Who publishes under a base topic: a host's identity, its availability, one live host per topic.

A *host* is one running copy of the engine behind one MQTT connection: a Home Assistant config
entry or a standalone worker. Two hosts on one base topic would obey each other's commands and
overwrite each other's retained acknowledgement, so every status and availability payload names
its host, and a host that finds another *live* host's retained messages on its base topic at
start refuses to start (`foreign_host`). A host that went away cleanly (`offline`) or whose
retained messages name no host (an older release) does not block a newcomer.

**Live, or left behind.** A retained `online` proves nothing by itself: a host that died
without a last will (an embedded entry whose Home Assistant crashed) or any client with write
access can leave one that nothing will ever replace. What a live host does that a retained
message cannot is speak: every host republishes its status every `STATUS_INTERVAL`, and answers
a `status` command at once. So a start check that finds another host's `online` asks that host
for its status and listens for `STALE_AFTER`; a live message from it (not a retained copy)
means it is live and we refuse; silence means the `online` was left behind, and we take the
base topic over (with a warning). Only that case waits: with no other host's `online` there,
the check ends when its probe is back, as before.

The availability payload is JSON (`{"state": "online", "host": "<id>"}`); consumers read
`value_json.state` (the discovery configs say so), and plain `online`/`offline` from an older
release are still understood.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from enum import StrEnum
import json
import logging
from pathlib import Path
import secrets
import threading
from typing import Any

from .topics import availability_topic, control_topic

_LOGGER = logging.getLogger(__name__)

PROJECT_URL = "https://github.com/nvr-inference/nvr_inference"

STATUS_INTERVAL = 10.0
"""Seconds between status refreshes (the fps and latency sensors read them; so does the check
of whether another host is live)."""

STALE_INTERVALS = 2.5
"""How many `STATUS_INTERVAL`s of silence make another host's retained `online` stale.

Two would already allow for one refresh lost (a reconnect, a backlog that dropped it); the
half interval more is for a busy host whose refresh runs late (the worker's refresher ticks
once a second, Home Assistant's on a loaded event loop). A live host is heard long before:
it answers the check's `status` request in milliseconds.
"""

STALE_AFTER = STALE_INTERVALS * STATUS_INTERVAL
"""Seconds a start check listens for another host whose retained `online` it found (25 s)."""

STATUS_REQUEST = '{"command": "status"}'
"""What the check sends another host's command topic: a live host answers with its status."""


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
            f"or stop the other (an 'online' its host left behind stops counting once it has "
            f"said nothing for {STALE_AFTER:g} s; to clear one at once, publish an empty "
            f"retained message to {base_topic}/availability)"
        )

    def describe_stale(self, base_topic: str, waited: float) -> str:
        """Return the warning of a takeover: whose `online` it was, and why it was left behind."""
        return (
            f"The MQTT base topic '{base_topic}' holds a retained 'online' of another "
            f"{self.kind} ({self.name!r}, id {self.id}) that said nothing for {waited:g} s: "
            f"it was left by a host that stopped without its last will (a crash), or published "
            f"by some other client. Taking the base topic over; if that {self.kind} comes back, "
            f"give one of the two its own base topic"
        )


def foreign_host(
    me: HostInfo, status: Mapping[str, Any] | None, availability: Availability | None
) -> ForeignHost | None:
    """Return the other host that holds this base topic, or None when we may start.

    Holds means: the availability says `online` for a host id that is not ours (whether that
    host is live or left it behind is `StartCheck`'s question). The status, when it names the
    same host, adds a kind and a name for the message.
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
    """What the broker retains on a base topic, and whether another host's `online` there is live.

    A host subscribes to its status, availability and probe topics, publishes a probe (a nonce)
    once the subscription is granted, and waits for the probe to come back. The broker sends a
    subscription's retained messages before anything published after it on the same
    connection, so when the probe is back, every retained message there is has arrived: no
    guessing how long a slow broker takes (`on_complete`).

    If another host's `online` is there, the host then calls `watch`, sends `STATUS_REQUEST`
    to `request_topic`, and waits up to `stale_after` for `on_heard`: a *live* message (the
    broker's `retain` flag is off: sent now, not a copy kept from before) on the status or
    availability topic that names that host, or one that frees the topic (its `offline`, an
    empty availability). Then `verdict` says: refuse (it spoke), or start (it did not: stale).
    Thread-safe; hosts wait in their own way (events, timeouts; nothing sleeps).
    """

    def __init__(
        self,
        base_topic: str,
        on_complete: Callable[[], None],
        *,
        stale_after: float = STALE_AFTER,
    ) -> None:
        """Prepare the check of `base_topic`; `on_complete()` runs when the probe is back."""
        self.base_topic = base_topic
        self.status_topic = control_topic(base_topic, "status")
        self.availability_topic = availability_topic(base_topic)
        self.probe_topic = control_topic(base_topic, "probe")
        self.request_topic = control_topic(base_topic, "commands")
        self.probe_payload = secrets.token_hex(8)
        self.topics = (self.status_topic, self.availability_topic, self.probe_topic)
        self.stale_after = stale_after
        self._on_complete = on_complete
        self._lock = threading.Lock()
        self.status: dict[str, Any] | None = None
        self.availability: Availability | None = None
        self.complete = False
        self._heard: set[str] = set()  # hosts that sent a live status or availability
        self._me: HostInfo | None = None
        self._watched: ForeignHost | None = None
        self._on_heard: Callable[[], None] | None = None
        self.stale: ForeignHost | None = None  # the host whose `online` was taken over

    def offer(self, topic: str, payload: bytes | str, *, retained: bool) -> None:
        """Take one message received on one of `topics`; `retained`: the broker's flag.

        Until the probe is back every message counts (retained copies come first); after it,
        only live ones (the watch).
        """
        notify: Callable[[], None] | None = None
        with self._lock:
            if self.complete and retained:
                return
            if topic == self.probe_topic:
                text = payload.decode("utf-8", "replace") if isinstance(payload, bytes) else payload
                if text != self.probe_payload or self.complete:
                    return
                self.complete = True
                notify = self._on_complete
            elif topic in (self.status_topic, self.availability_topic):
                speaker = self._take_locked(topic, payload)
                if not retained and speaker is not None:
                    self._heard.add(speaker)
                notify = self._settle_locked()
        if notify is not None:
            notify()

    def _take_locked(self, topic: str, payload: bytes | str) -> str | None:
        """Keep a status or availability message; return the host id it names, if any."""
        if topic == self.availability_topic:
            self.availability = parse_availability(payload) if payload else None
            return self.availability.host if self.availability is not None else None
        try:
            status = json.loads(payload) if payload else None
        except ValueError:
            status = None
        self.status = status if isinstance(status, dict) else None
        owner = self.status.get("host") if self.status is not None else None
        speaker = owner.get("id") if isinstance(owner, dict) else None
        return speaker if isinstance(speaker, str) else None

    def _settle_locked(self) -> Callable[[], None] | None:
        """Return `on_heard` (once) when the watched host spoke or no longer holds the topic."""
        watched, on_heard = self._watched, self._on_heard
        if watched is None or on_heard is None or self._me is None:
            return None
        now = foreign_host(self._me, self.status, self.availability)
        if now is not None and now.id == watched.id and watched.id not in self._heard:
            return None
        self._on_heard = None
        return on_heard

    def watch(self, me: HostInfo, on_heard: Callable[[], None]) -> ForeignHost | None:
        """Once complete: return the other host to listen for, None when there is none.

        None as well when that host already spoke during the check (it is live: `verdict`
        refuses at once). Otherwise the host sends `STATUS_REQUEST` to `request_topic` and waits
        up to `stale_after` for `on_heard()`, then asks for the `verdict`.
        """
        with self._lock:
            found = foreign_host(me, self.status, self.availability)
            if found is None or found.id in self._heard:
                return None
            self._me, self._watched, self._on_heard = me, found, on_heard
            return found

    def verdict(self, me: HostInfo) -> ForeignHost | None:
        """Return the other live host on this base topic, if any (after the watch's wait).

        A watched host that never spoke is stale: None, `stale` names it, and the takeover is
        logged. A host never watched counts as live (the check cannot tell).
        """
        with self._lock:
            found = foreign_host(me, self.status, self.availability)
            watched = self._watched
            if found is None or found.id in self._heard or watched is None:
                return found
            if found.id != watched.id:
                return found
            if self.stale is None:  # as found at the watch: its own status named it
                self.stale = watched
                _LOGGER.warning("%s", watched.describe_stale(self.base_topic, self.stale_after))
            return None
