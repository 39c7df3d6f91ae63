"""The integration under load: the fence, the publish path and the event loop, measured.

Run with `benchmarks/run --load` (pytest drives it because Home Assistant needs the harness's
`hass`; the loop runs without asyncio's debug mode, as in production). Real parts: mosquitto,
Home Assistant's MQTT client, one InferencePipeline per source on a 30 fps camera (a looping
file paced in real time), the motion detector, and independent paho clients. Definitions of
every number are in `benchmarks/harness.py`. Nothing here asserts on time; the fence counts
(leaked, stale) are asserted, since a benchmark that measured a broken fence must not print.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
import os
from pathlib import Path
import socket
import threading
import time

from homeassistant.components.mqtt.models import DATA_MQTT
from homeassistant.core import HomeAssistant
import pytest

from benchmarks.harness import (
    LOAD_FPS,
    LOAD_SIZE,
    ArrivalCounter,
    FrameClock,
    Watcher,
    drive_cycles,
    load_result,
    raw_paho_throughput,
    raw_probe,
    summary_ms,
    write_results,
)
from custom_components.nvr_inference.bridge import LoopBridge
from custom_components.nvr_inference.engine.contract.messages import Detection, DetectionMessage
from custom_components.nvr_inference.engine.fence.gate import PauseGate
from custom_components.nvr_inference.engine.fence.publisher import FencedPublisher
from custom_components.nvr_inference.hass_mqtt import HassTransport
from tests.integration.conftest import setup_nvr_entry, wait_subscriptions
from tests.mqtt_helpers import Broker

CYCLES = int(os.environ.get("NVR_BENCH_CYCLES", "1000"))
GRID = [int(n) for n in os.environ.get("NVR_BENCH_SOURCES", "1,4,16").split(",")]
BURST = 640 * 32  # messages in the throughput run (whole chunks)
CHUNK = 32  # offered at once, then the next when published: under the client backlog bound (64)


async def _loop_lag(samples: list[float], stop: asyncio.Event, interval: float = 0.05) -> None:
    """Sleep `interval` again and again; how late each wake-up comes is the loop's lag."""
    loop = asyncio.get_running_loop()
    while not stop.is_set():
        started = loop.time()
        await asyncio.sleep(interval)
        samples.append(loop.time() - started - interval)


def _params() -> list[tuple[int, bool, bool]]:
    """(sources, broker TCP_NODELAY, HA's socket TCP_NODELAY).

    Every grid size on the broker as shipped; then 4 sources with Nagle off at the broker; then
    also on Home Assistant's own MQTT socket. That last one is set by this benchmark, not by the
    integration (the socket belongs to the MQTT integration): it measures what an upstream
    change would buy.
    """
    return [(n, False, False) for n in GRID] + [(4, True, False), (4, True, True)]


def _nodelay_on_home_assistant_socket(hass: HomeAssistant) -> None:
    """Turn Nagle off on HA's MQTT client socket (measurement only; see `_params`)."""
    sock = hass.data[DATA_MQTT].client._mqttc.socket()  # noqa: SLF001
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)


@pytest.mark.usefixtures("enable_custom_integrations", "mqtt_entry")
@pytest.mark.parametrize(
    ("sources", "broker", "ha_nodelay"),
    _params(),
    indirect=["broker"],
    ids=lambda v: ("nodelay" if v else "default") if isinstance(v, bool) else f"{v}src",
)
async def test_fence_under_load(
    hass: HomeAssistant, broker: Broker, load_video: Path, sources: int, ha_nodelay: bool
) -> None:
    assert not hass.loop.get_debug()
    if ha_nodelay:
        _nodelay_on_home_assistant_socket(hass)
    clock = FrameClock()
    with clock.instrument():
        entry = await setup_nvr_entry(hass, load_video, sources=sources)
    await wait_subscriptions(hass)
    run = hass.async_add_executor_job
    ids = list(range(sources))
    watcher = await run(Watcher, broker.host, broker.port, "nvr", clock)
    lag: list[float] = []
    stop = asyncio.Event()
    try:
        await run(watcher.wait_sources, ids)
        await run(watcher.wait_detections, 10 * sources)
        monitor = hass.async_create_background_task(_loop_lag(lag, stop), "bench loop lag")
        with raw_probe(broker.host, broker.port, watcher):
            cycles = await run(drive_cycles, watcher, ids, CYCLES, 1000 + sources)
        stop.set()
        await monitor
    finally:
        await run(watcher.close)
    assert await hass.config_entries.async_unload(entry.entry_id)
    await hass.async_block_till_done()
    nodelay = bool(getattr(broker, "nodelay", False))
    result = load_result(
        watcher,
        cycles,
        sources,
        LOAD_FPS,
        {
            "host": "integration",
            "frame_size": f"{LOAD_SIZE[0]}x{LOAD_SIZE[1]}",
            "broker_tcp_nodelay": nodelay,
            "ha_socket_tcp_nodelay": ha_nodelay,
            "loop_lag": summary_ms(lag),
        },
    )
    setting = ("nodelay" if nodelay else "default") + ("_ha_nodelay" if ha_nodelay else "")
    write_results("load", f"integration_{sources}src_{setting}", result)
    print("\nLOAD", result)
    assert result["leaked_after_ack"] == 0, result["leak_examples"]
    assert result["stale_after_resume"] == 0


def _message(frame_id: int) -> DetectionMessage:
    box = Detection("motion", 0, 0.9, 160.0, 120.0, 40.0, 30.0)
    return DetectionMessage(
        source_id=0,
        frame_id=frame_id,
        frame_timestamp=datetime.now(UTC),
        model_id="builtin/motion",
        image_width=320,
        image_height=240,
        detections=(box, box),
    )


@pytest.mark.usefixtures("mqtt_entry")
@pytest.mark.parametrize("broker", [False], indirect=True, ids=["default"])
async def test_publish_throughput(hass: HomeAssistant, broker: Broker) -> None:
    """Sustained detections/s through the bridge and HA's client, vs a raw paho loop."""
    assert not hass.loop.get_debug()
    run = hass.async_add_executor_job
    messages = [_message(i + 1) for i in range(BURST)]
    payloads = [m.to_json() for m in messages]
    raw_rate, raw_received = await run(
        raw_paho_throughput, broker.host, broker.port, payloads, "bench/burst"
    )
    published = threading.Condition()
    done = [0]

    def on_published(_message: DetectionMessage) -> None:
        done[0] += 1
        if done[0] % CHUNK == 0:
            with published:
                published.notify_all()

    gate = PauseGate([0])
    publisher = FencedPublisher(gate, HassTransport(hass), "nvr", on_published)
    bridge = LoopBridge(hass, publisher, lambda _s: None)
    counter = await run(ArrivalCounter, broker.host, broker.port, "nvr/detections/#")

    def offer() -> float:
        """Offer chunks as fast as the loop takes them (the bridge never has to drop)."""
        started = time.perf_counter()
        for first in range(0, BURST, CHUNK):
            for message in messages[first : first + CHUNK]:
                bridge.deliver(message)
            # Published, or dropped over the client's backlog bound (which never notifies):
            # wait for either, in short waits, so the benchmark measures what the bound allows.
            deadline = time.monotonic() + 30
            while done[0] + publisher.backlog_dropped < first + CHUNK:
                if time.monotonic() > deadline:
                    raise TimeoutError(
                        f"the loop stopped publishing: {done[0]} published, {publisher.refused}"
                        f" refused, {publisher.offline} offline, {bridge.dropped} dropped,"
                        f" {publisher.backlog_dropped} over the backlog bound"
                    )
                with published:
                    published.wait(0.05)
        return time.perf_counter() - started

    try:
        offered_s = await run(offer)
        await hass.async_block_till_done()  # the last drain and publish tasks
        await run(counter.wait_count, publisher.published, 60)
        ha_rate, ha_received = counter.rate(), counter.count
    finally:
        bridge.close()
        await run(counter.close)
    result = {
        "messages_offered": BURST,
        "ha_published_per_s": round(BURST / offered_s),
        "ha_received": ha_received,
        "ha_dropped_by_bridge": bridge.dropped,
        "ha_dropped_over_backlog": publisher.backlog_dropped,
        "ha_received_per_s": round(ha_rate),
        "raw_paho_received": raw_received,
        "raw_paho_received_per_s": round(raw_rate),
        "ha_vs_raw": round(ha_rate / raw_rate, 2),
        "payload_bytes": len(payloads[0]),
    }
    write_results("load", "publish_throughput", result)
    print("\nTHROUGHPUT", result)
