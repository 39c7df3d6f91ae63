"""The loop bridge: bursts from pipeline threads coalesce into few loop wake-ups, bounded."""

from __future__ import annotations

from datetime import UTC, datetime
import threading

from homeassistant.core import HomeAssistant

from custom_components.nvr_inference.bridge import MAX_PENDING, LoopBridge
from custom_components.nvr_inference.engine.contract.messages import Detection, DetectionMessage
from custom_components.nvr_inference.engine.fence.gate import PauseGate
from custom_components.nvr_inference.engine.fence.publisher import FencedPublisher

from ..conftest import CallbackTransport


def _message(frame_id: int) -> DetectionMessage:
    det = Detection("face", 0, 0.9, 10, 10, 5, 5)
    return DetectionMessage(0, frame_id, datetime.now(UTC), "face", 640, 480, (det,))


async def test_a_burst_wakes_the_loop_a_few_times_and_stays_bounded(hass: HomeAssistant) -> None:
    published: list[int] = []
    bridge = LoopBridge(hass, lambda m: published.append(m.frame_id), lambda _s: None)
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
            bridge.deliver(_message(frame_id))

    worker = threading.Thread(target=camera)
    worker.start()
    worker.join()  # on purpose on the loop: a busy loop while the camera bursts
    await hass.async_block_till_done()
    assert drains == 1  # the whole burst cost the loop one wake-up
    assert bridge.dropped == burst - MAX_PENDING  # bounded: the oldest were dropped
    assert published == list(range(burst - MAX_PENDING + 1, burst + 1))  # the newest kept


async def test_the_loop_refuses_what_the_gate_closed_after_delivery(hass: HomeAssistant) -> None:
    gate = PauseGate([0])
    sent: list[str] = []
    publisher = FencedPublisher(gate, CallbackTransport(lambda topic, _p: sent.append(topic)))
    bridge = LoopBridge(hass, publisher, lambda _s: None)
    gate.note_captured(0, 1)
    bridge.deliver(_message(1))  # queued while open...
    gate.pause()  # ...paused on the loop before the drain runs
    await hass.async_block_till_done()
    assert sent == []
    assert publisher.refused == 1
    gate.resume()
    gate.note_captured(0, 2)
    bridge.deliver(_message(2))
    await hass.async_block_till_done()
    assert sent == ["nvr/detections/0"]
