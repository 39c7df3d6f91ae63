"""The broker dies while detections are paused: after it returns, the pause still holds."""

from __future__ import annotations

from pathlib import Path

from homeassistant.components import mqtt
from homeassistant.core import HomeAssistant
import pytest

from ..integration.conftest import (
    on_mqtt_connection,
    setup_nvr_entry,
    wait_subscriptions,
    wait_until,
)
from ..mqtt_helpers import Broker, Subscriber, is_detection, is_status

pytestmark = [
    pytest.mark.pipeline,
    pytest.mark.usefixtures("enable_custom_integrations", "mqtt_entry"),
]


async def test_nothing_paused_is_sent_after_the_broker_returns(
    hass: HomeAssistant, broker: Broker, sample_video: Path
) -> None:
    entry = await setup_nvr_entry(hass, sample_video, sources=2)
    await wait_subscriptions(hass)
    controller = entry.runtime_data.controller
    run = hass.async_add_executor_job
    await hass.services.async_call(
        "switch", "turn_on", {"entity_id": "switch.cam_1_pause_detections"}, blocking=True
    )
    await run(broker.stop)
    await wait_until(lambda: not mqtt.is_connected(hass), on_mqtt_connection(hass))
    published_before = controller.publisher.published
    await run(broker.restart)
    await wait_until(lambda: mqtt.is_connected(hass), on_mqtt_connection(hass), 60)
    await wait_subscriptions(hass)

    watcher = await run(Subscriber, broker, ["nvr/#"], "after-restart")
    try:
        # The announce after reconnecting re-publishes the retained status: still paused.
        await run(watcher.wait_for, is_status(lambda s: s["sources"]["1"]["paused"] is True), 30)
        flowing = await run(watcher.wait_for, is_detection(0), 30)  # the other source is back
        await run(watcher.publish, "nvr/control/commands", '{"command": "status"}')
        barrier = await run(watcher.wait_for, is_status(lambda _s: True), 30, flowing.seq)
        assert watcher.count(is_detection(1), before=barrier.seq) == 0
    finally:
        await run(watcher.close)
    # Frames kept arriving while the broker was away, and none was queued for later.
    assert controller.publisher.offline > 0 or controller.publisher.published > published_before
    assert controller.gate.snapshot().sources[1] is True
    assert await hass.config_entries.async_unload(entry.entry_id)
