"""The integration over a long run: RSS and threads of the Home Assistant process per hour.

Run with `benchmarks/run` (part `soak`; `NVR_SOAK_MINUTES`, default 10). Four cameras at 30 fps
(320x240, motion) publish through Home Assistant's MQTT client to mosquitto while this samples
the process every 10 s: RSS, OS threads, detections received by an independent client, what the
bridge dropped. The process is the test harness's, so its baseline includes pytest; what counts
is the slope after the warm-up (see `harness.growth_summary`).
"""

from __future__ import annotations

import asyncio
import os
from pathlib import Path
import time

from homeassistant.core import HomeAssistant
import psutil
import pytest

from benchmarks.harness import LOAD_FPS, LOAD_SIZE, ArrivalCounter, growth_summary, write_results
from tests.integration.conftest import setup_nvr_entry
from tests.mqtt_helpers import Broker

MINUTES = float(os.environ.get("NVR_SOAK_MINUTES", "10"))
INTERVAL = 10.0
SOURCES = 4


@pytest.mark.usefixtures("enable_custom_integrations", "mqtt_entry")
@pytest.mark.parametrize("broker", [False], indirect=True, ids=["default"])
async def test_soak(hass: HomeAssistant, broker: Broker, load_video: Path) -> None:
    assert not hass.loop.get_debug()
    run = hass.async_add_executor_job
    counter = await run(ArrivalCounter, broker.host, broker.port, "nvr/detections/#")
    entry = await setup_nvr_entry(hass, load_video, sources=SOURCES)
    bridge = entry.runtime_data.controller.bridge
    process = psutil.Process()
    duration = MINUTES * 60
    samples: list[dict[str, float]] = []
    try:
        assert await run(counter.wait_count, 10 * SOURCES, 60), "no detections"
        started = time.monotonic()
        received = counter.count
        while time.monotonic() - started < duration:
            await asyncio.sleep(INTERVAL)  # the sampling period, not a synchronisation
            now = counter.count
            samples.append(
                {
                    "t_s": round(time.monotonic() - started, 1),
                    "rss_mb": process.memory_info().rss / 2**20,
                    "threads": process.num_threads(),
                    "detections_per_s": (now - received) / INTERVAL,
                    "bridge_dropped": bridge.dropped,
                }
            )
            received = now
    finally:
        assert await hass.config_entries.async_unload(entry.entry_id)
        await hass.async_block_till_done()
        await run(counter.close)
    rates = [s["detections_per_s"] for s in samples]
    result = {
        "host": "integration",
        "sources": SOURCES,
        "fps_per_source": LOAD_FPS,
        "frame_size": f"{LOAD_SIZE[0]}x{LOAD_SIZE[1]}",
        "duration_s": round(duration),
        "warmup_dropped_s": round(min(120.0, 0.2 * duration)),
        "detections_per_s_mean": round(sum(rates) / len(rates), 1),
        "detections_per_s_min_interval": round(min(rates), 1),
        "bridge_dropped": bridge.dropped,
    } | growth_summary(samples, min(120.0, 0.2 * duration))
    write_results("soak", "integration", result | {"samples": samples})
    print("\nSOAK", result)
    assert min(rates) > 0, "detections stopped during the soak"
