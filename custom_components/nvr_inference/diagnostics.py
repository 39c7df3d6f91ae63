"""Diagnostics: configuration, gate, sources and counters, with secrets redacted."""

from __future__ import annotations

from typing import Any

from homeassistant.components.diagnostics import async_redact_data
from homeassistant.const import CONF_API_KEY
from homeassistant.core import HomeAssistant

from .const import CONF_SOURCES, SOURCE_REFERENCE
from .data import NvrConfigEntry
from .engine.video.sources import redact_url

TO_REDACT = {CONF_API_KEY}


async def async_get_config_entry_diagnostics(
    hass: HomeAssistant, entry: NvrConfigEntry
) -> dict[str, Any]:
    """Return what helps a bug report; the API key and URL credentials never appear."""
    data = async_redact_data(dict(entry.data), TO_REDACT)
    data[CONF_SOURCES] = [
        {**s, SOURCE_REFERENCE: redact_url(str(s[SOURCE_REFERENCE]))} for s in data[CONF_SOURCES]
    ]
    controller = entry.runtime_data.controller
    publisher = controller.publisher
    plane = controller.plane
    saved = plane.pause_state
    return {
        "entry": {"title": entry.title, "data": data, "options": dict(entry.options)},
        "status": controller.status_message() | {"changed": "redacted-time"},
        "saved_pause": {"paused": saved.paused, "paused_sources": sorted(saved.paused_sources)},
        "publishing": {
            "published": publisher.published,
            "refused_by_gate": publisher.refused,
            "dropped_offline": publisher.offline,
            "dropped_backlog": controller.bridge.dropped,
        },
        "last_command_error": plane.last_error,
        "other_host_on_base_topic": plane.foreign.host if plane.foreign else None,
    }
