"""The pause, kept on disk: what is saved, how it is read back, and the worker's state file.

The promise "a paused camera stays paused across restarts" cannot rest on a cache that saves
whatever an entity showed last (Home Assistant's restore cache saved `unavailable` during a
broker outage) or on the broker keeping a retained message (mosquitto's persistence is off by
default). So the pause is written to a store of its own, *before* it is acknowledged, and read
back before any pipeline starts. Reading fails closed: a store that exists but cannot be read
starts everything paused, with an error a person sees; it never starts open.

Hosts bring the storage: the integration a Home Assistant `Store` per entry, the worker a JSON
file (`FilePauseStore`, an atomic replace with fsync). Both speak `PauseStore`: `save(state,
done)` persists and then calls `done(error)`, so a synchronous file and an asynchronous store
fit one control plane (see `control.py`). Saves complete in the order they were asked for.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable, Mapping
from dataclasses import dataclass, field
import json
import os
from pathlib import Path
import tempfile
from typing import Any, Protocol

FORMAT_VERSION = 1


class PauseStoreError(Exception):
    """The saved pause exists but cannot be read or written; the message says why."""


@dataclass(frozen=True, slots=True)
class PauseState:
    """The pause switches: the global one, and the sources paused by their own switch."""

    paused: bool = False
    paused_sources: frozenset[int] = field(default_factory=frozenset)

    @classmethod
    def closed(cls) -> PauseState:
        """Everything paused: where a host starts when it cannot read its saved pause."""
        return cls(paused=True)

    def with_change(self, paused: bool, source_id: int | None) -> PauseState:
        """Return the state after one switch changed."""
        if source_id is None:
            return PauseState(paused, self.paused_sources)
        sources = set(self.paused_sources)
        if paused:
            sources.add(source_id)
        else:
            sources.discard(source_id)
        return PauseState(self.paused, frozenset(sources))

    def limited_to(self, source_ids: Collection[int]) -> PauseState:
        """Forget sources that are not configured any more."""
        return PauseState(self.paused, frozenset(s for s in self.paused_sources if s in source_ids))

    def as_dict(self) -> dict[str, Any]:
        """Return what is written to disk."""
        return {
            "format": FORMAT_VERSION,
            "paused": self.paused,
            "paused_sources": sorted(self.paused_sources),
        }

    @classmethod
    def from_dict(cls, data: Any) -> PauseState:
        """Read what `as_dict` wrote; anything else raises `PauseStoreError`."""
        if not isinstance(data, dict):
            raise PauseStoreError("the saved pause is not a JSON object")
        if data.get("format") != FORMAT_VERSION:
            raise PauseStoreError(f"the saved pause has an unknown format: {data.get('format')!r}")
        paused = data.get("paused")
        sources = data.get("paused_sources")
        if not isinstance(paused, bool):
            raise PauseStoreError("the saved pause has no true/false 'paused'")
        if not isinstance(sources, list) or not all(
            isinstance(s, int) and not isinstance(s, bool) and s >= 0 for s in sources
        ):
            raise PauseStoreError("the saved pause has no list of source ids in 'paused_sources'")
        return cls(paused, frozenset(sources))

    @classmethod
    def from_status(cls, status: Mapping[str, Any], source_ids: Iterable[int]) -> PauseState:
        """Read the pause from a retained status message (the worker's fallback memory)."""
        known = set(source_ids)
        sources = status.get("sources")
        paused_sources = frozenset(
            int(sid)
            for sid, source in (sources.items() if isinstance(sources, dict) else ())
            if isinstance(source, dict)
            and source.get("paused_by_source") is True
            and str(sid).isdigit()
            and int(sid) in known
        )
        return cls(status.get("paused") is True, paused_sources)


Done = Callable[[str | None], None]
"""Called once the state is on disk (`None`), or with why it could not be saved."""


class PauseStore(Protocol):
    """Where a host keeps its pause."""

    def save(self, state: PauseState, done: Done) -> None:
        """Persist `state`, then call `done`; saves complete in the order they were asked for."""


class FilePauseStore:
    """The worker's pause in a JSON file, replaced atomically and synced to disk.

    `save` runs synchronously on the caller's thread (a few milliseconds with fsync), so its
    `done` runs before `save` returns.
    """

    def __init__(self, path: Path) -> None:
        """Keep the state in `path` (its folder is created on the first save)."""
        self.path = path

    def load(self) -> PauseState | None:
        """Return the saved pause, None when there is no file; raise when it is unreadable."""
        try:
            text = self.path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return None
        except (OSError, UnicodeDecodeError) as err:
            reason = getattr(err, "strerror", None) or type(err).__name__
            raise PauseStoreError(f"cannot read the state file {self.path}: {reason}") from None
        try:
            data = json.loads(text)
        except ValueError:
            raise PauseStoreError(f"the state file {self.path} is not valid JSON") from None
        try:
            return PauseState.from_dict(data)
        except PauseStoreError as err:
            raise PauseStoreError(f"the state file {self.path}: {err}") from None

    def save(self, state: PauseState, done: Done) -> None:
        """Write `state` atomically (temp file, fsync, rename, fsync the folder), then `done`."""
        try:
            self.write(state)
        except OSError as err:
            done(f"cannot write the state file {self.path}: {err.strerror or err}")
            return
        done(None)

    def write(self, state: PauseState) -> None:
        """Write `state` atomically; raise OSError when the disk refuses."""
        write_atomic(self.path, json.dumps(state.as_dict(), separators=(",", ":")).encode())


def write_atomic(path: Path, data: bytes) -> None:
    """Replace `path` with `data` all or nothing, synced to disk; raise OSError when refused.

    The rename is what makes it atomic (a reader sees the old file or the new one); the two
    fsyncs are what make it last: the data before the rename, the folder's entry after it.
    """
    folder = path.parent
    folder.mkdir(parents=True, exist_ok=True)
    fd, temp = tempfile.mkstemp(prefix=f".{path.name}.", dir=folder)
    try:
        with os.fdopen(fd, "wb") as file:
            file.write(data)
            file.flush()
            os.fsync(file.fileno())
        os.replace(temp, path)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise
    directory = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(directory)
    finally:
        os.close(directory)
