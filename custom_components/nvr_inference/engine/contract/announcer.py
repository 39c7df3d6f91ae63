"""What a host keeps on the broker: availability, the retained status, discovery, and their end.

The control plane (control.py) changes things: the pause, commands, source states. This is
the side that says so: the retained messages a subscriber reads to know what is true now. It
is the control plane's base class, so both share one state (the sources' statuses, the last
change and its reason, whether the host is closing), guarded by the gate's lock.

Everything here is handed to the transport with the gate's lock held, the lock detections are
published under (publisher.py), so a status built before a pause can never be published after
its acknowledgement. Nothing waits on the broker while holding the lock: the transport only
hands over, and while it is offline a message is dropped, never queued to arrive stale (the
next announce, after a reconnect, republishes what is current). The status goes out at the
fence's one QoS (transport.py), never redelivered stale after a reconnect.

**The announce, in order** (at start and on every connect): first what the host owes (the
`end`s of events the broker missed), then the retained counts and placeholders (hooks), then
the fresh status, then `online`, then discovery. Everything the fence orders comes before the
status that acknowledges it, as in a pause. Status before `online`: after a crash the broker
still retains the killed run's status (sources `available`), and a consumer that woke on
`online` would read it as current and replay what it said.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
import logging
from typing import Any

from ..discovery.devices import DiscoverySpec, build_discovery
from ..fence.gate import PauseGate
from ..pipeline.source_status import SourceStats, SourceStatus, utc_now
from ..video.sources import SourceConfig
from .host import HostInfo, availability_payload
from .status import build_status, status_json
from .topics import availability_topic, control_topic
from .transport import FENCED_QOS, Transport


class Announcer:
    """A host's retained state on the broker: availability, status and discovery."""

    def __init__(
        self,
        *,
        host: HostInfo,
        base_topic: str,
        sources: Mapping[int, SourceConfig],
        gate: PauseGate,
        transport: Transport,
        stats: Callable[[], Mapping[int, SourceStats]],
        discovery: DiscoverySpec | None,
        logger: logging.Logger,
    ) -> None:
        """Prepare; nothing is published until `announce()`."""
        self.host = host
        self.base_topic = base_topic
        self.sources = dict(sources)
        self._gate = gate
        self._transport = transport
        self._stats = stats
        self._discovery = discovery
        self._log = logger
        # Guarded by the gate's lock:
        self._statuses: dict[int, SourceStatus] = {}
        self._changed = utc_now()
        self._reason = "start"
        self._store_error: str | None = None
        self._closing = False
        self._announce_hooks: list[Callable[[], None]] = []
        self._owed_hooks: list[Callable[[], None]] = []
        self._retired: set[int] = set()  # sources announced before, gone now (discovery)
        self.classes: tuple[str, ...] = ()  # what the detector reports (discovery)
        self.event_types: tuple[str, ...] = ()  # with tracking on: the event entity's types

    def add_announce_hook(self, hook: Callable[[], None]) -> Callable[[], None]:
        """Run `hook()` inside the fence at every announce, before the status; unsub."""
        self._announce_hooks.append(hook)
        return lambda: self._announce_hooks.remove(hook)

    def add_owed_hook(self, hook: Callable[[], None]) -> None:
        """Run `hook()` inside the fence first at every announce (what the broker missed)."""
        self._owed_hooks.append(hook)

    def announce(self, *, reconnected: Callable[[], None] | None = None) -> None:
        """Owed, status, availability, discovery: at start, after a reconnect, on HA's birth.

        `reconnected()` runs first in the same hold of the gate's lock: a transport that marks
        itself connected there lets nothing out between the reconnect and the announce (no
        status of another thread's ahead of the owed `end`s).
        """
        with self._gate.lock:
            if reconnected is not None:
                reconnected()
            if self._closing:
                return
            for owed in list(self._owed_hooks):
                owed()
            for hook in list(self._announce_hooks):
                hook()
            self._publish_status_locked()
            self._publish_locked(
                availability_topic(self.base_topic),
                availability_payload(self.host, online=True),
                qos=1,
                retain=True,
            )
            self._publish_discovery_locked()

    def publish_status(self) -> None:
        """Publish the retained status now (on request, and every `STATUS_INTERVAL`)."""
        with self._gate.lock:
            self._publish_status_locked()

    def publish_discovery(self) -> None:
        """Publish the retained discovery config (Home Assistant came online)."""
        with self._gate.lock:
            if not self._closing:
                self._publish_discovery_locked()

    def remove_discovery(self) -> list[object]:
        """Clear the retained discovery configs, so the discovered entities go too."""
        if self._discovery is None:
            return []
        with self._gate.lock:
            return [
                self._publish_locked(topic, "", qos=1, retain=True)
                for topic in self._discovery.topics(self.sources)
            ]

    def retire_sources(self, source_ids: Iterable[int]) -> None:
        """Clear the discovered devices of sources this host had before and has no more.

        A camera dropped from the worker's configuration would otherwise leave its device,
        with entities nothing updates, in Home Assistant for good.
        """
        with self._gate.lock:
            self._retired = set(source_ids) - set(self.sources)

    def status_message(self) -> dict[str, Any]:
        """Build the status body (diagnostics, tests)."""
        with self._gate.lock:
            return self._status_locked()

    # -- under the gate's lock -----------------------------------------------------------------

    def _sign_off_locked(self) -> list[object]:
        """Publish the last word, the final `stopped` status and `offline`; nothing after them."""
        self._closing = True
        self._changed = utc_now()
        self._reason = "stopped"
        final = self._publish_locked(
            control_topic(self.base_topic, "status"),
            status_json(self._status_locked(stopped=True)),
            qos=FENCED_QOS,
            retain=True,
        )
        offline = self._publish_locked(
            availability_topic(self.base_topic),
            availability_payload(self.host, online=False),
            qos=1,
            retain=True,
        )
        return [final, offline]

    def _status_locked(self, *, stopped: bool = False) -> dict[str, Any]:
        return build_status(
            host=self.host,
            snapshot=self._gate.current(),
            sources=self.sources,
            statuses=self._statuses,
            stats=self._stats(),
            changed=self._changed,
            reason=self._reason,
            stopped=stopped,
            store_error=self._store_error,
        )

    def _publish_status_locked(self) -> object:
        if self._closing:
            return None
        return self._publish_locked(
            control_topic(self.base_topic, "status"),
            status_json(self._status_locked()),
            qos=FENCED_QOS,
            retain=True,
        )

    def _publish_discovery_locked(self) -> None:
        spec = self._discovery
        if spec is None:
            return
        configs = build_discovery(
            spec,
            base_topic=self.base_topic,
            sources=self.sources.values(),
            classes=self.classes,
            host=self.host,
            event_types=self.event_types,
        )
        for topic, config in configs.items():
            self._publish_locked(topic, status_json(config), qos=1, retain=True)
        for topic in spec.topics(sorted(self._retired))[1:]:
            self._publish_locked(topic, "", qos=1, retain=True)

    def _publish_locked(
        self, topic: str, payload: str, *, qos: int, retain: bool = False
    ) -> object:
        """Hand a message over, or drop it while offline: never queued to arrive stale."""
        if not self._transport.connected:
            return None
        return self._transport.publish(topic, payload, qos=qos, retain=retain)
