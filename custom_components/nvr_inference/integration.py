"""Home Assistant's entry points: set up, unload and remove a config entry.

Re-exported lazily by the package's `__init__.py`, so that importing the engine (the
standalone worker does) never needs Home Assistant.
"""

from __future__ import annotations

from homeassistant.components import mqtt
from homeassistant.const import Platform
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import ConfigEntryAuthFailed, ConfigEntryError, ConfigEntryNotReady
from homeassistant.helpers import device_registry as dr

from .const import CONF_BASE_TOPIC, DOMAIN
from .controller import NvrController, async_remove_discovery
from .data import NvrConfigEntry, NvrRuntimeData
from .engine.errors import (
    EngineError,
    FullProfileRequiredError,
    InvalidApiKeyError,
    PipelineMissingError,
)

PLATFORMS: list[Platform] = [Platform.IMAGE, Platform.SENSOR, Platform.SWITCH]


async def async_setup_entry(hass: HomeAssistant, entry: NvrConfigEntry) -> bool:
    """Wait for MQTT, start the pipeline in the executor, then set up the entities."""
    if not await mqtt.async_wait_for_mqtt_client(hass):
        raise ConfigEntryNotReady(translation_domain=DOMAIN, translation_key="mqtt_not_ready")
    controller = NvrController(
        hass, entry.entry_id, entry.title, dict(entry.data), dict(entry.options)
    )
    try:
        await controller.async_start()
    except BaseException as err:
        # Whatever went wrong, nothing may keep running: the pipeline threads are not daemons.
        await controller.async_stop()
        mapped = _setup_error(err)
        if mapped is err:
            raise
        raise mapped from err
    entry.runtime_data = NvrRuntimeData(controller=controller)
    # The hub first: every source device names it as via_device, whatever platform comes first.
    dr.async_get(hass).async_get_or_create(
        config_entry_id=entry.entry_id, **controller.hub_device_info()
    )
    entry.async_on_unload(entry.add_update_listener(_async_reload_on_update))
    await hass.config_entries.async_forward_entry_setups(entry, PLATFORMS)
    return True


def _setup_error(err: BaseException) -> BaseException:
    """Map an engine error to what Home Assistant should do about it."""
    if isinstance(err, InvalidApiKeyError):
        return ConfigEntryAuthFailed(str(err))
    if isinstance(err, (PipelineMissingError, FullProfileRequiredError)):
        return ConfigEntryError(
            translation_domain=DOMAIN,
            translation_key="setup_failed",
            translation_placeholders={"error": str(err)},
        )
    if isinstance(err, EngineError):
        return ConfigEntryNotReady(
            translation_domain=DOMAIN,
            translation_key="setup_failed",
            translation_placeholders={"error": str(err)},
        )
    return err


async def async_unload_entry(hass: HomeAssistant, entry: NvrConfigEntry) -> bool:
    """Unload the entities, then terminate and join the pipeline, then publish offline."""
    unloaded = await hass.config_entries.async_unload_platforms(entry, PLATFORMS)
    if unloaded:
        await entry.runtime_data.controller.async_stop()
    return unloaded


async def async_remove_entry(hass: HomeAssistant, entry: NvrConfigEntry) -> None:
    """Remove the retained discovery config, so the discovered entities go too."""
    if mqtt.is_connected(hass):
        await async_remove_discovery(hass, entry.data[CONF_BASE_TOPIC])


async def _async_reload_on_update(hass: HomeAssistant, entry: NvrConfigEntry) -> None:
    await hass.config_entries.async_reload(entry.entry_id)
