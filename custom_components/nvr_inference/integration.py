"""Home Assistant's entry points: set up, unload and remove a config entry, remove a device.

Re-exported lazily by the package's `__init__.py`, so that importing the engine (the
standalone worker does) never needs Home Assistant.
"""

from __future__ import annotations

from homeassistant.components import mqtt
from homeassistant.config_entries import ConfigEntry
from homeassistant.const import Platform
from homeassistant.core import HomeAssistant, callback
from homeassistant.exceptions import ConfigEntryAuthFailed, ConfigEntryError, ConfigEntryNotReady
from homeassistant.helpers import device_registry as dr

from .const import CONF_BASE_TOPIC, DOMAIN
from .controller import BaseTopicInUseError, NvrController
from .data import NvrConfigEntry, NvrRuntimeData
from .engine.errors import (
    EngineError,
    FullProfileRequiredError,
    InvalidApiKeyError,
    PipelineMissingError,
)
from .hass_mqtt import async_release_base_topic, async_remove_or_retry, entry_host
from .storage import HassPauseStore
from .worker_handoff import (
    async_clear_pipeline_issue,
    async_hosting_report,
    async_raise_pipeline_issue,
)

PLATFORMS: list[Platform] = [
    Platform.BINARY_SENSOR,
    Platform.EVENT,
    Platform.IMAGE,
    Platform.SENSOR,
    Platform.SWITCH,
]


async def async_setup_entry(hass: HomeAssistant, entry: NvrConfigEntry) -> bool:
    """Check the pipeline can live here, wait for MQTT, start it, then set up the entities.

    Where the pipeline's packages are missing (Home Assistant 2026.3+ on Python 3.14, musl),
    the entry cannot start until Home Assistant itself changes: a repair issue says why and
    offers the entry as a worker YAML, one line is logged, and setup returns False (the entry
    shows "Failed to set up"). Not `ConfigEntryNotReady`: it would retry forever, probing and
    logging every few minutes, for packages that cannot appear without a restart (which sets
    the entry up again anyway). Not `ConfigEntryError`: Home Assistant logs that with a
    traceback (`_LOGGER.exception`), for what is no bug. A reload tries again.
    """
    report = await async_hosting_report(hass)
    if not report.installed:
        await async_raise_pipeline_issue(hass, entry, report)
        _async_release_base_topic(hass, entry)
        return False
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
        _async_release_base_topic(hass, entry)
        if isinstance(err, PipelineMissingError):  # found, but it cannot be imported
            await async_raise_pipeline_issue(hass, entry, report)
            return False
        mapped = _setup_error(err)
        if mapped is err:
            raise
        raise mapped from err
    async_clear_pipeline_issue(hass, entry.entry_id)
    entry.runtime_data = NvrRuntimeData(controller=controller)
    _register_devices(hass, entry, controller)
    await hass.config_entries.async_forward_entry_setups(entry, PLATFORMS)
    return True


@callback
def _async_release_base_topic(hass: HomeAssistant, entry: NvrConfigEntry) -> None:
    """Hand the base topic back in the background: a stale `online` of ours goes offline.

    In the background because MQTT may not be up yet, and a failed setup should not wait for
    it; Home Assistant cancels the task if it stops first.
    """
    hass.async_create_background_task(
        async_release_base_topic(
            hass, entry.data[CONF_BASE_TOPIC], entry_host(entry.entry_id, entry.title)
        ),
        f"nvr_inference release {entry.data[CONF_BASE_TOPIC]}",
    )


def _register_devices(hass: HomeAssistant, entry: ConfigEntry, controller: NvrController) -> None:
    """Register the hub (before any source names it as via_device); drop removed sources."""
    devices = dr.async_get(hass)
    devices.async_get_or_create(config_entry_id=entry.entry_id, **controller.hub_device_info())
    wanted = {(DOMAIN, entry.entry_id)} | {
        (DOMAIN, f"{entry.entry_id}_{sid}") for sid in controller.sources
    }
    for device in dr.async_entries_for_config_entry(devices, entry.entry_id):
        if not device.identifiers & wanted:
            devices.async_update_device(device.id, remove_config_entry_id=entry.entry_id)


def _setup_error(err: BaseException) -> BaseException:
    """Map an engine error to what Home Assistant should do about it."""
    if isinstance(err, InvalidApiKeyError):
        return ConfigEntryAuthFailed(
            translation_domain=DOMAIN,
            translation_key="invalid_api_key",
            translation_placeholders={"error": str(err)},
        )
    if isinstance(err, FullProfileRequiredError):
        return ConfigEntryError(
            translation_domain=DOMAIN,
            translation_key="setup_failed",
            translation_placeholders={"error": str(err)},
        )
    if isinstance(err, BaseTopicInUseError):
        return ConfigEntryNotReady(
            translation_domain=DOMAIN,
            translation_key="base_topic_in_use",
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
    """Unload the entities, then publish `stopped` and `offline`, then join the pipelines."""
    unloaded = await hass.config_entries.async_unload_platforms(entry, PLATFORMS)
    if unloaded:
        await entry.runtime_data.controller.async_stop()
    return unloaded


async def async_remove_entry(hass: HomeAssistant, entry: NvrConfigEntry) -> None:
    """Remove the retained discovery config, the saved pause and the entry's repair issue."""
    async_clear_pipeline_issue(hass, entry.entry_id)
    await async_remove_or_retry(
        hass, entry.data[CONF_BASE_TOPIC], entry_host(entry.entry_id, entry.title)
    )
    await HassPauseStore(hass, entry.entry_id).async_remove()


async def async_remove_config_entry_device(
    hass: HomeAssistant, entry: NvrConfigEntry, device: dr.DeviceEntry
) -> bool:
    """Allow removing a source's device only once the source is gone from the entry."""
    controller = entry.runtime_data.controller
    live = {(DOMAIN, entry.entry_id)} | {
        (DOMAIN, f"{entry.entry_id}_{sid}") for sid in controller.sources
    }
    return not device.identifiers & live
