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

import os
from typing import Any

from homeassistant.core import HomeAssistant
from homeassistant.exceptions import HomeAssistantError
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
