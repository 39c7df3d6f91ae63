"""The control plane: a host's side of the MQTT contract, written once for both hosts.

The integration and the worker are two hosts of one engine. Each used to implement commands,
the acknowledgement, the announce, discovery, status logging and the error replies on its own;
now both hand this class the two things that differ, and keep only their lifecycle:

* a `Transport` (transport.py): a synchronous hand-off to their MQTT client, and whether it is
  connected;
* a `PauseStore` (pause_store.py): where the pause is kept on disk.

What the plane keeps retained on the broker (availability, status, discovery) is its base
class, `Announcer` (announcer.py); this module is what changes it: the pause, commands, source
states, other hosts seen, and the end.

**A change, in order: persist, gate, acknowledge.** `set_paused` computes the new switch state,
has the store write it, and only then changes the gate; the retained status (the
acknowledgement) is handed to the transport inside the same hold of the gate's lock that made
the change (`PauseGate.set_paused(..., then=...)`). So when a subscriber sees `"paused": true`,
the pause is on disk and no detection can follow it; when the gate is open, the disk says so
too. A store that cannot be written does not stop a pause (the error is in the status and the
log); a store that cannot be *read* starts the host paused (`restore`): it fails closed.

**A change that changes nothing is not made.** A pause of what is already paused (or a
resume of what runs) whose state is on disk neither writes the store nor republishes the
status: anyone on the command topic could otherwise make the host rewrite and sync its state
file, and republish its status, thousands of times a second. The retained status already says
what is true; the `status` command asks for it again.

**A flood costs bounded work.** Commands that cost work (a save, a status on request) and
error replies are limited per second (`CommandBudget`, ratelimit.py, says how, and why a pause
is never refused); what is left is parsing, about 10-20 us a command.

**Threads.** Every method may be called from any thread; everything handed to the transport is
handed over with the gate's lock held (announcer.py says why). In the integration every call
comes from Home Assistant's event loop; in the worker from paho's network thread (commands),
the pipeline threads (source states) and the worker's own threads. `set_paused` calls must
not overlap across threads (each host has one thread of commands).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
import logging
import threading
from typing import Any

from ..discovery.devices import DiscoverySpec
from ..fence.gate import GateSnapshot, PauseGate, UnknownSourceError
from ..fence.pause_store import PauseState, PauseStore
from ..fence.publisher import FencedPublisher
from ..pipeline.engine import Engine
from ..pipeline.source_status import SourceState, SourceStats, SourceStatus, utc_now
from ..video.sources import SourceConfig
from .announcer import Announcer
from .commands import Command, CommandError, CommandName, accept_command
from .host import Availability, HostInfo, parse_availability
from .ratelimit import TOO_MANY, CommandBudget, RateLimitedLog
from .status import status_json
from .topics import control_topic
from .transport import Transport

_LOGGER = logging.getLogger(__name__)

PauseHook = Callable[[frozenset[int]], None]
"""Called inside the fence with the sources a change has just paused, before the ack."""


class ControlPlane(Announcer):
    """Commands, the pause and its acknowledgement, source states, other hosts; and the end."""

    def __init__(
        self,
        *,
        host: HostInfo,
        base_topic: str,
        sources: Mapping[int, SourceConfig],
        gate: PauseGate,
        transport: Transport,
        store: PauseStore,
        stats: Callable[[], Mapping[int, SourceStats]],
        discovery: DiscoverySpec | None = None,
        on_change: Callable[[int | None], None] | None = None,
        logger: logging.Logger = _LOGGER,
    ) -> None:
        """Prepare; nothing is published until `announce()`.

        `on_change(source_id)` follows every change a host may want to show (None: all).
        """
        super().__init__(
            host=host,
            base_topic=base_topic,
            sources=sources,
            gate=gate,
            transport=transport,
            stats=stats,
            discovery=discovery,
            logger=logger,
        )
        self._store = store
        self._on_change = on_change or (lambda _source_id: None)
        self._command_log = RateLimitedLog(logger)
        self._store_log = RateLimitedLog(logger)
        self._foreign_log = RateLimitedLog(logger)
        # Guarded by the gate's lock:
        self._pause_hooks: list[PauseHook] = []
        self._after_change: list[Callable[[], None]] = []
        # Guarded by _save_lock: the switch state last handed to the store.
        # An RLock: a synchronous store calls `saved` inside `save`, under the lock.
        self._save_lock = threading.RLock()
        self._desired = PauseState()
        self._on_disk: PauseState | None = None  # last saved; None: unknown since the start
        self._saving = 0  # saves handed to the store and not done yet
        self._waiting: list[Callable[[], None]] = []  # on_done of changes that changed nothing
        self._budget = CommandBudget()  # used on the one thread of commands
        self._ever_up: set[int] = set()
        self.last_error: dict[str, Any] | None = None
        self.foreign: Availability | None = None  # another host seen on our base topic
        self._taken_from: str | None = None  # the silent host the start check took over from

    @classmethod
    def for_engine(
        cls,
        engine: Engine,
        *,
        host: HostInfo,
        base_topic: str,
        transport: Transport,
        store: PauseStore,
        publisher: FencedPublisher | None = None,
        discovery: DiscoverySpec | None = None,
        on_change: Callable[[int | None], None] | None = None,
        logger: logging.Logger = _LOGGER,
    ) -> ControlPlane:
        """Build the control plane of `engine`: its sources, gate, stats and classes.

        With the host's `publisher`, a pause clears what the paused sources left as current
        (their events end, their next frame is a message, their snapshot a placeholder) before
        it is acknowledged, and the announce republishes zone and line counts.
        """
        plane = cls(
            host=host,
            base_topic=base_topic,
            sources=engine.sources,
            gate=engine.gate,
            transport=transport,
            store=store,
            stats=engine.stats,
            discovery=discovery,
            on_change=on_change,
            logger=logger,
        )
        plane.classes = engine.reported_classes
        if publisher is not None:
            sources = tuple(engine.sources)
            plane.add_pause_hook(publisher.sources_paused)
            plane.add_owed_hook(publisher.owed_locked)
            plane.add_announce_hook(lambda: publisher.announce_locked(sources))
            plane._after_change.append(publisher.flush)
            if publisher.events is not None:
                plane.event_types = publisher.events.event_types
        return plane

    # -- the pause -----------------------------------------------------------------------------

    def restore(self, saved: PauseState | None, *, error: str | None = None) -> None:
        """Apply the saved pause before any pipeline starts; fail closed when it was unreadable.

        `saved` None with no `error` means nothing was ever saved: everything starts open.
        """
        reason = "start" if saved is None else "restored"
        if error is not None:
            self._log.error("%s; starting with every source paused until you resume", error)
            saved, reason = PauseState.closed(), "store_error"
        state = (saved or PauseState()).limited_to(self.sources)
        with self._save_lock:
            self._desired = state
        with self._gate.lock:
            self._store_error = error
            self._reason = reason
        if state.paused:
            self._gate.set_paused(True)
        for source_id in sorted(state.paused_sources):
            self._gate.set_paused(True, source_id)
        if state.paused or state.paused_sources:
            self._log.info(
                "Restored the pause: global=%s, sources=%s",
                state.paused,
                sorted(state.paused_sources),
            )

    @property
    def store_error(self) -> str | None:
        """Why the pause could not be read or saved last time (None: it is on disk)."""
        return self._store_error

    @property
    def pause_state(self) -> PauseState:
        """The switch state last handed to the store (what a restart will restore)."""
        with self._save_lock:
            return self._desired

    def set_paused(
        self,
        paused: bool,
        source_id: int | None = None,
        reason: str = "command",
        on_done: Callable[[], None] | None = None,
    ) -> bool:
        """Persist, then pause or resume, then acknowledge; `on_done()` follows the ack.

        With a synchronous store (the worker's file) everything has happened when this
        returns; with an asynchronous one (Home Assistant's) `on_done` says when. Returns
        False, with nothing saved or published, when the change changes nothing (module doc);
        `on_done` then follows the save of that state still under way, if there is one.
        """
        if source_id is not None and source_id not in self.sources:
            raise UnknownSourceError(source_id)

        def saved(error: str | None) -> None:
            with self._save_lock:
                if error is None:
                    self._on_disk = state
            self._apply(paused, source_id, reason, error)
            if on_done is not None:
                on_done()
            with self._save_lock:
                self._saving -= 1
                waiting, self._waiting = (self._waiting, []) if not self._saving else ([], [])
            for waiter in waiting:
                waiter()

        with self._save_lock:
            state = self._desired.with_change(paused, source_id)
            if not self._changes_locked(state):
                if self._saving and on_done is not None:
                    self._waiting.append(on_done)
                elif on_done is not None:
                    on_done()
                return False
            self._desired = state
            self._saving += 1
            self._store.save(state, saved)
        return True

    def _changes_locked(self, state: PauseState) -> bool:
        """Whether asking for `state` is a change: to the switches, or to what is on disk.

        After a start what is on disk is unknown (it may have come from the broker's retained
        status), so the first request writes it once; a save that failed is retried.
        """
        if state != self._desired:
            return True
        return not self._saving and self._on_disk != state

    def add_pause_hook(self, hook: PauseHook) -> Callable[[], None]:
        """Run `hook(newly_paused)` inside the fence before each acknowledgement; unsub."""
        self._pause_hooks.append(hook)
        return lambda: self._pause_hooks.remove(hook)

    def _apply(self, paused: bool, source_id: int | None, reason: str, error: str | None) -> None:
        if error is not None:
            self._store_log.warning("%s; the pause is applied but a restart may not keep it", error)

        def acknowledge(before: GateSnapshot, after: GateSnapshot) -> None:
            if self._closing:  # after the final `stopped`: saved, but nothing more is said
                return
            if error is not None:
                self._store_error = error
            elif self._store_error is not None:
                self._log.info("The pause state is saved again")
                self._store_error = None
            self._changed = utc_now()
            self._reason = reason
            newly_paused = frozenset(
                sid for sid in after.sources if after.effective(sid) and not before.effective(sid)
            )
            if newly_paused:
                for hook in list(self._pause_hooks):
                    hook(newly_paused)
            self._publish_status_locked()

        self._gate.set_paused(paused, source_id, then=acknowledge)
        for after in list(self._after_change):
            after()  # outside the fence: what the hooks did, told to the host
        target = "every source" if source_id is None else self.sources[source_id].display_name
        self._log.info("%s %s (%s)", "Paused" if paused else "Resumed", target, reason)
        self._on_change(source_id)

    # -- commands ------------------------------------------------------------------------------

    def handle_command(self, payload: bytes | str, *, retained: bool) -> Command | None:
        """Validate one message from the command topic and act on it; return what was done."""
        result = accept_command(payload, retained=retained, source_ids=self.sources)
        if result is None:
            self._log.debug("Ignored an empty message on the command topic")
            return None
        if isinstance(result, CommandError):
            self._reject(result)
            return None
        if result.name is CommandName.STATUS:
            if not self._budget.allows(pause=False):
                self._reject(CommandError(TOO_MANY, result.name.value))
                return None
            self.publish_status()
            return result
        paused = result.name is CommandName.PAUSE
        with self._save_lock:
            costs = self._changes_locked(self._desired.with_change(paused, result.source_id))
        if costs and not self._budget.allows(pause=paused):
            self._reject(CommandError(TOO_MANY, result.name.value))
            return None
        self.set_paused(paused, result.source_id, "command")
        return result

    def _reject(self, error: CommandError) -> None:
        """Log (rate-limited) and answer (within the error budget) a refused command."""
        self.last_error = error.as_dict()
        self._command_log.warning(
            "Ignored a command on %s: %s",
            control_topic(self.base_topic, "commands"),
            error.message,
        )
        reply = self._budget.reply(error.as_dict())
        if reply is None:
            return
        with self._gate.lock:
            if self._closing:
                return
            self._publish_locked(control_topic(self.base_topic, "error"), status_json(reply), qos=0)

    # -- sources -------------------------------------------------------------------------------

    def source_changed(self, status: SourceStatus) -> None:
        """Record a source's new state: log it once, republish the status when it shows."""
        sid = status.source_id
        with self._gate.lock:
            previous = self._statuses.get(sid)
            self._statuses[sid] = status
            if previous is None or (previous.state, previous.error, previous.stream_paused) != (
                status.state,
                status.error,
                status.stream_paused,
            ):
                self._publish_status_locked()
        self._log_availability(previous, status)
        self._on_change(sid)

    def status_of(self, source_id: int) -> SourceStatus | None:
        """Return a source's latest state (None before its first)."""
        return self._statuses.get(source_id)

    def _log_availability(self, previous: SourceStatus | None, status: SourceStatus) -> None:
        """Log-when-unavailable: once when a source goes down, once when it is back."""
        name = self.sources[status.source_id].display_name
        was_up = previous is not None and previous.available
        failed = status.state is SourceState.ERROR
        if failed and (previous is None or previous.state is not SourceState.ERROR):
            self._log.error("%s failed: %s", name, status.error or "error")
        elif was_up and not status.available and status.state is not SourceState.STOPPED:
            self._log.warning("%s is unavailable: %s", name, status.error or status.state.value)
        elif status.available and not was_up:
            back = status.source_id in self._ever_up
            self._ever_up.add(status.source_id)
            self._log.info("%s is %s", name, "available again" if back else "running")

    # -- other hosts, and the end -----------------------------------------------------------------

    def took_over(self, stale_host: str) -> None:
        """Say that the start check took the base topic over from `stale_host` (it was silent).

        Its retained `online` may still reach our subscription before our own replaces it: a
        copy of what was already judged, not another host (a live message from it still is).
        """
        self._taken_from = stale_host

    def observe_availability(self, payload: bytes | str, *, retained: bool = False) -> None:
        """Watch our availability topic: another live host there is logged (and kept)."""
        seen = parse_availability(payload) if payload else None
        if seen is None or seen.host is None or seen.host == self.host.id or not seen.online:
            return
        if retained and seen.host == self._taken_from:
            return
        self.foreign = seen
        self._foreign_log.warning(
            "Another host (%s) publishes on the MQTT base topic '%s': the two obey each "
            "other's commands; give one of them its own base topic",
            seen.host,
            self.base_topic,
        )
        self._on_change(None)

    def close(self) -> list[object]:
        """Stop for good: refuse every frame, publish the final `stopped` status and `offline`.

        Stopping pauses whatever still ran, so the pause hooks run first (inside the fence,
        before the final status): open events end, held detections are cleared. Returns the
        transport's handles of the status and `offline` (the worker waits for them).
        """
        with self._gate.lock:
            before = self._gate.current()
            running = frozenset(sid for sid in self.sources if not before.effective(sid))
            self._gate.close_locked()
            if running:  # stopping pauses everything: nothing is left as current
                for hook in list(self._pause_hooks):
                    hook(running)
            return self._sign_off_locked()
