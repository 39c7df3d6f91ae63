"""The pause of one config entry, in a file of Home Assistant's storage folder.

Why a store of its own: the pause switches used to be remembered through Home Assistant's
restore cache, which saves whatever the entity showed last; during a broker outage that was
`unavailable`, and the pause was lost at the next restart. The store is written before each
pause is acknowledged (see `engine/contract/control.py`) and read before any pipeline starts.

Why not Home Assistant's `Store`: it logs a failed write and returns, so a pause saved on a
full disk or a read-only configuration was acknowledged as saved; and it does not sync what it
writes, so a power cut could take a saved pause with it. The file is written here instead, in
the executor, atomically (a temporary file, fsync, rename, fsync of the folder), and a failure
reaches the control plane, which reports `store_error` while the pause still applies (a repair
issue says why). The file keeps `Store`'s envelope (`version`, `minor_version`, `key`, `data`)
at `.storage/nvr_inference.<entry_id>`, so the files of earlier releases read as they are.
Reading goes around `Store` too: its cache remembers which files existed at startup, and would
call a file written here since then missing.

Reading fails closed: a file that exists but cannot be read, is not JSON, or holds no saved
pause is an error: the entry starts with every source paused and a repair issue says why.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
import json
from pathlib import Path

from homeassistant.const import Platform
from homeassistant.core import HomeAssistant
from homeassistant.helpers import entity_registry as er
from homeassistant.helpers.restore_state import async_get as async_get_restore_state
from homeassistant.helpers.storage import STORAGE_DIR

from .const import DOMAIN
from .engine.fence.pause_store import Done, PauseState, PauseStoreError, write_atomic

STORAGE_VERSION = 1
STORAGE_MINOR_VERSION = 1


class HassPauseStore:
    """One entry's pause on disk (`.storage/nvr_inference.<entry_id>`)."""

    def __init__(self, hass: HomeAssistant, entry_id: str) -> None:
        """Bind to the entry's file."""
        self._hass = hass
        self.key = f"{DOMAIN}.{entry_id}"
        self.path = Path(hass.config.path(STORAGE_DIR, self.key))
        self._write_lock = asyncio.Lock()  # FIFO: saves reach the disk in the order asked

    async def async_load(self) -> tuple[PauseState | None, str | None]:
        """Return (saved pause, None), (None, None) when never saved, or (None, the error)."""
        try:
            return await self._hass.async_add_executor_job(self._load), None
        except PauseStoreError as err:
            return None, f"The saved pause ({self.path}) {err}"

    def _load(self) -> PauseState | None:
        try:
            text = self.path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return None
        except (OSError, UnicodeDecodeError) as err:
            reason = getattr(err, "strerror", None) or type(err).__name__
            raise PauseStoreError(f"cannot be read: {reason}") from None
        try:
            envelope = json.loads(text)
        except ValueError:
            raise PauseStoreError("is corrupt: not valid JSON") from None
        if not isinstance(envelope, dict) or envelope.get("version") != STORAGE_VERSION:
            raise PauseStoreError("is damaged: not a storage file of a known version")
        try:
            return PauseState.from_dict(envelope.get("data"))
        except PauseStoreError as err:
            raise PauseStoreError(f"is damaged: {err}") from None

    def save(self, state: PauseState, done: Done) -> None:
        """Write `state`, then call `done(error)` on the loop (saves finish in order)."""

        async def _save() -> None:
            try:
                await self.async_save(state)
            except OSError as err:
                done(f"Cannot save the pause ({self.path}): {err.strerror or err}")
                return
            done(None)

        self._hass.async_create_task(_save(), "nvr_inference save pause", eager_start=True)

    async def async_save(self, state: PauseState) -> None:
        """Write `state` now, synced to disk; raise OSError when the disk refuses."""
        envelope = {
            "version": STORAGE_VERSION,
            "minor_version": STORAGE_MINOR_VERSION,
            "key": self.key,
            "data": state.as_dict(),
        }
        data = json.dumps(envelope, indent=2).encode()
        async with self._write_lock:
            await self._hass.async_add_executor_job(write_atomic, self.path, data)

    async def async_remove(self) -> None:
        """Delete the file (the entry is removed)."""
        await self._hass.async_add_executor_job(lambda: self.path.unlink(missing_ok=True))


def pause_from_restore_cache(
    hass: HomeAssistant, unique_prefix: str, source_ids: Iterable[int]
) -> PauseState | None:
    """Read the pause switches an older release left in Home Assistant's restore cache.

    The migration from before the store: an entry with no saved pause yet takes the switches'
    last states once (the caller saves it), so an upgrade keeps a camera paused. None when no
    switch was on, or none is known.
    """
    registry = er.async_get(hass)
    saved = async_get_restore_state(hass).last_states
    state = PauseState()
    found = False
    targets: list[tuple[str, int | None]] = [(f"{unique_prefix}_pause", None)]
    targets += [(f"{unique_prefix}_{sid}_pause", sid) for sid in source_ids]
    for unique_id, source_id in targets:
        entity_id = registry.async_get_entity_id(Platform.SWITCH, DOMAIN, unique_id)
        stored = saved.get(entity_id) if entity_id else None
        if stored is not None and stored.state.state == "on":
            state = state.with_change(True, source_id)
            found = True
    return state if found else None
