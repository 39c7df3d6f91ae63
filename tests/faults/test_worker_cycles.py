"""Many start/stop cycles of the standalone worker, in this process, leave nothing behind."""

from __future__ import annotations

import gc
from pathlib import Path
import statistics
import threading
import weakref

import psutil
import pytest

from custom_components.nvr_inference.engine.config.worker_settings import (
    MqttSettings,
    WorkerSettings,
)
from custom_components.nvr_inference.engine.detect.spec import parse_detector
from custom_components.nvr_inference.engine.video.sources import SourceConfig
from custom_components.nvr_inference.engine.worker.service import Worker

from ..mqtt_helpers import Broker, Received, Subscriber
from ..worker.conftest import (
    availability,
    detection_of,
    is_availability,
    retained,
    status_of,
)

pytestmark = pytest.mark.pipeline

CYCLES = 50
RSS_GROWTH_BOUND_MB = 32
"""Allowed difference between the median RSS of the first and the last ten of 50 cycles.

Measured: no Python object of a stopped worker survives (checked below with weak references;
tracemalloc between cycles 15 and 45 finds +120 kB, all of it the messages the test's own
subscriber records), and no thread or file descriptor is left. RSS climbs over the first cycles
(60 MB over seven in a bare interpreter), then holds, creeping 0.1 MB per ten cycles (those
recorded messages, mostly) with an occasional step of about 4 MB: glibc's per-thread malloc arenas
taking frame buffers. The median difference measured 0.9, 4.7 and 7.5 MB with this test
alone and 0.1 MB after the rest of tests/faults. With MALLOC_ARENA_MAX=2 RSS wanders instead
(262 to 292 MB from cycle to cycle) and the difference measured 19 MB. 32 MB still catches a
native leak of 0.8 MB per cycle, less than one 640x480 frame.
"""
WARM_UP = 8
BASE = "nvr"
PIPELINE_THREADS = (
    "nvr-control",
    "_execute_inference",
    "_dispatch_inference_results",
    "_consume_video",
)


def _settings(broker: Broker, video: Path, state_file: Path) -> WorkerSettings:
    """Two looping copies of the sample scene, the motion detector, one stable name."""
    return WorkerSettings(
        name="cycles",
        mqtt=MqttSettings(host=broker.host, port=broker.port),
        base_topic=BASE,
        sources=tuple(SourceConfig(i, str(video), name=f"Cam {i}", loop=True) for i in (0, 1)),
        detector=parse_detector("motion"),
        state_file=state_file,
    )


def _worker_threads(settings: WorkerSettings) -> list[str]:
    """Threads a worker starts: the pipelines', its status refresher, its paho clients'."""
    paho = f"paho-mqtt-client-{settings.node}"  # also the `_start` side client's
    return sorted(
        t.name
        for t in threading.enumerate()
        if any(n in t.name for n in PIPELINE_THREADS)
        or t.name == "nvr-worker-status"
        or t.name.startswith(paho)
    )


def _stopped(m: Received) -> bool:
    return status_of(BASE, lambda s: s.get("state") == "stopped")(m)


def _offline(m: Received) -> bool:
    return is_availability(BASE, "offline")(m)


def _cycle(
    settings: WorkerSettings, subscriber: Subscriber, after: int
) -> tuple[weakref.ref[Worker], int]:
    """Start a fresh worker, see one of its detections, stop it; return a weak ref and a mark.

    The mark is the sequence number of the worker's last message at the subscriber: its final
    status and `offline` follow, on the same connection, every detection it handed to paho, so
    a detection after the mark comes from the next worker.
    """
    worker = Worker(settings)
    worker.connect()
    try:
        worker.restore_pause()
        worker.start()
        for source_id in (0, 1):  # a message of each: both pipelines have all their threads
            subscriber.wait_for(detection_of(BASE, source_id), 30, after)
        running = _worker_threads(settings)
    finally:
        worker.stop()
    # Both pipelines, the status refresher and paho's network thread: the names match.
    assert len(running) == 2 * len(PIPELINE_THREADS) + 2, running
    assert _worker_threads(settings) == []  # stop() joined every one of them
    stopped = subscriber.wait_for(_stopped, 10, after)
    offline = subscriber.wait_for(_offline, 10, after)
    return weakref.ref(worker), max(stopped.seq, offline.seq)


def test_fifty_worker_cycles_leak_no_thread_and_little_memory(
    broker: Broker, subscriber: Subscriber, sample_video: Path, tmp_path: Path
) -> None:
    settings = _settings(broker, sample_video, tmp_path / "state.json")
    process = psutil.Process()
    mark = -1
    for _ in range(WARM_UP):  # past the allocator's plateau (see RSS_GROWTH_BOUND_MB)
        _, mark = _cycle(settings, subscriber, mark)
    gc.collect()
    threads_before = set(threading.enumerate())
    native_threads_before = process.num_threads()  # also threads OpenCV or FFmpeg start
    fds_before = process.num_fds()
    workers: list[weakref.ref[Worker]] = []
    rss_mb: list[float] = []
    for _ in range(CYCLES):
        ref, mark = _cycle(settings, subscriber, mark)
        workers.append(ref)
        gc.collect()
        assert ref() is None  # nothing keeps a stopped worker alive
        threads = set(threading.enumerate())
        assert threads == threads_before, threads ^ threads_before
        assert process.num_threads() == native_threads_before
        assert process.num_fds() == fds_before  # sockets, the video files
        rss_mb.append(process.memory_info().rss / 2**20)
    assert [ref for ref in workers if ref() is not None] == []
    growth = statistics.median(rss_mb[-10:]) - statistics.median(rss_mb[:10])
    assert growth < RSS_GROWTH_BOUND_MB, f"median RSS grew {growth:.1f} MB over {CYCLES} cycles"
    # What a consumer connecting now is told: the worker is gone, and stopped on purpose.
    final = retained(broker, [f"{BASE}/availability", f"{BASE}/control/status"])
    assert availability(final[f"{BASE}/availability"]) == "offline"
    assert final[f"{BASE}/control/status"].json()["state"] == "stopped"
