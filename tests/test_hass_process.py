"""tests/hass_process.py: a real `hass` of this venv's release, onboarded, MQTT on our broker.

Runs in every Home Assistant lane with that lane's own `hass`: Home Assistant 2026.2.3 in .venv,
2026.10.4 on Python 3.14 in .venv-ha-latest. It proves what later tests build on (the worker
discovered by a real Home Assistant): onboarding and the MQTT config flow through the REST API,
Home Assistant's MQTT client on the given broker, MQTT discovery creating an entity, and a
service call through the REST API reaching the broker.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
import json
from pathlib import Path

from homeassistant.const import __version__ as HA_VERSION
import pytest

from .hass_process import HassProcess, run_hass
from .mqtt_helpers import Broker, Received, Subscriber, run_broker

NODE = "nvr_smoke"
DISCOVERY = f"homeassistant/device/{NODE}/config"


@pytest.fixture
def broker(socket_enabled: None) -> Iterator[Broker]:
    """A real mosquitto on 127.0.0.1 (the harness blocks sockets unless asked)."""
    with run_broker() as running:
        yield running


@pytest.fixture
def subscriber(broker: Broker) -> Iterator[Subscriber]:
    """An independent client recording everything on the broker."""
    client = Subscriber(broker, ["#"])
    yield client
    client.close()


def _device_config() -> dict[str, object]:
    """A device discovery config like the worker's: one sensor and one switch."""
    return {
        "dev": {"ids": [NODE], "name": "NVR smoke"},
        "o": {"name": "nvr_inference tests"},
        "cmps": {
            f"{NODE}_objects": {
                "p": "sensor",
                "unique_id": f"{NODE}_objects",
                "name": "Objects",
                "state_topic": "nvr_smoke/objects",
            },
            f"{NODE}_pause": {
                "p": "switch",
                "unique_id": f"{NODE}_pause",
                "name": "Pause",
                "command_topic": "nvr_smoke/commands",
                "state_topic": "nvr_smoke/paused",
                "payload_on": "pause",
                "payload_off": "resume",
                "state_on": "yes",
                "state_off": "no",
            },
        },
    }


def _on(topic: str) -> Callable[[Received], bool]:
    return lambda m: m.topic == topic


def _state(hass: HassProcess, entity_id: str) -> str | None:
    found = hass.state(entity_id)
    return None if found is None else str(found["state"])


def test_hass_process_onboards_connects_and_discovers(
    tmp_path: Path, broker: Broker, subscriber: Subscriber
) -> None:
    with run_hass(tmp_path / "ha", broker.port) as hass:
        config = hass.api.call("GET", "/api/config")
        assert config["version"] == HA_VERSION
        assert config["state"] == "RUNNING"
        assert hass.api.call("GET", "/api/")["message"] == "API running."
        mqtt = hass.api.call("GET", "/api/config/config_entries/entry?domain=mqtt")
        assert [e["state"] for e in mqtt if e["domain"] == "mqtt"] == ["loaded"]

        # Home Assistant's MQTT client is on our broker: its birth message arrives.
        birth = subscriber.wait_for(_on("homeassistant/status"), 60)
        assert birth.payload == b"online"

        subscriber.publish(DISCOVERY, json.dumps(_device_config()), retain=True)
        # Entity ids follow the device's and the entities' names.
        sensor, switch = "sensor.nvr_smoke_objects", "switch.nvr_smoke_pause"
        hass.wait_until(
            "the discovered entities",
            lambda: _state(hass, sensor) is not None and _state(hass, switch) is not None,
        )
        # Retained: the entities subscribe a moment after they appear (MQTT batches
        # subscriptions), and a retained state reaches them whenever they do.
        subscriber.publish("nvr_smoke/objects", "3", retain=True)
        subscriber.publish("nvr_smoke/paused", "no", retain=True)
        hass.wait_until(
            "the entities' states from the broker",
            lambda: _state(hass, sensor) == "3" and _state(hass, switch) == "off",
        )

        # A service call through the REST API reaches the broker as the switch's command.
        hass.api.call("POST", "/api/services/switch/turn_on", {"entity_id": switch})
        command = subscriber.wait_for(_on("nvr_smoke/commands"), 30)
        assert command.payload == b"pause"

        code = hass.stop()
    assert code == 0, hass.output()[-2000:]
    assert "Traceback" not in hass.output()
