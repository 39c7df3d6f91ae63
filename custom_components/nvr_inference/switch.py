"""Pause switches: global and per source. On = paused. Two doors to the same gate as MQTT."""

from __future__ import annotations

from typing import Any

from homeassistant.components.switch import SwitchEntity
from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from .data import NvrConfigEntry
from .entity import NvrEntity

PARALLEL_UPDATES = 0


async def async_setup_entry(
    hass: HomeAssistant,
    entry: NvrConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Add the global pause switch and one per source."""
    controller = entry.runtime_data.controller
    entities: list[PauseSwitch] = [PauseSwitch(controller=controller, key="pause")]
    entities += [
        PauseSwitch(controller=controller, key="pause", source_id=sid) for sid in controller.sources
    ]
    async_add_entities(entities)


class PauseSwitch(NvrEntity, SwitchEntity):
    """Pause detection publishing (global, or one source's own pause).

    The state is the gate's, read on every write. The controller keeps it in a store of its
    own and closes the gate from it before the pipeline starts, so no restore cache is needed.
    """

    def __init__(self, **kwargs: Any) -> None:
        """Name from translations: `pause` on the hub, `source_pause` on a source."""
        super().__init__(**kwargs)
        self._attr_translation_key = "pause" if self.source_id is None else "source_pause"

    @property
    def available(self) -> bool:
        """Always: a pause is local state, settable while a source or the broker is down.

        It takes effect at once and is saved; the acknowledgement goes out when the broker
        is back.
        """
        return True

    @property
    def is_on(self) -> bool:
        """Return True when this switch's pause is set in the gate."""
        snap = self.controller.gate.snapshot()
        return snap.paused if self.source_id is None else snap.sources[self.source_id]

    async def async_turn_on(self, **kwargs: Any) -> None:
        """Pause: when this returns it is saved and nothing more is published."""
        await self.controller.async_set_paused(True, self.source_id, "switch")

    async def async_turn_off(self, **kwargs: Any) -> None:
        """Resume (saved first): frames captured before now are never published."""
        await self.controller.async_set_paused(False, self.source_id, "switch")
