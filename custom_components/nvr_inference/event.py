"""Event entities: one per source, fired for each of its tracked objects' events.

Its event types say what happened to what: `<class>_<kind>` for each of the detector's classes
(`person_new`, `person_update`, `person_end`, ...; `object_...` when a model's classes are not
known), translated for the Activity list ("Person seen", "Person gone"). Its attributes are
the event itself: `type` (new, update, end), `label` (the class), `entered` and `left` (zones,
in this event), `current_zones`, `entered_zones`, scores, box, times, and the event id.
Automations trigger on its state and read `trigger.to_state.attributes`.
"""

from __future__ import annotations

from homeassistant.components.event import EventEntity
from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from .controller import NvrController
from .data import NvrConfigEntry
from .engine.objects.event_records import EventRecord
from .entity import NvrEntity

PARALLEL_UPDATES = 0


async def async_setup_entry(
    hass: HomeAssistant,
    entry: NvrConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Add one event entity per source (with tracking on)."""
    controller = entry.runtime_data.controller
    if controller.events is None:
        return
    async_add_entities(
        ObjectEvents(controller=controller, source_id=sid) for sid in controller.sources
    )


class ObjectEvents(NvrEntity, EventEntity):
    """A source's tracked-object events: new, update and end, by class."""

    # "Object events", not "Objects": the worker's discovered object count is "Objects".
    # The key (unique id) stays: an existing install keeps its entity id (event.<cam>_objects).
    _attr_translation_key = "object_events"

    def __init__(self, *, controller: NvrController, source_id: int) -> None:
        """Bind to a source; its event types are the event engine's (`<class>_<kind>`)."""
        super().__init__(controller=controller, key="objects", source_id=source_id)
        assert controller.events is not None
        self._attr_event_types = list(controller.events.event_types)

    async def async_added_to_hass(self) -> None:
        """Follow the source's events."""
        await super().async_added_to_hass()
        assert self.source_id is not None
        self.async_on_remove(
            self.controller.async_add_event_listener(self.source_id, self._async_event)
        )

    @callback
    def _async_event(self, record: EventRecord) -> None:
        self._trigger_event(record.event_type, record.attributes)
        self.async_write_ha_state()
