"""What one entry's entities show beside the control plane's state, and whom to tell.

The control plane holds the pause and each source's state; the pictures and events the
entities show are kept here, with the entities that follow them, keyed by the source they
show. A source's snapshot or event then rewrites that source's entities only, not every
entity of every camera: with 16 cameras, a snapshot every 2 s each would otherwise be about
900 state writes per second on the event loop.

Everything here runs on the event loop: the controller feeds it from the fenced publisher,
the event engine and the control plane's pause hook, which all call on the loop.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from homeassistant.core import callback
from homeassistant.util import dt as dt_util

from .engine.contract.messages import DetectionMessage
from .engine.objects.event_records import EventRecord


class EntityFeed:
    """Per-source pictures and events, and the entities that follow them."""

    def __init__(self) -> None:
        """Start with nothing to show and nobody following."""
        # The latest snapshot per source and when its frame was captured; dropped when the
        # source pauses, so no pre-pause frame is ever shown as current (see drop_snapshots).
        self.snapshots: dict[int, tuple[bytes, datetime]] = {}
        # The last event of each source and the JPEG of its best frame (the "last event"
        # picture), and whoever shows events (event entities), by source.
        self.last_events: dict[int, EventRecord] = {}
        self.event_snapshots: dict[int, tuple[bytes, datetime]] = {}
        self._event_listeners: dict[int, list[Callable[[EventRecord], None]]] = {}
        # Keyed by the source an entity shows (None: the hub, and anyone who wants every
        # change).
        self._listeners: dict[int | None, list[Callable[[], None]]] = {None: []}
        self._refresh_listeners: list[Callable[[], None]] = []

    @callback
    def async_add_listener(
        self, listener: Callable[[], None], source_id: int | None = None
    ) -> Callable[[], None]:
        """Call `listener()` after changes entities show; return an unsubscribe.

        With `source_id`, only changes of that source or of everything (a global pause, the
        broker connection, the periodic refresh); without, every change.
        """
        listeners = self._listeners.setdefault(source_id, [])
        listeners.append(listener)
        return lambda: listeners.remove(listener)

    @callback
    def async_notify(self, source_id: int | None = None) -> None:
        """Tell the listeners of `source_id` (None: every source) and the hub's."""
        if source_id is None:
            groups = list(self._listeners.values())
        else:
            groups = [self._listeners[None], self._listeners.get(source_id, [])]
        for group in groups:
            for listener in list(group):
                listener()

    @callback
    def async_add_refresh_listener(self, listener: Callable[[], None]) -> Callable[[], None]:
        """Call `listener()` on every periodic refresh (see `async_refresh`); unsubscribe."""
        self._refresh_listeners.append(listener)
        return lambda: self._refresh_listeners.remove(listener)

    @callback
    def async_refresh(self) -> None:
        """Tell the refresh listeners: values that change per frame are written now."""
        for listener in list(self._refresh_listeners):
            listener()

    @callback
    def async_add_event_listener(
        self, source_id: int, listener: Callable[[EventRecord], None]
    ) -> Callable[[], None]:
        """Call `listener(record)` for each event of `source_id`; return an unsubscribe."""
        listeners = self._event_listeners.setdefault(source_id, [])
        listeners.append(listener)
        return lambda: listeners.remove(listener)

    @callback
    def async_published(self, message: DetectionMessage) -> None:
        """Keep a published message's snapshot (it passed the gate, so it is current)."""
        if message.snapshot is not None:
            self.snapshots[message.source_id] = (message.snapshot, message.frame_timestamp)
        self.async_notify(message.source_id)

    def drop_snapshots(self, newly_paused: frozenset[int]) -> None:
        """Pause hook (inside the fence): a paused source's last snapshot is not current."""
        for source_id in newly_paused:
            self.snapshots.pop(source_id, None)

    @callback
    def async_event_engine_changed(self, source_id: int, what: str, value: Any) -> None:
        """Keep and fan out what the event engine published (on the loop, gate lock held)."""
        if what == "event":
            record: EventRecord = value
            self.last_events[source_id] = record
            if record.snapshot is not None:
                self.event_snapshots[source_id] = (record.snapshot, dt_util.utcnow())
            for listener in list(self._event_listeners.get(source_id, ())):
                listener(record)
        self.async_notify(source_id)
