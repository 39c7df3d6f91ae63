"""Diagnostics: configuration, gate, sources and counters, with secrets redacted."""

from __future__ import annotations

from typing import Any

from homeassistant.components.diagnostics import async_redact_data
from homeassistant.const import CONF_API_KEY
from homeassistant.core import HomeAssistant

from .const import CONF_SOURCES, SOURCE_REFERENCE
from .data import NvrConfigEntry
from .engine.sources import redact_url

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
    bridge = controller.bridge
    return {
        "entry": {"title": entry.title, "data": data, "options": dict(entry.options)},
        "status": controller.status_message() | {"changed": "redacted-time"},
        "bridge": {
            "published": bridge.published,
            "refused_by_gate": bridge.refused,
            "dropped_backlog": bridge.dropped,
            "failed": bridge.failed,
        },
        "last_command_error": controller.last_error,
    }
