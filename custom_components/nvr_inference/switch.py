"""Pause switches: global and per source. On = paused. Two doors to the same gate as MQTT."""

from __future__ import annotations

from typing import Any

from homeassistant.components import mqtt
from homeassistant.components.switch import SwitchEntity
from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback
from homeassistant.helpers.restore_state import RestoreEntity

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


class PauseSwitch(NvrEntity, SwitchEntity, RestoreEntity):
    """Pause detection publishing (global, or one source's own pause).

    The state is the gate's, read on every write; RestoreEntity makes Home Assistant save it,
    and the controller closes the gate from the saved state before the pipeline starts.
    """

    def __init__(self, **kwargs: Any) -> None:
        """Name from translations: `pause` on the hub, `source_pause` on a source."""
        super().__init__(**kwargs)
        self._attr_translation_key = "pause" if self.source_id is None else "source_pause"

    @property
    def available(self) -> bool:
        """A pause can be set while a source is down: only the broker matters."""
        return mqtt.is_connected(self.hass)

    @property
    def is_on(self) -> bool:
        """Return True when this switch's pause is set in the gate."""
        snap = self.controller.gate.snapshot()
        return snap.paused if self.source_id is None else snap.sources[self.source_id]

    async def async_turn_on(self, **kwargs: Any) -> None:
        """Pause: when this returns nothing more is published."""
        self.controller.async_set_paused(True, self.source_id, "switch")

    async def async_turn_off(self, **kwargs: Any) -> None:
        """Resume."""
        self.controller.async_set_paused(False, self.source_id, "switch")
