"""The pause gate: where "paused" is decided, and the fence that makes it hold.

Why this exists: the prototype set a flag in its sink and still published for seconds after a
pause, because InferencePipeline keeps delivering frames it had already decoded (up to 64) and
predictions it had already queued (up to 512) after `pause_stream()`. No memory-visibility
trick fixes that: the check has to stand where the publish happens, and be ordered against
the pause. This module holds both halves:

* the *state*: one `threading.Event` for the global switch and one per source (set = open),
  as the user asked; `is_set()` is a plain attribute read, so the early-drop check that the
  pipeline threads make costs tens of nanoseconds;
* the *fence*: `publish_if_open()` checks the state and publishes while holding the same lock
  that `pause()` takes. Once `pause()` has returned, no publish that started before it is
  still running and none that starts after it can pass. That is the acknowledgement point.

It also refuses *stale* frames after a resume: a frame captured before the resume (still
sitting in a decode buffer or the predictions queue) is never published after it. The
pipeline tells the gate the id of each frame it captures (`note_captured`, a dict store);
`resume()` remembers the last id captured per source and `admits()` requires a later one.
Frame ids from InferencePipeline grow monotonically per source, across reconnects too; a
pipeline rebuilt for a camera that was down at start numbers afresh, and says so (`renumber`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
import threading


class UnknownSourceError(KeyError):
    """A command named a source id that this gate does not hold."""

    def __init__(self, source_id: int) -> None:
        """Keep the offending id for the error message."""
        super().__init__(source_id)
        self.source_id = source_id

    def __str__(self) -> str:
        """Say which id was unknown (KeyError would print only the repr)."""
        return f"unknown source_id {self.source_id}"


@dataclass(frozen=True, slots=True)
class GateSnapshot:
    """A consistent view of the gate, taken under its lock (for status messages)."""

    paused: bool
    sources: dict[int, bool]  # source_id -> paused by its own switch

    def effective(self, source_id: int) -> bool:
        """Return True when frames of this source are held back (global or own pause)."""
        return self.paused or self.sources[source_id]


class PauseGate:
    """Global and per-source pause state, with the publish fence.

    Thread-safety: every method may be called from any thread. `pause`, `resume`,
    `publish_if_open` and `snapshot` serialise on one lock; `is_open` and `note_captured`
    take no lock (they are the per-frame fast path and are only ever advisory).
    """

    __slots__ = (
        "_captured",
        "_closed",
        "_epochs",
        "_grabbing",
        "_listeners",
        "_lock",
        "_resume_after",
        "_running",
        "_sources",
    )

    def __init__(self, source_ids: Iterable[int]) -> None:
        """Create an open gate for the given sources."""
        self._lock = threading.Lock()
        self._closed = False  # closed for good: the host is stopping
        self._running = threading.Event()
        self._running.set()
        self._sources: dict[int, threading.Event] = {}
        self._captured: dict[int, int] = {}
        self._grabbing: dict[int, bool] = {}  # per source: a grab began, its frame not noted
        self._resume_after: dict[int, int] = {}
        self._epochs: dict[int, int] = {}  # per source: how many times it was reopened
        self._listeners: list[Callable[[GateSnapshot], None]] = []
        for source_id in source_ids:
            self.add_source(source_id)

    # -- configuration ------------------------------------------------------------------------

    def add_source(self, source_id: int, *, paused: bool = False) -> None:
        """Register a source (open unless `paused`)."""
        with self._lock:
            event = threading.Event()
            if not paused:
                event.set()
            self._sources[source_id] = event
            self._captured.setdefault(source_id, -1)
            self._resume_after.setdefault(source_id, -1)
            self._epochs.setdefault(source_id, 0)

    def remove_source(self, source_id: int) -> None:
        """Forget a source; its frames are refused from now on."""
        with self._lock:
            self._sources.pop(source_id, None)

    @property
    def source_ids(self) -> list[int]:
        """The registered source ids, in registration order."""
        return list(self._sources)

    def add_listener(self, listener: Callable[[GateSnapshot], None]) -> Callable[[], None]:
        """Call `listener(snapshot)` after every change, still under the lock; return an unsub.

        Listeners run inside the fence, so whatever they do (publish the retained status,
        update an entity) happens before any publish that could follow the change. Keep
        them short and never call back into the gate from one.
        """
        self._listeners.append(listener)
        return lambda: self._listeners.remove(listener)

    # -- the fast path --------------------------------------------------------------------------

    def is_open(self, source_id: int) -> bool:
        """Early-drop check for pipeline threads: no lock, a few attribute reads.

        Advisory only: a True here can be stale by the time the frame reaches the publisher,
        which is why the publisher goes through `publish_if_open`.
        """
        source = self._sources.get(source_id)
        return (
            source is not None and self._running.is_set() and source.is_set() and not self._closed
        )

    def epoch(self, source_id: int) -> int:
        """How many times this source was reopened (or renumbered): a new epoch each time.

        A bare read, for status and tests; a frame's epoch comes from `admitted_epoch`.
        """
        return self._epochs.get(source_id, 0)

    def admitted_epoch(self, source_id: int, frame_id: int) -> int | None:
        """Return the epoch this frame belongs to, or None when it is refused now. Takes the lock.

        Admission and epoch read in one hold: apart, a resume could fall between them, and the
        first frame after it would reach the tracker of the epoch before the pause.
        """
        with self._lock:
            return self._epochs.get(source_id, 0) if self.admits(source_id, frame_id) else None

    def note_grabbing(self, source_id: int) -> None:
        """Record that a `grab()` of `source_id` starts now (decoding thread, no lock)."""
        self._grabbing[source_id] = True

    def note_captured(self, source_id: int, frame_id: int) -> None:
        """Record that the pipeline captured `frame_id` of `source_id` (decoding thread)."""
        self._captured[source_id] = frame_id
        self._grabbing[source_id] = False  # after the id: `_open` reads them the other way

    def renumber(self, source_id: int) -> None:
        """Start the source's frame numbers over: its pipeline was rebuilt (a new epoch).

        Call it once none of the old pipeline's frames is anywhere (that pipeline joined) and
        before the new one captures: every frame from then on was captured after any resume
        so far, so the last captured id and the resume mark start over with the numbers. A
        new epoch too, so what followed objects (tracker ids, events) starts afresh, and no
        gap in the numbers across the rebuild is taken for dropped frames.
        """
        with self._lock:
            self._captured[source_id] = -1
            self._grabbing[source_id] = False
            self._resume_after[source_id] = -1
            self._epochs[source_id] = self._epochs.get(source_id, 0) + 1

    def admits(self, source_id: int, frame_id: int) -> bool:
        """Return True when this frame may be published now (call under `fenced()`)."""
        source = self._sources.get(source_id)
        return (
            source is not None
            and self._running.is_set()
            and source.is_set()
            and frame_id > self._resume_after[source_id]
            and not self._closed
        )

    def publish_if_open(self, source_id: int, frame_id: int, publish: Callable[[], object]) -> bool:
        """Publish through `publish()` only if the gate admits the frame, inside the fence.

        Returns whether it published. `publish()` runs with the lock held: a pause arriving
        meanwhile waits for it to finish, so nothing is published after `pause()` returns.
        """
        with self._lock:
            if not self.admits(source_id, frame_id):
                return False
            publish()
            return True

    @property
    def lock(self) -> threading.Lock:
        """The fence lock, for a publisher that must check several frames under one hold."""
        return self._lock

    # -- control --------------------------------------------------------------------------------

    def pause(self, source_id: int | None = None) -> GateSnapshot:
        """Close the gate globally (`None`) or for one source; the fence holds on return."""
        return self.set_paused(True, source_id)

    def resume(self, source_id: int | None = None) -> GateSnapshot:
        """Open the gate; frames captured before this call stay refused."""
        return self.set_paused(False, source_id)

    def set_paused(
        self,
        paused: bool,
        source_id: int | None = None,
        *,
        then: Callable[[GateSnapshot, GateSnapshot], object] | None = None,
    ) -> GateSnapshot:
        """Pause or resume; `then(before, after)` runs inside the fence, after the listeners.

        `then` is where a host acknowledges the change: whatever it hands to MQTT there
        follows every detection published before the change and precedes every one after it.
        """
        with self._lock:
            before = self._snapshot() if then is not None else None
            if paused:
                self._event(source_id).clear()
            else:
                self._open(source_id)
            snap = self._changed()
            if then is not None and before is not None:
                then(before, snap)
            return snap

    def snapshot(self) -> GateSnapshot:
        """Return the current state, consistent across sources."""
        with self._lock:
            return self._snapshot()

    def current(self) -> GateSnapshot:
        """Return the current state; only for code already holding `lock` (inside the fence)."""
        return self._snapshot()

    def close(self) -> None:
        """Refuse every frame from now on, for good: the host is stopping. Takes the lock."""
        with self._lock:
            self._closed = True

    def close_locked(self) -> None:
        """`close()` for code already holding `lock`."""
        self._closed = True

    # -- internals ------------------------------------------------------------------------------

    def _open(self, source_id: int | None) -> None:
        event = self._event(source_id)  # raises for an unknown source before anything changes
        affected = self._sources if source_id is None else (source_id,)
        closed = {sid for sid in affected if not self._open_now(sid)}
        for sid in affected:
            # The flag first, then the id (note_captured writes them the other way round): a
            # grab under way, or one that returned but is not noted yet, is refused as well.
            grabbing = self._grabbing.get(sid, False)
            self._resume_after[sid] = self._captured[sid] + (1 if grabbing else 0)
        event.set()
        for sid in closed:
            if self._open_now(sid):
                self._epochs[sid] += 1  # reopened: whatever followed objects starts afresh

    def _open_now(self, source_id: int) -> bool:
        return self._running.is_set() and self._sources[source_id].is_set()

    def _event(self, source_id: int | None) -> threading.Event:
        if source_id is None:
            return self._running
        try:
            return self._sources[source_id]
        except KeyError:
            raise UnknownSourceError(source_id) from None

    def _snapshot(self) -> GateSnapshot:
        return GateSnapshot(
            paused=not self._running.is_set(),
            sources={sid: not ev.is_set() for sid, ev in self._sources.items()},
        )

    def _changed(self) -> GateSnapshot:
        snap = self._snapshot()
        for listener in list(self._listeners):
            listener(snap)
        return snap
