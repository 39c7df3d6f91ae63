"""Fault tests reuse the integration's real-broker fixtures."""

from ..integration.conftest import broker, mqtt_entry, subscriber  # noqa: F401
