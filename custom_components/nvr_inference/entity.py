"""The base entity: one device per entry, one sub-device per source."""

from __future__ import annotations

from homeassistant.components import mqtt
from homeassistant.helpers.device_registry import DeviceInfo
from homeassistant.helpers.entity import Entity

from .const import DOMAIN
from .controller import NvrController
from .engine.contract.topics import node_id


class NvrEntity(Entity):
    """Shared by every entity; pushed (no polling) by the controller."""

    _attr_has_entity_name = True
    _attr_should_poll = False

    def __init__(
        self, *, controller: NvrController, key: str, source_id: int | None = None
    ) -> None:
        """Attach to the hub device, or to a source's device when `source_id` is given."""
        self.controller = controller
        self.source_id = source_id
        hub = (DOMAIN, controller.entry_id)
        if source_id is None:
            self._attr_unique_id = f"{controller.unique_prefix}_{key}"
            self._attr_device_info = controller.hub_device_info()
        else:
            source = controller.sources[source_id]
            self._attr_unique_id = f"{controller.unique_prefix}_{source_id}_{key}"
            self._attr_device_info = DeviceInfo(
                identifiers={(DOMAIN, f"{controller.entry_id}_{source_id}")},
                name=source.display_name,
                manufacturer="nvr_inference",
                model=f"{source.kind.value} source {source_id}",
                via_device=hub,
            )

    @property
    def available(self) -> bool:
        """Unavailable (not stale) when the broker is down or the source is not delivering."""
        if not mqtt.is_connected(self.hass):
            return False
        if self.source_id is None:
            return True
        status = self.controller.status_of(self.source_id)
        return status is not None and status.available

    async def async_added_to_hass(self) -> None:
        """Follow the controller's changes."""
        await super().async_added_to_hass()
        self.async_on_remove(
            self.controller.async_add_listener(self.async_write_ha_state, self.source_id)
        )


class NvrZoneEntity(NvrEntity):
    """An entity of one zone and class of a source; `kind` names what it shows."""

    kind: str

    def __init__(
        self, *, controller: NvrController, source_id: int, zone: str, object_class: str
    ) -> None:
        """Bind to a zone and class; names come from translations with both as placeholders."""
        kind = self.kind
        key = f"zone_{node_id(zone)}_{node_id(object_class)}_{kind}"
        super().__init__(controller=controller, key=key, source_id=source_id)
        self.zone, self.object_class = zone, object_class
        self._attr_translation_key = f"zone_{kind}"
        self._attr_translation_placeholders = {"zone": zone, "object": object_class}

    def count(self) -> int:
        """Return how many objects of the class stand in the zone now."""
        assert self.source_id is not None
        return self.controller.zone_count(self.source_id, self.zone, self.object_class)
