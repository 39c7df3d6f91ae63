"""The base entity: one device per entry, one sub-device per source.

An entity writes its state only when what it shows changed. Each detection message tells its
source's entities; most of them (the state, the switches, the counts) are unchanged by it, and
a write costs the event loop even when Home Assistant's state machine then drops it. Values
that change on nearly every frame (the processing rate, the latency, the message count) are
`refresh_only`: a message does not write them at all, the periodic refresh does (every
`STATUS_INTERVAL`, 10 s), so the recorder keeps one row per refresh instead of one per frame.
"""

from __future__ import annotations

from typing import Any

from homeassistant.components import mqtt
from homeassistant.core import callback
from homeassistant.helpers import area_registry as ar
from homeassistant.helpers.device_registry import DeviceInfo
from homeassistant.helpers.entity import Entity

from .const import DOMAIN
from .controller import NvrController
from .engine.contract.topics import node_id


def source_device_identifier(entry_id: str, source_id: int) -> tuple[str, str]:
    """Return a source's device identifier (the worker YAML export looks its area up by it)."""
    return (DOMAIN, f"{entry_id}_{source_id}")


def _area_named(controller: NvrController, name: str) -> str | None:
    """Return the existing area a camera is named after ("Porch"), or None.

    Home Assistant's Overview groups devices by area, so a camera named after a room belongs
    there. Only an area that exists already is suggested: a suggested area is created when
    missing, and names like "Cam 0" or "Gate" must not turn into areas. It applies when the
    device is first created; a person's later choice of area is never overwritten.
    """
    area = ar.async_get(controller.hass).async_get_area_by_name(name)
    return area.name if area is not None else None


class NvrEntity(Entity):
    """Shared by every entity; pushed (no polling) by the controller."""

    _attr_has_entity_name = True
    _attr_should_poll = False
    refresh_only = False
    """Written on the periodic refresh (and when its availability changes), not per message."""
    _nvr_written: tuple[Any, ...] | None = None

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
                identifiers={source_device_identifier(controller.entry_id, source_id)},
                name=source.display_name,
                manufacturer="nvr_inference",
                model=source.device_model,
                via_device=hub,
            )
            if area := _area_named(controller, source.display_name):
                self._attr_device_info["suggested_area"] = area

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
        """Follow the controller's changes (Home Assistant writes the first state itself)."""
        await super().async_added_to_hass()
        self.async_on_remove(
            self.controller.async_add_listener(self._async_changed, self.source_id)
        )
        self.async_on_remove(self.controller.async_add_refresh_listener(self._async_refreshed))

    def _nvr_shown(self) -> tuple[Any, ...]:
        """Return what a write would show: availability, state and attributes."""
        if not self.available:
            return (False,)
        return (True, self.state, self.state_attributes, self.extra_state_attributes)

    @callback
    def async_write_ha_state(self) -> None:
        """Write, and remember what was written (whoever asked: a change, a switch, an event)."""
        self._nvr_written = self._nvr_shown()
        super().async_write_ha_state()

    @callback
    def _async_changed(self) -> None:
        """Something this entity may show changed: write it if what it shows did."""
        written = self._nvr_written
        if self.refresh_only and written is not None and (written[0] is True) == self.available:
            return  # its value waits for the refresh; only availability goes at once
        self._async_write_if_changed()

    @callback
    def _async_refreshed(self) -> None:
        self._async_write_if_changed()

    @callback
    def _async_write_if_changed(self) -> None:
        if self._nvr_shown() != self._nvr_written:
            self.async_write_ha_state()


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
