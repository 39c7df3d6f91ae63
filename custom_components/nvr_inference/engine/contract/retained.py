"""Everything a host leaves retained on the broker, found there, so that removal clears it all.

A host retains more than its discovery configs: its availability, its status, per source the
zone and line counts and the latest event's picture (a JPEG of the last person seen). Listing
them from the configuration misses what an older configuration wrote (a camera since dropped,
a zone renamed), so removal asks the broker instead: subscribe to `<base>/#` and to the
discovery configs, publish a probe, and once it is back every retained message there is has
arrived (the same rule as the start check, host.py). What is under the base topic is the
host's (one host per base topic); of the discovery configs, its own node's and its cameras'.
A removal clears what was found, then looks again, and clears again what is still there.
"""

from __future__ import annotations

from collections.abc import Callable
import re
import secrets
import threading

from .host import HostInfo, parse_availability
from .topics import SOURCE_NODE, availability_topic, control_topic

DISCOVERY_FILTER = "{prefix}/device/+/config"
"""Every device's discovery config (one level: the node)."""


class RetainedScan:
    """The retained messages under a base topic and of one discovery node, up to a probe.

    Thread-safe; `on_complete()` runs when the probe is back. `found` maps each retained
    topic that belongs to the host to its payload (empty payloads are no message).
    """

    def __init__(
        self, base_topic: str, node: str, prefix: str, on_complete: Callable[[], None]
    ) -> None:
        """Prepare the scan of `base_topic` and of `node`'s discovery under `prefix`."""
        self.base_topic = base_topic
        self.probe_topic = control_topic(base_topic, "probe")
        self.probe_payload = secrets.token_hex(8)
        self.filters = (f"{base_topic}/#", DISCOVERY_FILTER.format(prefix=prefix))
        self._discovery = re.compile(
            rf"^{re.escape(prefix)}/device/{re.escape(node)}({SOURCE_NODE.pattern[:-1]})?/config$"
        )
        self._on_complete = on_complete
        self._lock = threading.Lock()
        self.found: dict[str, bytes] = {}
        self.complete = False

    def offer(self, topic: str, payload: bytes, *, retained: bool) -> None:
        """Take one message received on one of `filters`."""
        with self._lock:
            if self.complete:
                return
            if topic == self.probe_topic and payload == self.probe_payload.encode():
                self.complete = True
            elif retained and payload and self.owns(topic):
                self.found[topic] = payload
                return
            else:
                return
        self._on_complete()

    def owns(self, topic: str) -> bool:
        """Return True for a topic this host may have retained."""
        return topic.startswith(f"{self.base_topic}/") or bool(self._discovery.match(topic))

    def to_clear(self, me: HostInfo, *, left_behind: str | None = None) -> list[str]:
        """Return what `me` may clear: its discovery, and the base topic unless another host's.

        After the documented move from the integration to the worker on the same base topic,
        removing the old entry must not clear what the worker retains there. `left_behind`:
        the id of a host whose `online` the start check found stale (`StartCheck.stale`): the
        base topic is taken over, so what it left there is cleared too.
        """
        with self._lock:
            found = dict(self.found)
        payload = found.get(availability_topic(self.base_topic))
        seen = parse_availability(payload) if payload else None
        theirs = seen is not None and seen.host not in (None, me.id, left_behind)
        return sorted(t for t in found if not (theirs and t.startswith(f"{self.base_topic}/")))
