"""Zone occupancy: per source, zone and class, on while a tracked object of it stands there.

Counted from the source's open events (an object is counted once it is an event, so a
one-frame flicker turns nothing on), and zeroed when the source pauses: never stuck on.
"""

from __future__ import annotations

from homeassistant.components.binary_sensor import BinarySensorDeviceClass, BinarySensorEntity
from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from .data import NvrConfigEntry
from .entity import NvrZoneEntity

PARALLEL_UPDATES = 0


async def async_setup_entry(
    hass: HomeAssistant,
    entry: NvrConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Add an occupancy sensor per zone and counted class of every source."""
    controller = entry.runtime_data.controller
    if controller.events is None:
        return
    async_add_entities(
        ZoneOccupancy(controller=controller, source_id=sid, zone=zone, object_class=cls)
        for sid, zones in controller.zones.items()
        for zone, classes in controller.events.zone_counts(sid).items()
        for cls in classes
    )


class ZoneOccupancy(NvrZoneEntity, BinarySensorEntity):
    """On while at least one object of the class is in the zone."""

    _attr_device_class = BinarySensorDeviceClass.OCCUPANCY

    kind = "occupancy"

    @property
    def is_on(self) -> bool:
        """Return True while the zone holds an object of the class."""
        return self.count() > 0
