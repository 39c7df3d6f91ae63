"""Two workers with the same name on one machine: the second is refused, the first never notices."""

from __future__ import annotations

from collections.abc import Callable
import json
from pathlib import Path
import time

import pytest

from ..mqtt_helpers import Broker, Subscriber
from .conftest import (
    WorkerProcess,
    detection_of,
    is_availability,
    last_seq,
    on_topic,
    status_of,
    worker_args,
)

pytestmark = pytest.mark.pipeline

Spawn = Callable[..., WorkerProcess]


def test_a_second_worker_of_the_same_name_exits_2_and_the_first_keeps_publishing(
    spawn_worker: Spawn, broker: Broker, subscriber: Subscriber, sample_video: Path
) -> None:
    first = spawn_worker(*worker_args(broker, sample_video, name="porch"))
    subscriber.wait_for(status_of("nvr", lambda s: s["state"] == "running"), 60)
    online = subscriber.wait_for(is_availability("nvr", "online"))
    subscriber.wait_for(detection_of("nvr", 0), 30)

    started = time.monotonic()
    second = spawn_worker(*worker_args(broker, sample_video, name="porch"))
    code = second.process.wait(30)
    took = time.monotonic() - started
    assert code == 2, second.output()
    assert took < 5.0, f"the second worker took {took:.1f} s to give up"
    lines = [line for line in second.stderr.read_text().splitlines() if line.strip()]
    assert len(lines) == 1, lines
    assert lines[0].startswith("nvr-inference: error: a worker named 'porch' is already running")
    assert f"pid {first.process.pid} on " in lines[0]

    # The first kept its connection: it still runs, nothing was said on its availability
    # since its `online` (no last will, no second `online`), and its detections keep coming.
    after = last_seq(subscriber)
    subscriber.wait_for(detection_of("nvr", 0), 30, after)
    subscriber.wait_for(detection_of("nvr", 0), 30, last_seq(subscriber))
    assert first.process.poll() is None
    assert subscriber.count(on_topic("nvr/availability"), after=online.seq) == 0
    assert "Lost the connection" not in first.output()
    assert first.stop()[0] == 0
    lock = json.loads(next((Path(first.stderr).parent / "state").rglob("*.lock")).read_text())
    assert lock["pid"] == first.process.pid
