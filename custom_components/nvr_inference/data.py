"""Runtime data of a config entry, and the typed ConfigEntry alias."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from homeassistant.config_entries import ConfigEntry

if TYPE_CHECKING:
    from .controller import NvrController


@dataclass(kw_only=True)
class NvrRuntimeData:
    """What a loaded entry holds: its controller (engine, bridge, MQTT glue)."""

    controller: NvrController


type NvrConfigEntry = ConfigEntry[NvrRuntimeData]
