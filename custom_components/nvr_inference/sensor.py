"""Sensors: the hub's state, and per source its state, processing rate, latency and messages."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from homeassistant.components import mqtt
from homeassistant.components.sensor import (
    SensorDeviceClass,
    SensorEntity,
    SensorEntityDescription,
    SensorStateClass,
)
from homeassistant.const import EntityCategory, UnitOfTime
from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from .controller import NvrController
from .data import NvrConfigEntry
from .engine.contract.status import HUB_STATES, SOURCE_STATES
from .engine.contract.topics import node_id
from .entity import NvrEntity, NvrZoneEntity

PARALLEL_UPDATES = 0


@dataclass(frozen=True, kw_only=True)
class NvrSensorDescription(SensorEntityDescription):
    """A sensor and how to read its value from the controller."""

    value_fn: Callable[[NvrController, int | None], str | int | float | None]
    attrs_fn: Callable[[NvrController, int | None], dict[str, Any] | None] | None = None
    always_available: bool = False  # state sensors report "error"/"reconnecting" themselves
    refresh_only: bool = False  # changes on nearly every frame: written on the refresh only


def _source_attributes(controller: NvrController, source_id: int | None) -> dict[str, Any] | None:
    """Why a source is in its state: the error, and whether its stream itself is paused."""
    status = controller.status_of(source_id) if source_id is not None else None
    if status is None:
        return None
    return {
        "error": status.error,
        "stream_paused": status.stream_paused,
        "stream_note": status.stream_note,
        "since": status.since.isoformat(),
    }


HUB_SENSORS = (
    NvrSensorDescription(
        key="state",
        translation_key="state",
        device_class=SensorDeviceClass.ENUM,
        options=list(HUB_STATES),
        value_fn=lambda c, _sid: c.overall_state(),
    ),
)

SOURCE_SENSORS = (
    NvrSensorDescription(
        key="state",
        translation_key="source_state",
        device_class=SensorDeviceClass.ENUM,
        options=list(SOURCE_STATES),
        always_available=True,
        attrs_fn=_source_attributes,
        value_fn=lambda c, sid: c.source_state(sid) if sid is not None else None,
    ),
    NvrSensorDescription(
        key="fps",
        translation_key="fps",
        entity_registry_enabled_default=False,
        refresh_only=True,
        native_unit_of_measurement="fps",
        state_class=SensorStateClass.MEASUREMENT,
        suggested_display_precision=1,
        entity_category=EntityCategory.DIAGNOSTIC,
        value_fn=lambda c, sid: round(c.engine.runners[sid].stats.fps, 2)
        if sid is not None
        else None,
    ),
    NvrSensorDescription(
        key="inference_latency",
        translation_key="inference_latency",
        entity_registry_enabled_default=False,
        refresh_only=True,
        device_class=SensorDeviceClass.DURATION,
        native_unit_of_measurement=UnitOfTime.MILLISECONDS,
        state_class=SensorStateClass.MEASUREMENT,
        suggested_display_precision=1,
        entity_category=EntityCategory.DIAGNOSTIC,
        value_fn=lambda c, sid: (
            round(c.engine.runners[sid].stats.inference_ms, 2) if sid is not None else None
        ),
    ),
    NvrSensorDescription(
        key="detections",
        translation_key="detections",
        entity_registry_enabled_default=False,
        refresh_only=True,
        state_class=SensorStateClass.TOTAL_INCREASING,
        entity_category=EntityCategory.DIAGNOSTIC,
        value_fn=lambda c, sid: c.published(sid) if sid is not None else None,
    ),
)


async def async_setup_entry(
    hass: HomeAssistant,
    entry: NvrConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Add the hub's sensors and every source's."""
    controller = entry.runtime_data.controller
    entities: list[SensorEntity] = [
        NvrSensor(controller=controller, description=d) for d in HUB_SENSORS
    ]
    entities += [
        NvrSensor(controller=controller, description=d, source_id=sid)
        for sid in controller.sources
        for d in SOURCE_SENSORS
    ]
    events = controller.events
    if events is not None:
        for sid in controller.zones:
            entities += [
                ZoneCount(controller=controller, source_id=sid, zone=zone, object_class=cls)
                for zone, classes in events.zone_counts(sid).items()
                for cls in classes
            ]
            entities += [
                LineCount(controller=controller, source_id=sid, line=line, direction=direction)
                for line in events.line_counts(sid)
                for direction in ("in", "out")
            ]
    async_add_entities(entities)


class NvrSensor(NvrEntity, SensorEntity):
    """A value read from the controller whenever it announces a change."""

    entity_description: NvrSensorDescription

    def __init__(
        self,
        *,
        controller: NvrController,
        description: NvrSensorDescription,
        source_id: int | None = None,
    ) -> None:
        """Bind a description to the hub or a source."""
        super().__init__(controller=controller, key=description.key, source_id=source_id)
        self.entity_description = description
        self.refresh_only = description.refresh_only

    @property
    def available(self) -> bool:
        """State sensors stay available to say why a source is down."""
        if self.entity_description.always_available:
            return mqtt.is_connected(self.hass)
        return super().available

    @property
    def extra_state_attributes(self) -> dict[str, Any] | None:
        """Extra detail, for the state sensors."""
        attrs_fn = self.entity_description.attrs_fn
        return attrs_fn(self.controller, self.source_id) if attrs_fn else None

    @property
    def native_value(self) -> str | int | float | None:
        """Read the value."""
        return self.entity_description.value_fn(self.controller, self.source_id)


class ZoneCount(NvrZoneEntity, SensorEntity):
    """How many objects of a class stand in a zone (open events; 0 while paused)."""

    _attr_state_class = SensorStateClass.MEASUREMENT

    kind = "count"

    @property
    def native_value(self) -> int:
        """Return the count."""
        return self.count()


class LineCount(NvrEntity, SensorEntity):
    """Tracked objects that crossed a line, one way, since Home Assistant started the entry."""

    _attr_state_class = SensorStateClass.TOTAL_INCREASING

    def __init__(
        self, *, controller: NvrController, source_id: int, line: str, direction: str
    ) -> None:
        """Bind to one line and direction of a source."""
        key = f"line_{node_id(line)}_{direction}"
        super().__init__(controller=controller, key=key, source_id=source_id)
        self._line, self._direction = line, direction
        self._attr_translation_key = f"line_{direction}"
        self._attr_translation_placeholders = {"line": line}

    @property
    def native_value(self) -> int:
        """Return the count."""
        assert self.source_id is not None
        return self.controller.line_count(self.source_id, self._line, self._direction)
