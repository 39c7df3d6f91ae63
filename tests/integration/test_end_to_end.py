"""End to end with real parts: mosquitto, HA's MQTT client, the real pipeline, a paho client.

The independent subscriber sees detections, sends pause through the broker, receives the
retained paused status, and then receives zero detections until it sends resume. The same per
source, and with the switch turned on from Home Assistant.
"""

from __future__ import annotations

from pathlib import Path
import threading
from typing import Any

import cv2
from homeassistant.components.image import async_get_image
from homeassistant.config_entries import ConfigEntryState
from homeassistant.const import EVENT_HOMEASSISTANT_STOP
from homeassistant.core import HomeAssistant
from homeassistant.helpers import entity_registry as er
from homeassistant.util import dt as dt_util
import numpy as np
import pytest

from custom_components.nvr_inference.const import DOMAIN
from custom_components.nvr_inference.engine.pipeline.source_status import SourceState

from ..mqtt_helpers import (
    Broker,
    Received,
    Subscriber,
    is_detection,
    is_status,
    resume_cycles,
)
from .conftest import setup_nvr_entry, wait_subscriptions, wait_until

pytestmark = [
    pytest.mark.pipeline,
    pytest.mark.usefixtures("enable_custom_integrations", "mqtt_entry"),
]


async def _setup(hass: HomeAssistant, video: Path, **kwargs: Any) -> Any:
    entry = await setup_nvr_entry(hass, video, **kwargs)
    assert entry.state is ConfigEntryState.LOADED
    await wait_subscriptions(hass)
    return entry


async def _wait(hass: HomeAssistant, sub: Subscriber, predicate: Any, after: int = -1) -> Any:
    return await hass.async_add_executor_job(sub.wait_for, predicate, 30, after)


async def _barrier(hass: HomeAssistant, sub: Subscriber) -> int:
    """Ask for the status and wait for it: everything HA sent before it has arrived."""
    after = sub.messages[-1].seq if sub.messages else -1
    await hass.async_add_executor_job(sub.publish, "nvr/control/commands", '{"command": "status"}')
    return int((await _wait(hass, sub, is_status(lambda _s: True), after)).seq)


async def _unload(hass: HomeAssistant, entry: Any) -> None:
    assert await hass.config_entries.async_unload(entry.entry_id)
    await hass.async_block_till_done()


def _retained(broker: Broker, topic: str) -> Received:
    """Connect a new client and return the retained message it gets on `topic`."""
    late = Subscriber(broker, [topic], client_id="nvr-late-subscriber")
    try:
        message = late.wait_for(lambda m: m.topic == topic, 10)
    finally:
        late.close()
    assert message.retain
    return message


async def test_pause_by_mqtt_command_fences_detections(
    hass: HomeAssistant, subscriber: Subscriber, sample_video: Path, broker: Broker
) -> None:
    entry = await _setup(hass, sample_video)
    controller = entry.runtime_data.controller
    first = await _wait(hass, subscriber, is_detection(0))
    assert first.json()["source_id"] == 0

    await hass.async_add_executor_job(
        subscriber.publish, "nvr/control/commands", '{"command": "pause"}'
    )
    ack = await _wait(hass, subscriber, is_status(lambda s: s["paused"] is True))
    assert ack.json()["reason"] == "command"
    # The acknowledgement is retained: a consumer connecting now learns it at once.
    late = await hass.async_add_executor_job(_retained, broker, "nvr/control/status")
    assert late.json()["paused"] is True
    # Let the pipeline drain its backlog into the gate, then fence everything HA sent.
    await wait_until(
        lambda: controller.engine.runners[0].status.stream_paused, controller.async_add_listener
    )
    barrier = await _barrier(hass, subscriber)
    assert subscriber.count(is_detection(), after=ack.seq, before=barrier) == 0
    assert hass.states.get("switch.test_nvr_pause_detections").state == "on"

    await hass.async_add_executor_job(
        subscriber.publish, "nvr/control/commands", '{"command": "resume"}'
    )
    resumed = await _wait(hass, subscriber, is_status(lambda s: s["paused"] is False), barrier)
    await _wait(hass, subscriber, is_detection(0), resumed.seq)
    assert hass.states.get("switch.test_nvr_pause_detections").state == "off"
    await _unload(hass, entry)
    offline = (await hass.async_add_executor_job(_retained, broker, "nvr/availability")).json()
    assert offline == {"state": "offline", "host": f"ha:{entry.entry_id}"}
    final = (await hass.async_add_executor_job(_retained, broker, "nvr/control/status")).json()
    assert final["state"] == "stopped"  # the last word after unload, not a stale "running"
    assert final["sources"]["0"]["state"] == "stopped"
    assert final["host"] == {
        "id": f"ha:{entry.entry_id}",
        "kind": "integration",
        "name": "Test NVR",
    }


async def test_pause_one_source(
    hass: HomeAssistant, subscriber: Subscriber, sample_video: Path
) -> None:
    entry = await _setup(hass, sample_video, sources=2)
    await _wait(hass, subscriber, is_detection(1))
    await hass.async_add_executor_job(
        subscriber.publish, "nvr/control/commands", '{"command": "pause", "source_id": 1}'
    )
    ack = await _wait(hass, subscriber, is_status(lambda s: s["sources"]["1"]["paused"] is True))
    assert ack.json()["paused"] is False
    # Source 0 keeps publishing; source 1 stays silent.
    later = await _wait(hass, subscriber, is_detection(0), ack.seq)
    await _wait(hass, subscriber, is_detection(0), later.seq + 5)
    barrier = await _barrier(hass, subscriber)
    assert subscriber.count(is_detection(1), after=ack.seq, before=barrier) == 0
    assert hass.states.get("switch.cam_1_pause_detections").state == "on"
    assert hass.states.get("switch.cam_0_pause_detections").state == "off"
    await _unload(hass, entry)


async def test_pause_by_switch(
    hass: HomeAssistant, subscriber: Subscriber, sample_video: Path
) -> None:
    entry = await _setup(hass, sample_video)
    await _wait(hass, subscriber, is_detection(0))
    await hass.services.async_call(
        "switch", "turn_on", {"entity_id": "switch.test_nvr_pause_detections"}, blocking=True
    )
    ack = await _wait(
        hass, subscriber, is_status(lambda s: s["paused"] is True and s["reason"] == "switch")
    )
    controller = entry.runtime_data.controller
    await wait_until(
        lambda: controller.engine.runners[0].status.stream_paused, controller.async_add_listener
    )
    barrier = await _barrier(hass, subscriber)
    assert subscriber.count(is_detection(), after=ack.seq, before=barrier) == 0
    await hass.services.async_call(
        "switch", "turn_off", {"entity_id": "switch.test_nvr_pause_detections"}, blocking=True
    )
    resumed = await _wait(hass, subscriber, is_status(lambda s: s["paused"] is False), barrier)
    await _wait(hass, subscriber, is_detection(0), resumed.seq)
    await _unload(hass, entry)


async def test_malformed_commands_change_nothing(
    hass: HomeAssistant, subscriber: Subscriber, sample_video: Path
) -> None:
    entry = await _setup(hass, sample_video)
    controller = entry.runtime_data.controller
    before = controller.gate.snapshot()
    for payload in (
        b"pause",
        b"\xff\xfe",
        b'{"command": "stop"}',
        b'{"command": "pause", "source_id": 9}',
    ):
        after = subscriber.messages[-1].seq
        await hass.async_add_executor_job(subscriber.publish, "nvr/control/commands", payload)
        error = await _wait(hass, subscriber, lambda m: m.topic == "nvr/control/error", after)
        assert error.json()["error"]
    assert controller.gate.snapshot() == before
    await _unload(hass, entry)


async def test_entities_and_discovery(
    hass: HomeAssistant, broker: Broker, subscriber: Subscriber, sample_video: Path
) -> None:
    entry = await _setup(hass, sample_video)
    discovery = await _wait(
        hass, subscriber, lambda m: m.topic == "homeassistant/device/nvr_inference_nvr/config"
    )
    config = discovery.json()
    assert set(config["cmps"]) == {
        "nvr_inference_nvr_s0_objects",
        "nvr_inference_nvr_s0_motion_occupancy",
    }
    assert config["avty"] == [{"t": "nvr/availability", "val_tpl": "{{ value_json.state }}"}]
    registry = er.async_get(hass)
    entities = {e.unique_id for e in er.async_entries_for_config_entry(registry, entry.entry_id)}
    assert entities == {
        "nvr_pause",
        "nvr_state",
        "nvr_0_pause",
        "nvr_0_state",
        "nvr_0_fps",
        "nvr_0_inference_latency",
        "nvr_0_detections",
        "nvr_0_snapshot",
        "nvr_0_objects",
        "nvr_0_last_event",
    }
    controller = entry.runtime_data.controller
    await wait_until(
        lambda: hass.states.get("sensor.cam_0_state").state == "running",
        controller.async_add_listener,
    )
    # Removing the entry clears the retained discovery config.
    after = subscriber.messages[-1].seq
    assert await hass.config_entries.async_remove(entry.entry_id)
    await hass.async_block_till_done()
    cleared = await _wait(
        hass,
        subscriber,
        lambda m: m.topic == "homeassistant/device/nvr_inference_nvr/config",
        after,
    )
    assert cleared.payload == b""
    assert DOMAIN not in {e.domain for e in hass.config_entries.async_entries()}
    # ... and everything else it retained: a fresh subscriber to `#` finds nothing of it.
    fresh = await hass.async_add_executor_job(
        lambda: Subscriber(broker, ["#"], client_id="nvr-fresh")
    )
    try:
        await hass.async_add_executor_job(fresh.publish, "probe/end", b"end")
        await hass.async_add_executor_job(fresh.wait_for, lambda m: m.topic == "probe/end", 10)
        left = [m.topic for m in fresh.messages if m.retain and m.payload]
    finally:
        await hass.async_add_executor_job(fresh.close)
    assert [t for t in left if t.startswith("nvr/") or "nvr_inference" in t] == []


async def test_discovery_is_resent_when_home_assistant_comes_online(
    hass: HomeAssistant, subscriber: Subscriber, sample_video: Path
) -> None:
    entry = await _setup(hass, sample_video)
    topic = "homeassistant/device/nvr_inference_nvr/config"
    first = await _wait(hass, subscriber, lambda m: m.topic == topic)
    await hass.async_add_executor_job(subscriber.publish, "homeassistant/status", "online")
    again = await _wait(hass, subscriber, lambda m: m.topic == topic, first.seq)
    assert again.json() == first.json()
    await _unload(hass, entry)


async def test_home_assistant_stop_ends_every_pipeline_thread(
    hass: HomeAssistant, subscriber: Subscriber, sample_video: Path
) -> None:
    entry = await _setup(hass, sample_video, sources=2)
    await _wait(hass, subscriber, is_detection(1))
    controller = entry.runtime_data.controller
    hass.bus.async_fire(EVENT_HOMEASSISTANT_STOP)
    await hass.async_block_till_done()
    assert all(r.status.state is SourceState.STOPPED for r in controller.engine.runners.values())
    assert not [t for t in threading.enumerate() if t.name.startswith("nvr-control")]
    await _unload(hass, entry)


async def test_broker_down_entities_unavailable_but_a_pause_is_kept_and_honoured(
    hass: HomeAssistant, broker: Broker, sample_video: Path
) -> None:
    """Entities go unavailable, the pause switch does not: a pause set then is kept.

    It is saved at once, acknowledged when the broker is back, and the camera publishes
    nothing after that; the other camera flows again.
    """
    entry = await _setup(hass, sample_video, sources=2)
    controller = entry.runtime_data.controller
    switch = "switch.cam_1_pause_detections"
    await wait_until(
        lambda: hass.states.get("sensor.cam_1_state").state == "running",
        controller.async_add_listener,
    )
    await hass.async_add_executor_job(broker.stop)
    await wait_until(
        lambda: hass.states.get("sensor.cam_1_state").state == "unavailable",
        controller.async_add_listener,
    )
    assert hass.states.get(switch).state == "off"  # available: a pause is local state
    await hass.services.async_call("switch", "turn_on", {"entity_id": switch}, blocking=True)
    assert hass.states.get(switch).state == "on"
    assert controller.plane.pause_state.paused_sources == {1}  # saved before any ack
    await hass.async_add_executor_job(broker.restart)
    late = await hass.async_add_executor_job(Subscriber, broker, ["nvr/#"], "late")
    try:
        ack = await _wait(hass, late, is_status(lambda s: s["sources"]["1"]["paused"] is True))
        await _wait(hass, late, is_detection(0), ack.seq)  # the other camera flows again
        await _wait(hass, late, is_detection(0), ack.seq + 5)
        barrier = await _barrier(hass, late)
        assert late.count(is_detection(1), after=ack.seq, before=barrier) == 0
    finally:
        await hass.async_add_executor_job(late.close)
    await _unload(hass, entry)


async def test_snapshot_image_shows_detections_and_no_stale_frame_across_a_pause(
    hass: HomeAssistant, subscriber: Subscriber, sample_video: Path
) -> None:
    """A pause drops the snapshot; after the resume only a post-resume frame is shown."""
    entry = await _setup(hass, sample_video, detector="face")
    controller = entry.runtime_data.controller
    entity_id = "image.cam_0_snapshot"
    await wait_until(
        lambda: hass.states.get(entity_id).state not in ("unavailable", "unknown"),
        controller.async_add_listener,
    )
    picture = await async_get_image(hass, entity_id)
    assert picture.content_type == "image/jpeg"
    decoded = cv2.imdecode(np.frombuffer(picture.content, np.uint8), cv2.IMREAD_COLOR)
    assert decoded.shape == (480, 640, 3)

    await hass.services.async_call(
        "switch", "turn_on", {"entity_id": "switch.cam_0_pause_detections"}, blocking=True
    )
    assert hass.states.get(entity_id).state == "unavailable"  # no pre-pause frame as current
    await wait_until(
        lambda: controller.engine.runners[0].status.stream_paused, controller.async_add_listener
    )
    await _barrier(hass, subscriber)
    assert hass.states.get(entity_id).state == "unavailable"
    resumed_at = dt_util.utcnow()
    await hass.services.async_call(
        "switch", "turn_off", {"entity_id": "switch.cam_0_pause_detections"}, blocking=True
    )
    await wait_until(
        lambda: hass.states.get(entity_id).state not in ("unavailable", "unknown"),
        controller.async_add_listener,
    )
    _jpeg, captured = controller.feed.snapshots[0]
    assert captured > resumed_at  # a frame captured after the resume
    await _unload(hass, entry)


async def test_empty_payload_clears_a_retained_command_silently(
    hass: HomeAssistant, subscriber: Subscriber, sample_video: Path
) -> None:
    entry = await _setup(hass, sample_video)
    after = subscriber.messages[-1].seq
    await hass.async_add_executor_job(subscriber.publish, "nvr/control/commands", b"", True)
    barrier = await _barrier(hass, subscriber)
    assert (
        subscriber.count(lambda m: m.topic == "nvr/control/error", after=after, before=barrier) == 0
    )
    await _unload(hass, entry)


async def test_no_frame_stamped_before_a_resume_arrives_after_its_acknowledgement(
    hass: HomeAssistant, subscriber: Subscriber, busy_video: Path
) -> None:
    """An independent client judges frames by their timestamps: 200 pause/resume cycles."""
    entry = await _setup(hass, busy_video, sources=2)
    await _wait(hass, subscriber, is_detection())
    seen = await hass.async_add_executor_job(resume_cycles, subscriber, "nvr", 200)
    print(f"integration: {seen.checked} detections after {seen.cycles} resumes")  # noqa: T201
    assert seen.during_pause == 0
    assert seen.stamped_early == []
    assert seen.checked >= seen.cycles
    await _unload(hass, entry)
