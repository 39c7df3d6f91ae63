"""End-to-end pause benchmark: real Home Assistant MQTT client, mosquitto, pipeline, paho.

Run with `benchmarks/run --e2e` (pytest drives it because Home Assistant needs the harness's
`hass`; nothing here asserts on time). For each cycle an independent paho client publishes a
pause command, waits for the retained status saying paused (the acknowledgement), fences with a
status request, counts detections that arrived between the acknowledgement and the fence (must
be 0), then resumes. Prints the ack latency percentiles and the leak count; writes JSON.
"""

from __future__ import annotations

import json
from pathlib import Path
import random
import statistics
import time

from homeassistant.core import HomeAssistant
import pytest

from benchmarks.harness import percentile
from tests.integration.conftest import setup_nvr_entry, wait_subscriptions
from tests.mqtt_helpers import Broker, Subscriber, is_detection, is_status

CYCLES = int(__import__("os").environ.get("NVR_BENCH_CYCLES", "100"))
OUT = Path("benchmarks/results/e2e.json")


@pytest.mark.usefixtures("enable_custom_integrations", "mqtt_entry")
async def test_pause_ack_latency(
    hass: HomeAssistant, subscriber: Subscriber, sample_video: Path, broker: Broker
) -> None:
    entry = await setup_nvr_entry(hass, sample_video, sources=2)
    await wait_subscriptions(hass)
    run = hass.async_add_executor_job
    await run(subscriber.wait_for, is_detection(), 30)
    # A throwaway round trip first: the first message on a new connection is slow (TCP).
    await run(subscriber.publish, "nvr/control/commands", '{"command": "status"}')
    rng = random.Random(3)
    latencies: list[float] = []
    leaked = 0
    for _ in range(CYCLES):
        target = rng.choice([None, 0, 1])
        command = {"command": "pause"} | ({} if target is None else {"source_id": target})
        after = subscriber.messages[-1].seq
        sent = time.perf_counter()
        await run(subscriber.publish, "nvr/control/commands", json.dumps(command))

        def acked(s: dict, t: int | None = target) -> bool:
            return s["paused"] if t is None else s["sources"][str(t)]["paused_by_source"]

        ack = await run(subscriber.wait_for, is_status(acked), 10, after)
        latencies.append((time.perf_counter() - sent) * 1000)
        await run(subscriber.publish, "nvr/control/commands", '{"command": "status"}')
        fence = await run(subscriber.wait_for, is_status(lambda _s: True), 10, ack.seq)
        leaked += subscriber.count(is_detection(target), after=ack.seq, before=fence.seq)
        resume = {"command": "resume"} | ({} if target is None else {"source_id": target})
        await run(subscriber.publish, "nvr/control/commands", json.dumps(resume))
        await run(
            subscriber.wait_for, is_status(lambda s, t=target: not acked(s, t)), 10, fence.seq
        )
        await run(subscriber.wait_for, is_detection(), 10, fence.seq)  # flowing again
    assert await hass.config_entries.async_unload(entry.entry_id)
    nodelay = bool(getattr(broker, "nodelay", False))
    result = {
        "broker_tcp_nodelay": nodelay,
        "cycles": CYCLES,
        "ack_ms_p50": round(statistics.median(latencies), 2),
        "ack_ms_p99": round(percentile(latencies, 0.99), 2),
        "ack_ms_max": round(max(latencies), 2),
        "detections_after_ack": leaked,
        "detections_total": subscriber.count(is_detection()),
    }
    OUT.parent.mkdir(parents=True, exist_ok=True)
    previous = json.loads(OUT.read_text()) if OUT.exists() else {}
    previous["broker_nodelay" if nodelay else "broker_default"] = result
    OUT.write_text(json.dumps(previous, indent=2))
    print("\nE2E", json.dumps(result))
