"""The worker's pause survives everything: restarts, a broker that forgot, a damaged state file.

Real worker subprocesses, a real mosquitto (no persistence, as shipped), an independent client.
The state file is the memory; the broker's retained status is only the fallback for a worker
with no state file yet; a state file that cannot be read starts everything paused.
"""

from __future__ import annotations

from collections.abc import Callable
import json
from pathlib import Path

import pytest

from custom_components.nvr_inference.engine.contract.host import (
    HostInfo,
    HostKind,
)

from ..mqtt_helpers import Broker, FakeHost, Subscriber, resume_cycles
from .conftest import (
    WorkerProcess,
    barrier,
    command,
    detection_of,
    last_seq,
    status_of,
    worker_args,
)

pytestmark = pytest.mark.pipeline

Spawn = Callable[..., WorkerProcess]
STATE = "nvr_worker_test.json"


def _pause_source_1_and_stop(
    spawn_worker: Spawn, broker: Broker, sub: Subscriber, video: Path
) -> None:
    worker = spawn_worker(*worker_args(broker, video, sources=2))
    sub.wait_for(detection_of("nvr", 1), 60)
    after = last_seq(sub)
    command(sub, "nvr", '{"command": "pause", "source_id": 1}')
    sub.wait_for(status_of("nvr", lambda s: s["sources"]["1"]["paused_by_source"]), 30, after)
    code, _seconds = worker.stop()
    assert code == 0


def _assert_source_1_stays_paused(sub: Subscriber, after: int, reason: str) -> None:
    restored = sub.wait_for(status_of("nvr", lambda s: s["reason"] == reason), 60, after)
    assert restored.json()["sources"]["1"]["paused_by_source"] is True
    assert restored.json()["paused"] is False
    sub.wait_for(detection_of("nvr", 0), 60, after)  # the other source runs
    sub.wait_for(detection_of("nvr", 0), 60, sub.messages[-1].seq)
    fence = barrier(sub, "nvr")
    assert sub.count(detection_of("nvr", 1), after=after, before=fence) == 0


def test_pause_survives_a_restart_through_the_state_file(
    spawn_worker: Spawn, broker: Broker, subscriber: Subscriber, sample_video: Path, tmp_path: Path
) -> None:
    _pause_source_1_and_stop(spawn_worker, broker, subscriber, sample_video)
    saved = json.loads((tmp_path / "state" / "nvr-inference" / STATE).read_text())
    assert saved == {"format": 1, "paused": False, "paused_sources": [1]}
    after = last_seq(subscriber)
    spawn_worker(*worker_args(broker, sample_video, sources=2))
    _assert_source_1_stays_paused(subscriber, after, "restored")


def test_pause_survives_a_restart_when_the_broker_forgot_the_retained_status(
    spawn_worker: Spawn, broker: Broker, subscriber: Subscriber, sample_video: Path
) -> None:
    """mosquitto without persistence loses every retained message when it restarts."""
    _pause_source_1_and_stop(spawn_worker, broker, subscriber, sample_video)
    subscriber.close()
    broker.restart()
    watcher = Subscriber(broker, ["#"], client_id="nvr-after-broker-restart")
    try:
        spawn_worker(*worker_args(broker, sample_video, sources=2))
        _assert_source_1_stays_paused(watcher, -1, "restored")
    finally:
        watcher.close()


def test_no_state_file_yet_falls_back_to_the_retained_status(
    spawn_worker: Spawn, broker: Broker, subscriber: Subscriber, sample_video: Path, tmp_path: Path
) -> None:
    _pause_source_1_and_stop(spawn_worker, broker, subscriber, sample_video)
    (tmp_path / "state" / "nvr-inference" / STATE).unlink()
    after = last_seq(subscriber)
    worker = spawn_worker(*worker_args(broker, sample_video, sources=2))
    _assert_source_1_stays_paused(subscriber, after, "restored")
    assert "the pause comes from the retained status" in worker.output()


def test_a_damaged_state_file_starts_everything_paused(
    spawn_worker: Spawn, broker: Broker, subscriber: Subscriber, sample_video: Path, tmp_path: Path
) -> None:
    """Fail closed: the worker cannot know what was paused, so everything is."""
    state = tmp_path / "state" / "nvr-inference" / STATE
    state.parent.mkdir(parents=True)
    state.write_text('{"format": 1, "paused": "maybe"')
    worker = spawn_worker(*worker_args(broker, sample_video, sources=2))
    status = subscriber.wait_for(
        status_of("nvr", lambda s: s["reason"] == "store_error" and s["state"] == "paused"), 60
    )
    assert "not valid JSON" in status.json()["store_error"]
    assert str(state) in status.json()["store_error"]
    # Paused, streams stopped, nothing published; then a resume saves a good file again.
    subscriber.wait_for(
        status_of("nvr", lambda s: all(x["stream_paused"] for x in s["sources"].values())), 60
    )
    assert subscriber.count(detection_of("nvr")) == 0
    assert "starting with every source paused" in worker.output()
    after = last_seq(subscriber)
    command(subscriber, "nvr", '{"command": "resume"}')
    resumed = subscriber.wait_for(status_of("nvr", lambda s: s["paused"] is False), 30, after)
    assert resumed.json()["store_error"] is None
    assert json.loads(state.read_text()) == {"format": 1, "paused": False, "paused_sources": []}
    subscriber.wait_for(detection_of("nvr", 0), 60, resumed.seq)


def test_a_second_host_on_the_same_base_topic_is_refused(
    spawn_worker: Spawn, broker: Broker, subscriber: Subscriber, sample_video: Path
) -> None:
    first = spawn_worker(*worker_args(broker, sample_video, name="first"))
    subscriber.wait_for(status_of("nvr", lambda s: s["state"] == "running"), 60)
    second = spawn_worker(*worker_args(broker, sample_video, name="second"))
    assert second.process.wait(60) == 2
    stderr = second.stderr.read_text()
    assert "nvr-inference: error: the MQTT base topic 'nvr' is in use by another worker" in stderr
    assert "'first'" in stderr
    assert len([line for line in stderr.splitlines() if line.strip()]) == 1
    # The first one was not disturbed: its status and availability still stand.
    fence = barrier(subscriber, "nvr")
    assert subscriber.messages[fence].json()["host"]["name"] == "first"
    first.stop()
    # Once the first is offline, a worker of another name may take the topic over.
    third = spawn_worker(*worker_args(broker, sample_video, name="second"))
    subscriber.wait_for(
        status_of("nvr", lambda s: s["host"]["name"] == "second" and s["state"] == "running"), 60
    )
    third.stop()


def test_an_integration_on_the_same_base_topic_is_seen_too(
    spawn_worker: Spawn, broker: Broker, subscriber: Subscriber, sample_video: Path
) -> None:
    """The rule is the host's, not the program's: a live integration entry blocks a worker.

    Live: it refreshes its status (every second here, every `STATUS_INTERVAL` for real), well
    within the 25 s the worker listens for it (test_worker_stale_host.py: one that is silent).
    """
    ha = FakeHost(broker, HostInfo("ha:01JENTRY", HostKind.INTEGRATION, "Home NVR"), refresh=1.0)
    try:
        worker = spawn_worker(*worker_args(broker, sample_video))
        assert worker.process.wait(60) == 2
    finally:
        ha.close()
    assert "in use by another integration ('Home NVR'" in worker.stderr.read_text()


def test_no_frame_stamped_before_a_resume_arrives_after_its_acknowledgement(
    spawn_worker: Spawn, broker: Broker, subscriber: Subscriber, busy_video: Path
) -> None:
    """An independent client judges frames by their timestamps: 200 pause/resume cycles."""
    spawn_worker(*worker_args(broker, busy_video, sources=2))
    subscriber.wait_for(status_of("nvr", lambda s: s["state"] == "running"), 60)
    subscriber.wait_for(detection_of("nvr"), 60)
    seen = resume_cycles(subscriber, "nvr", 200)
    print(f"worker: {seen.checked} detections after {seen.cycles} resumes")  # noqa: T201
    assert seen.during_pause == 0
    assert seen.stamped_early == []
    assert seen.checked >= seen.cycles
