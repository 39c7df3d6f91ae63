"""A real Home Assistant discovers the worker through MQTT and pauses it with the switch.

Home Assistant's real MQTT integration (discovery on), mosquitto, the worker as a subprocess,
and an independent paho client that checks the fence: after Home Assistant's switch turns the
pause on, the retained status says paused and not one detection arrives before a barrier.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from functools import partial
from pathlib import Path
import signal
from typing import Any

from homeassistant.const import EVENT_STATE_CHANGED, STATE_UNAVAILABLE
from homeassistant.core import Event, HomeAssistant, callback
from homeassistant.helpers import (
    area_registry as ar,
    device_registry as dr,
    entity_registry as er,
)
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from ..integration.conftest import running_mqtt_entry, wait_until
from ..mqtt_helpers import Broker, Subscriber
from .conftest import WorkerProcess, barrier, detection_of, status_of, worker_args

pytestmark = pytest.mark.pipeline

NODE = "nvr_worker_hatest"


@pytest.fixture
async def mqtt_discovery_entry(
    hass: HomeAssistant, broker: Broker, mock_hass_config: None
) -> AsyncIterator[MockConfigEntry]:
    """Home Assistant's real MQTT integration with discovery on, connected to the broker."""
    async with running_mqtt_entry(hass, broker, discovery=True) as entry:
        yield entry


def on_state_change(hass: HomeAssistant) -> Callable[[Callable[[], None]], Callable[[], None]]:
    """Adapt state-changed events to `wait_until` (no polling: it re-checks on each change)."""

    def subscribe(changed: Callable[[], None]) -> Callable[[], None]:
        @callback
        def _on_event(_event: Event[Any]) -> None:
            changed()

        return hass.bus.async_listen(EVENT_STATE_CHANGED, _on_event)

    return subscribe


def _state(hass: HomeAssistant, platform: str, unique_id: str) -> str | None:
    entity_id = er.async_get(hass).async_get_entity_id(platform, "mqtt", unique_id)
    state = hass.states.get(entity_id) if entity_id else None
    return state.state if state else None


async def test_home_assistant_discovers_pauses_and_loses_the_worker(
    hass: HomeAssistant,
    mqtt_discovery_entry: MockConfigEntry,
    broker: Broker,
    subscriber: Subscriber,
    spawn_worker: Callable[..., WorkerProcess],
    sample_video: Path,
    tmp_path: Path,
) -> None:
    run = hass.async_add_executor_job
    # The camera from the YAML, with an area: its device lands there (the Overview's rooms).
    config = tmp_path / "worker.yaml"
    await run(
        config.write_text,
        f"sources:\n  - name: Cam 0\n    reference: {sample_video}\n    area: Porch\n",
    )
    args = worker_args(broker, sample_video, name="hatest", sources=0)
    worker = await run(partial(spawn_worker, *args, "--config", str(config)))
    switch = f"{NODE}_pause"
    states = on_state_change(hass)
    await wait_until(lambda: _state(hass, "switch", switch) == "off", states, 60)
    # Everything the worker announced became an entity: the hub's named after the worker,
    # the camera's on its own device under the hub, with the integration's entity ids.
    registry = er.async_get(hass)
    for platform, unique_id, entity_id in (
        ("switch", f"{NODE}_pause", "switch.hatest_pause_detections"),
        ("sensor", f"{NODE}_state", "sensor.hatest_state"),
        ("switch", f"{NODE}_s0_pause", "switch.cam_0_pause_detections"),
        ("sensor", f"{NODE}_s0_state", "sensor.cam_0_state"),
        ("sensor", f"{NODE}_s0_objects", "sensor.cam_0_objects"),
        ("sensor", f"{NODE}_s0_fps", "sensor.cam_0_processing_rate"),
        ("sensor", f"{NODE}_s0_inference_ms", "sensor.cam_0_inference_latency"),
        ("binary_sensor", f"{NODE}_s0_motion_occupancy", "binary_sensor.cam_0_motion_occupancy"),
        ("image", f"{NODE}_s0_snapshot", "image.cam_0_snapshot"),
        ("event", f"{NODE}_s0_objects_event", "event.cam_0_object_events"),
        ("image", f"{NODE}_s0_last_event", "image.cam_0_last_event"),
    ):
        assert registry.async_get_entity_id(platform, "mqtt", unique_id) == entity_id, unique_id
    switch_id = registry.async_get_entity_id("switch", "mqtt", switch)
    assert switch_id is not None
    hub = registry.async_get(switch_id)
    camera = registry.async_get("switch.cam_0_pause_detections")
    assert hub is not None
    assert camera is not None
    devices = dr.async_get(hass)
    camera_device = devices.async_get(camera.device_id or "")
    assert camera_device is not None
    assert camera_device.name == "Cam 0"
    assert camera_device.via_device_id == hub.device_id
    porch = ar.async_get(hass).async_get_area_by_name("Porch")
    assert porch is not None
    assert camera_device.area_id == porch.id
    hub_device = devices.async_get(hub.device_id or "")
    assert hub_device is not None
    assert hub_device.area_id is None
    await wait_until(
        lambda: _state(hass, "sensor", f"{NODE}_s0_objects") not in (None, STATE_UNAVAILABLE),
        states,
        60,
    )

    await run(subscriber.wait_for, detection_of("nvr", 0), 30)
    after = subscriber.messages[-1].seq
    await hass.services.async_call("switch", "turn_on", {"entity_id": switch_id}, blocking=True)
    ack = await run(subscriber.wait_for, status_of("nvr", lambda s: s["paused"] is True), 30, after)
    assert ack.json()["reason"] == "command"
    await wait_until(lambda: _state(hass, "switch", switch) == "on", states)
    fence = await run(barrier, subscriber, "nvr")
    assert subscriber.count(detection_of("nvr"), after=ack.seq, before=fence) == 0
    # Nothing shown as current while paused: the camera's present goes unavailable, its
    # state says why, and its own switch keeps its own setting with the effective pause beside.
    await wait_until(
        lambda: all(
            _state(hass, platform, f"{NODE}_s0_{key}") == STATE_UNAVAILABLE
            for platform, key in (
                ("sensor", "objects"),
                ("binary_sensor", "motion_occupancy"),
                ("image", "snapshot"),
                ("sensor", "fps"),
            )
        )
        and _state(hass, "sensor", f"{NODE}_s0_state") == "paused",
        states,
    )
    source_switch = hass.states.get("switch.cam_0_pause_detections")
    assert source_switch is not None
    assert source_switch.state == "off"
    assert source_switch.attributes["paused"] is True
    assert source_switch.attributes["paused_globally"] is True

    # Killed without a goodbye: the broker's last will makes every entity unavailable.
    await run(worker.send, signal.SIGKILL)
    await run(worker.process.wait, 10)
    await wait_until(
        lambda: _state(hass, "switch", switch) == STATE_UNAVAILABLE
        and _state(hass, "sensor", f"{NODE}_s0_objects") == STATE_UNAVAILABLE,
        states,
    )
