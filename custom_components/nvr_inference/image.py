"""Snapshot image per source: the latest frame with detections, boxes and labels drawn."""

from __future__ import annotations

from datetime import datetime

from homeassistant.components.image import ImageEntity
from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from .controller import NvrController
from .data import NvrConfigEntry
from .entity import NvrEntity

PARALLEL_UPDATES = 0


async def async_setup_entry(
    hass: HomeAssistant,
    entry: NvrConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Add one snapshot image per source."""
    controller = entry.runtime_data.controller
    entities: list[ImageEntity] = [
        SnapshotImage(hass, controller=controller, source_id=sid) for sid in controller.sources
    ]
    if controller.events is not None:
        entities += [
            LastEventImage(hass, controller=controller, source_id=sid) for sid in controller.sources
        ]
    async_add_entities(entities)


class SnapshotImage(NvrEntity, ImageEntity):
    """The latest detection snapshot, captured after the last resume (same fence).

    A pause drops the snapshot, so a paused camera's picture is unavailable rather than a
    frame from before the pause shown as current; the first frame with detections after the
    resume brings a new one.
    """

    _attr_translation_key = "snapshot"
    _attr_content_type = "image/jpeg"

    def __init__(self, hass: HomeAssistant, *, controller: NvrController, source_id: int) -> None:
        """Bind to a source."""
        NvrEntity.__init__(self, controller=controller, key="snapshot", source_id=source_id)
        ImageEntity.__init__(self, hass)

    @property
    def available(self) -> bool:
        """Available once a snapshot exists and while the broker and source are up."""
        return self._snapshot() is not None and super().available

    @property
    def image_last_updated(self) -> datetime | None:
        """When the snapshot's frame was captured (the picture refreshes when it changes)."""
        snap = self._snapshot()
        return snap[1] if snap else None

    async def async_image(self) -> bytes | None:
        """Return the JPEG."""
        snap = self._snapshot()
        return snap[0] if snap else None

    def _snapshot(self) -> tuple[bytes, datetime] | None:
        assert self.source_id is not None
        return self.controller.feed.snapshots.get(self.source_id)


class LastEventImage(NvrEntity, ImageEntity):
    """The best frame of the source's latest event (the object's box drawn; its zones too).

    A picture of the past by name: it stays through a pause, and changes only when an event
    brings a better frame.
    """

    _attr_translation_key = "last_event"
    _attr_content_type = "image/jpeg"

    def __init__(self, hass: HomeAssistant, *, controller: NvrController, source_id: int) -> None:
        """Bind to a source."""
        NvrEntity.__init__(self, controller=controller, key="last_event", source_id=source_id)
        ImageEntity.__init__(self, hass)

    @property
    def available(self) -> bool:
        """Available once an event brought a picture, while the broker is up."""
        return self._picture() is not None and super().available

    @property
    def image_last_updated(self) -> datetime | None:
        """When the picture arrived (Home Assistant refreshes it when this changes)."""
        picture = self._picture()
        return picture[1] if picture else None

    async def async_image(self) -> bytes | None:
        """Return the JPEG."""
        picture = self._picture()
        return picture[0] if picture else None

    def _picture(self) -> tuple[bytes, datetime] | None:
        assert self.source_id is not None
        return self.controller.feed.event_snapshots.get(self.source_id)
