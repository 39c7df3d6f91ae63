"""Fixtures for the integration with real parts: mosquitto, HA's MQTT client, the pipeline."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager, contextmanager
import json
from pathlib import Path
from typing import Any
from unittest.mock import MagicMock, create_autospec, patch

from homeassistant.components import mqtt
from homeassistant.components.mqtt.const import MQTT_PROCESSED_SUBSCRIPTIONS
from homeassistant.const import CONF_NAME
from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers.dispatcher import async_dispatcher_connect
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.nvr_inference.const import (
    CONF_BASE_TOPIC,
    CONF_CLASSES,
    CONF_CONFIDENCE,
    CONF_DETECTOR,
    CONF_DISCOVERY,
    CONF_MAX_FPS,
    CONF_SOURCES,
    DOMAIN,
)
from custom_components.nvr_inference.engine.pipeline.hosting import HostingReport, hosting_report

from ..mqtt_helpers import Broker, Subscriber, run_broker


@pytest.fixture(autouse=True)
def _config_dir_of_its_own(request: pytest.FixtureRequest, tmp_path: Path) -> None:
    """Give each test's Home Assistant a configuration folder of its own.

    The harness points every `hass` at one folder inside the installed test package; the
    saved pause is a real file in `.storage` (see `storage.py`), which must neither outlive
    its test nor be read by the next one.
    """
    if "hass" in request.fixturenames:
        hass: HomeAssistant = request.getfixturevalue("hass")
        hass.config.config_dir = str(tmp_path / "config")


def pause_file(hass: HomeAssistant, entry: MockConfigEntry) -> Path:
    """The file that holds an entry's saved pause."""
    return Path(hass.config.path(".storage", f"{DOMAIN}.{entry.entry_id}"))


def read_saved_pause(hass: HomeAssistant, entry: MockConfigEntry) -> Any:
    """What the entry's saved pause holds (inside Home Assistant's storage envelope)."""
    envelope = json.loads(pause_file(hass, entry).read_text(encoding="utf-8"))
    assert envelope["version"] == 1
    assert envelope["key"] == f"{DOMAIN}.{entry.entry_id}"
    return envelope["data"]


def write_saved_pause(hass: HomeAssistant, entry: MockConfigEntry, data: Any) -> None:
    """Leave a saved pause on disk, in Home Assistant's storage envelope, as a release did."""
    path = pause_file(hass, entry)
    path.parent.mkdir(parents=True, exist_ok=True)
    key = f"{DOMAIN}.{entry.entry_id}"
    envelope = {"version": 1, "minor_version": 1, "key": key, "data": data}
    path.write_text(json.dumps(envelope), encoding="utf-8")


@pytest.fixture
def broker(socket_enabled: None) -> Iterator[Broker]:
    """A real mosquitto on 127.0.0.1 (the harness blocks sockets unless asked)."""
    with run_broker() as running:
        yield running


@asynccontextmanager
async def running_mqtt_entry(
    hass: HomeAssistant, broker: Broker, *, discovery: bool
) -> AsyncIterator[MockConfigEntry]:
    """Home Assistant's real MQTT integration, connected to the broker, for a block."""
    entry = MockConfigEntry(
        domain="mqtt",
        data={"broker": broker.host, "port": broker.port},
        options={"birth_message": {}, "discovery": discovery},
        version=1,
        minor_version=2,
    )
    entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    assert await mqtt.async_wait_for_mqtt_client(hass)
    if not mqtt.is_connected(hass):
        await wait_until(lambda: mqtt.is_connected(hass), on_mqtt_connection(hass))
    yield entry
    if entry.state.recoverable:
        await hass.config_entries.async_unload(entry.entry_id)
        await hass.async_block_till_done()


@pytest.fixture
async def mqtt_entry(
    hass: HomeAssistant, broker: Broker, mock_hass_config: None
) -> AsyncIterator[MockConfigEntry]:
    """The real MQTT integration with discovery off (the integration publishes its own)."""
    async with running_mqtt_entry(hass, broker, discovery=False) as entry:
        yield entry


async def wait_until(
    predicate: Callable[[], bool],
    subscribe: Callable[[Callable[[], None]], Callable[[], None]],
    deadline: float = 30,
) -> None:
    """Wait until `predicate()` holds, re-checking whenever `subscribe`'s callback fires."""
    changed = asyncio.Event()
    unsub = subscribe(changed.set)
    try:
        async with asyncio.timeout(deadline):
            while not predicate():
                changed.clear()
                await changed.wait()
    finally:
        unsub()


def on_mqtt_connection(hass: HomeAssistant) -> Callable[[Callable[[], None]], Callable[[], None]]:
    """Adapt MQTT's connection signal to `wait_until`.

    The callback is marked `@callback`: Home Assistant 2026.10 runs an unmarked one in the
    executor, where setting an asyncio.Event raises (not the loop's thread).
    """
    return lambda cb: mqtt.async_subscribe_connection_status(
        hass, callback(lambda _connected: cb())
    )


async def wait_subscriptions(hass: HomeAssistant) -> None:
    """Wait until HA's MQTT client has sent its batched subscriptions to the broker."""
    done = asyncio.Event()

    @callback
    def _processed(*_args: Any) -> None:
        done.set()

    unsub = async_dispatcher_connect(hass, MQTT_PROCESSED_SUBSCRIPTIONS, _processed)
    try:
        await asyncio.wait_for(done.wait(), 10)
    finally:
        unsub()


def nvr_entry_data(
    video: Path, *, sources: int = 1, detector: str = "motion", loop: bool = True
) -> dict[str, Any]:
    """Entry data for `sources` looping copies of the sample video."""
    return {
        CONF_NAME: "Test NVR",
        CONF_BASE_TOPIC: "nvr",
        CONF_DETECTOR: detector,
        CONF_SOURCES: [
            {"source_id": i, "reference": str(video), "name": f"Cam {i}", "loop": loop}
            for i in range(sources)
        ],
    }


NVR_OPTIONS = {CONF_CONFIDENCE: 0.5, CONF_MAX_FPS: 0.0, CONF_CLASSES: [], CONF_DISCOVERY: True}


@pytest.fixture
def subscriber(broker: Broker) -> Iterator[Subscriber]:
    """An independent paho client subscribed to everything under nvr/ and discovery."""
    client = Subscriber(broker, ["nvr/#", "homeassistant/#"])
    yield client
    client.close()


def make_nvr_entry(hass: HomeAssistant, video: Path, **kwargs: Any) -> MockConfigEntry:
    """Add an nvr_inference entry to hass (not set up yet)."""
    entry = MockConfigEntry(
        domain=DOMAIN,
        title="Test NVR",
        unique_id="nvr",
        data=nvr_entry_data(video, **kwargs),
        options=dict(NVR_OPTIONS),
    )
    entry.add_to_hass(hass)
    return entry


async def setup_nvr_entry(hass: HomeAssistant, video: Path, **kwargs: Any) -> MockConfigEntry:
    """Add an nvr_inference entry and set it up; its pipelines are starting on return."""
    entry = make_nvr_entry(hass, video, **kwargs)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    return entry


PIPELINE_HERE = HostingReport(installed=True, python_version="3.13.5", libc="glibc 2.36")
PIPELINE_GONE = HostingReport(installed=False, python_version="3.14.2", libc="musl")
"""What the hosting check answers on Home Assistant 2026.3+ in its container (Alpine)."""


@contextmanager
def hosting(report: HostingReport) -> Iterator[MagicMock]:
    """Make the hosting check (the boundary: it looks for the packages) answer `report`."""
    mock = create_autospec(hosting_report, return_value=report)  # nests: not of a mock
    with patch("custom_components.nvr_inference.worker_handoff.hosting_report", mock):
        yield mock


@pytest.fixture
def pipeline_here() -> Iterator[MagicMock]:
    """The pipeline's packages are here, whatever this lane has (the flow's probe is faked)."""
    with hosting(PIPELINE_HERE) as mock:
        yield mock
