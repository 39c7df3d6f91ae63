"""The pause of one config entry, kept in a Home Assistant `Store` (the engine's `PauseStore`).

Why a store of its own: the pause switches used to be remembered through Home Assistant's
restore cache, which saves whatever the entity showed last; during a broker outage that was
`unavailable`, and the pause was lost at the next restart. The store is written before each
pause is acknowledged (see `engine/contract/control.py`) and read before any pipeline starts.

Reading fails closed. Home Assistant's `Store` sets a corrupt JSON file aside and returns
nothing, which would read as "never paused"; so the file's existence is checked first, and an
existing file that yields nothing, or data that is not a saved pause, is an error: the entry
starts with every source paused and a repair issue says why.
"""

from __future__ import annotations

from collections.abc import Iterable
import os
from typing import Any

from homeassistant.const import Platform
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import HomeAssistantError
from homeassistant.helpers import entity_registry as er
from homeassistant.helpers.restore_state import async_get as async_get_restore_state
from homeassistant.helpers.storage import Store

from .const import DOMAIN
from .engine.fence.pause_store import Done, PauseState, PauseStoreError

STORAGE_VERSION = 1


class HassPauseStore:
    """One entry's pause on disk (`.storage/nvr_inference.<entry_id>`)."""

    def __init__(self, hass: HomeAssistant, entry_id: str) -> None:
        """Bind to the entry's store."""
        self._hass = hass
        self._store: Store[dict[str, Any]] = Store(hass, STORAGE_VERSION, f"{DOMAIN}.{entry_id}")

    @property
    def path(self) -> str:
        """The file on disk."""
        return str(self._store.path)

    async def async_load(self) -> tuple[PauseState | None, str | None]:
        """Return (saved pause, None), (None, None) when never saved, or (None, the error)."""
        existed = await self._hass.async_add_executor_job(os.path.exists, self.path)
        try:
            data = await self._store.async_load()
        except (HomeAssistantError, OSError) as err:
            return None, f"Cannot read the saved pause ({self.path}): {err}"
        if data is None:
            if existed:
                return None, f"The saved pause ({self.path}) is corrupt and was set aside"
            return None, None
        try:
            return PauseState.from_dict(data), None
        except PauseStoreError as err:
            return None, f"The saved pause ({self.path}) is damaged: {err}"

    def save(self, state: PauseState, done: Done) -> None:
        """Write `state`, then call `done(error)` on the loop (saves finish in order)."""

        async def _save() -> None:
            try:
                await self.async_save(state)
            except (HomeAssistantError, OSError) as err:
                done(f"Cannot save the pause ({self.path}): {err}")
                return
            done(None)

        self._hass.async_create_task(_save(), "nvr_inference save pause", eager_start=True)

    async def async_save(self, state: PauseState) -> None:
        """Write `state` now."""
        await self._store.async_save(state.as_dict())

    async def async_remove(self) -> None:
        """Delete the file (the entry is removed)."""
        await self._store.async_remove()


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
