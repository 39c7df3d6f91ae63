"""The loop bridge: bursts from pipeline threads coalesce into few loop wake-ups, bounded."""

from __future__ import annotations

from datetime import UTC, datetime
import threading
from unittest.mock import patch

from homeassistant.core import HomeAssistant

from custom_components.nvr_inference import bridge as bridge_module
from custom_components.nvr_inference.bridge import MAX_PENDING, LoopBridge
from custom_components.nvr_inference.engine.gate import PauseGate
from custom_components.nvr_inference.engine.messages import Detection, DetectionMessage


def _message(frame_id: int) -> DetectionMessage:
    det = Detection("face", 0, 0.9, 10, 10, 5, 5)
    return DetectionMessage(0, frame_id, datetime.now(UTC), "face", 640, 480, (det,))


async def test_a_burst_wakes_the_loop_a_few_times_and_stays_bounded(hass: HomeAssistant) -> None:
    gate = PauseGate([0])
    published: list[int] = []
    bridge = LoopBridge(hass, gate, "nvr", lambda _s: None, lambda m: published.append(m.frame_id))
    drains = 0
    original = bridge._drain

    def counting_drain() -> None:
        nonlocal drains
        drains += 1
        original()

    bridge._drain = counting_drain  # type: ignore[method-assign]
    burst = 5 * MAX_PENDING

    def camera() -> None:  # a pipeline thread delivering far faster than the loop drains
        for frame_id in range(1, burst + 1):
            gate.note_captured(0, frame_id)
            bridge.deliver(_message(frame_id))

    with (
        patch.object(bridge_module.mqtt, "is_connected", return_value=True),
        patch.object(bridge_module.mqtt, "async_publish", autospec=True),
    ):
        worker = threading.Thread(target=camera)
        worker.start()
        worker.join()  # on purpose on the loop: a busy loop while the camera bursts
        await hass.async_block_till_done()
    assert drains == 1  # the whole burst cost the loop one wake-up
    assert bridge.dropped == burst - MAX_PENDING  # bounded: the oldest were dropped
    assert published == list(range(burst - MAX_PENDING + 1, burst + 1))  # the newest kept


async def test_the_loop_refuses_what_the_gate_closed_after_delivery(hass: HomeAssistant) -> None:
    gate = PauseGate([0])
    published: list[int] = []
    bridge = LoopBridge(hass, gate, "nvr", lambda _s: None, lambda m: published.append(m.frame_id))
    with (
        patch.object(bridge_module.mqtt, "is_connected", return_value=True),
        patch.object(bridge_module.mqtt, "async_publish", autospec=True) as publish,
    ):
        gate.note_captured(0, 1)
        bridge.deliver(_message(1))  # queued while open...
        gate.pause()  # ...paused on the loop before the drain runs
        await hass.async_block_till_done()
    assert published == []
    assert publish.call_count == 0
    assert bridge.refused == 1
