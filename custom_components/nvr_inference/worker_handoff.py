"""Where the pipeline cannot live, say so first and help: hand the entry over to the worker.

Home Assistant 2026.3+ runs on Python 3.14, which no pipeline release allows, and Home
Assistant OS and the container are musl. There the config flow aborts before its first form
(`pipeline_missing`), and an entry made on an older release, which can no longer start,
raises a repair issue that says why (this Python's version and C library), gives the
worker's install commands and a link to its page (docs/worker.md), and offers the entry's
cameras and settings as a ready worker YAML, secrets left out.

This module only maps Home Assistant's side (the entry, the MQTT integration's broker, the
manifest's link) onto the engine's objects; the YAML and the commands are the engine's
(`engine/worker/yaml_export.py`), written once for every host.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace
from typing import Any, Final

from homeassistant.config_entries import ConfigEntry
from homeassistant.const import CONF_NAME, CONF_PORT, CONF_USERNAME
from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers import (
    area_registry as ar,
    device_registry as dr,
    issue_registry as ir,
)
from homeassistant.loader import async_get_integration

from .const import CONF_BASE_TOPIC, DOMAIN, LOGGER
from .controller import (
    cameras_from_options,
    detector_from_entry,
    max_fps_from_options,
    sources_from_entry,
    tracking_from_options,
    zones_from_options,
)
from .engine.config.worker_settings import MqttSettings, WorkerSettings
from .engine.config.yaml_export import worker_commands, worker_yaml
from .engine.detect.spec import DetectorSpec
from .engine.discovery.devices import WORKER_DOCS_PATH
from .engine.pipeline.hosting import HostingReport, hosting_report
from .engine.video.sources import SourceConfig
from .entity import source_device_identifier

ISSUE_PIPELINE_MISSING: Final = "pipeline_missing"
FALLBACK_REPOSITORY: Final = "https://github.com/nvr-inference/nvr_inference"

MQTT_DOMAIN: Final = "mqtt"
MQTT_BROKER: Final = "broker"  # homeassistant.components.mqtt.const.CONF_BROKER
MQTT_CERTIFICATE: Final = "certificate"  # set when the MQTT integration uses TLS


async def async_hosting_report(hass: HomeAssistant) -> HostingReport:
    """Ask, in the executor, whether the pipeline's packages are here (imports nothing)."""
    return await hass.async_add_executor_job(hosting_report)


async def async_repository(hass: HomeAssistant) -> str:
    """Return the repository's address: the manifest's `documentation` without its anchor."""
    integration = await async_get_integration(hass, DOMAIN)
    documentation = integration.documentation or FALLBACK_REPOSITORY
    return documentation.partition("#")[0].rstrip("/")


async def async_guidance(
    hass: HomeAssistant, report: HostingReport, spec: DetectorSpec | None = None
) -> dict[str, str]:
    """Return the placeholders that explain why and how: Python, C library, commands, link."""
    repository = await async_repository(hass)
    return {
        "python_version": report.python_version,
        "libc": report.libc,
        "commands": worker_commands(repository, spec),
        "docs_url": f"{repository}/{WORKER_DOCS_PATH}",
    }


def _mqtt_settings(hass: HomeAssistant) -> MqttSettings:
    """Return the broker as Home Assistant's MQTT integration reaches it, no password."""
    entries = hass.config_entries.async_entries(MQTT_DOMAIN)
    if not entries:
        return MqttSettings()
    data = entries[0].data
    tls = bool(data.get(MQTT_CERTIFICATE))
    return MqttSettings(
        host=str(data.get(MQTT_BROKER) or "127.0.0.1"),
        port=int(data.get(CONF_PORT) or (8883 if tls else 1883)),
        username=data.get(CONF_USERNAME) or None,
        password=None,  # never exported: the YAML's header says where it goes
        tls=tls,
    )


def _with_areas(
    hass: HomeAssistant, entry: ConfigEntry, sources: Iterable[SourceConfig]
) -> tuple[SourceConfig, ...]:
    """Give each source the area its device has here, so the worker's device lands there too."""
    devices, areas = dr.async_get(hass), ar.async_get(hass)
    found = []
    for source in sources:
        device = devices.async_get_device(
            identifiers={source_device_identifier(entry.entry_id, source.source_id)}
        )
        area = areas.async_get_area(device.area_id) if device and device.area_id else None
        found.append(replace(source, area=area.name) if area else source)
    return tuple(found)


def worker_settings_from_entry(hass: HomeAssistant, entry: ConfigEntry) -> WorkerSettings:
    """Map an entry (data and options) onto the worker's settings, with no secret in them.

    Built with the same functions the controller builds its engine with, so the worker runs
    what the entry would have run: the same sources (and ids, so the same topics), detector,
    rate, tracking and zones, under the same base topic; and each camera in the area its
    device has in Home Assistant.
    """
    data, options = entry.data, entry.options
    sources = _with_areas(hass, entry, sources_from_entry(data))
    by_id = {s.source_id: s for s in sources}
    return WorkerSettings(
        name=str(data.get(CONF_NAME) or entry.title),
        mqtt=_mqtt_settings(hass),
        base_topic=data[CONF_BASE_TOPIC],
        sources=sources,
        detector=detector_from_entry(data, options),
        api_key=None,  # never exported
        max_fps=max_fps_from_options(options),
        tracking=tracking_from_options(options),
        zones={sid: drawn for sid, drawn in zones_from_options(options, by_id).items() if drawn},
        cameras={sid: own for sid, own in cameras_from_options(options, by_id).items() if own},
    )


def entry_worker_yaml(hass: HomeAssistant, entry: ConfigEntry) -> str:
    """Return the entry as a worker's config file (secrets left out)."""
    settings = worker_settings_from_entry(hass, entry)
    return worker_yaml(settings, origin=f'the Home Assistant entry "{entry.title}"')


async def async_raise_pipeline_issue(
    hass: HomeAssistant, entry: ConfigEntry, report: HostingReport
) -> None:
    """Raise the repair issue for an entry that cannot start here, and log one line."""
    settings = worker_settings_from_entry(hass, entry)
    placeholders: dict[str, Any] = {
        "entry": entry.title,
        "yaml": entry_worker_yaml(hass, entry).rstrip("\n"),
        **await async_guidance(hass, report, settings.detector),
    }
    ir.async_create_issue(
        hass,
        DOMAIN,
        f"{ISSUE_PIPELINE_MISSING}_{entry.entry_id}",
        is_fixable=False,
        severity=ir.IssueSeverity.ERROR,
        translation_key=ISSUE_PIPELINE_MISSING,
        translation_placeholders=placeholders,
    )
    LOGGER.error(
        "%s cannot start: Roboflow's InferencePipeline cannot be imported in this Home "
        "Assistant (Python %s, %s); see the repair issue for the standalone worker's "
        "configuration",
        entry.title,
        report.python_version,
        report.libc,
    )


@callback
def async_clear_pipeline_issue(hass: HomeAssistant, entry_id: str) -> None:
    """Remove the entry's repair issue (it started after all, or it was removed)."""
    ir.async_delete_issue(hass, DOMAIN, f"{ISSUE_PIPELINE_MISSING}_{entry_id}")
