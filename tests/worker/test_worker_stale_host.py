"""A foreign `online` that never goes away: a silent one is taken over, a live one refused.

By the worker's start and by `--remove` alike. The worker in this process (its
`status_interval` sets the bound, `STALE_INTERVALS` of it, so a test waits a second instead of
25 s), a real mosquitto, and a stand-in for the other host (`FakeHost`) that left its retained
status and `online`, refreshes its status, or answers a `status` request. The check's waits
are events with timeouts; so are these tests'.
"""

from __future__ import annotations

from collections.abc import Iterator
import json
import logging
from pathlib import Path
import time

import pytest

from custom_components.nvr_inference.engine.config.worker_settings import (
    MqttSettings,
    WorkerSettings,
)
from custom_components.nvr_inference.engine.contract.host import (
    STALE_INTERVALS,
    HostInfo,
    HostKind,
)
from custom_components.nvr_inference.engine.detect.spec import parse_detector
from custom_components.nvr_inference.engine.errors import EngineError
from custom_components.nvr_inference.engine.video.sources import SourceConfig
from custom_components.nvr_inference.engine.worker.mqtt import START_CHECK_TIMEOUT
from custom_components.nvr_inference.engine.worker.removal import remove_worker
from custom_components.nvr_inference.engine.worker.service import BaseTopicInUseError, Worker

from ..mqtt_helpers import Broker, FakeHost, Subscriber
from .conftest import barrier, is_availability, retained, retained_everywhere, status_of

pytestmark = pytest.mark.pipeline

CRASHED = HostInfo("ha:01JCRASHED", HostKind.INTEGRATION, "Home NVR")


def _settings(broker: Broker, video: Path, tmp_path: Path, interval: float) -> WorkerSettings:
    return WorkerSettings(
        name="taker",
        mqtt=MqttSettings(host=broker.host, port=broker.port),
        sources=(SourceConfig(0, str(video), name="Cam 0", loop=True),),
        detector=parse_detector("motion"),
        state_file=tmp_path / "taker.json",
        status_interval=interval,
    )


@pytest.fixture
def worker_for() -> Iterator[dict[str, Worker]]:
    """Workers made by a test, each stopped at teardown (stop is idempotent)."""
    made: dict[str, Worker] = {}
    yield made
    for worker in made.values():
        worker.stop()


def _connected(made: dict[str, Worker], settings: WorkerSettings) -> Worker:
    worker = made[settings.name] = Worker(settings)
    worker.connect()
    return worker


def test_a_silent_online_is_taken_over_with_a_warning(
    broker: Broker,
    subscriber: Subscriber,
    sample_video: Path,
    tmp_path: Path,
    worker_for: dict[str, Worker],
    caplog: pytest.LogCaptureFixture,
) -> None:
    FakeHost(broker, CRASHED).close()  # its status and `online` stay; nothing follows them
    settings = _settings(broker, sample_video, tmp_path, interval=0.4)
    bound = STALE_INTERVALS * settings.status_interval
    worker = _connected(worker_for, settings)
    started = time.monotonic()
    with caplog.at_level(logging.INFO):
        worker.restore_pause()  # does not raise: the topic is ours
    waited = time.monotonic() - started
    assert bound <= waited < bound + START_CHECK_TIMEOUT
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1, warnings
    assert f"another integration ('Home NVR', id {CRASHED.id})" in warnings[0]
    assert "stopped without its last will" in warnings[0]

    after = subscriber.messages[-1].seq
    worker.start()
    subscriber.wait_for(is_availability("nvr", "online"), 30, after)
    subscriber.wait_for(status_of("nvr", lambda s: s["host"]["name"] == "taker"), 30, after)
    # Ours replaced what was left: the broker now retains the worker's own.
    found = retained(broker, ["nvr/control/status", "nvr/availability"])
    assert json.loads(found["nvr/availability"].payload)["host"] == settings.host.id
    # The left-behind copy its own subscription got first is not "another host" (the barrier's
    # command reached the worker after that copy: paho hands messages over in order).
    barrier(subscriber, "nvr")
    assert worker.plane.foreign is None
    assert "Another host" not in caplog.text


def test_a_host_that_refreshes_its_status_is_live(
    broker: Broker, sample_video: Path, tmp_path: Path, worker_for: dict[str, Worker]
) -> None:
    """It does not answer requests: its periodic refresh alone shows it is live."""
    other = FakeHost(broker, CRASHED, refresh=0.2)
    try:
        worker = _connected(worker_for, _settings(broker, sample_video, tmp_path, interval=2.0))
        with pytest.raises(
            BaseTopicInUseError, match=r"in use by another integration \('Home NVR'"
        ):
            worker.restore_pause()
    finally:
        other.close()


def test_a_host_that_answers_the_status_request_is_live(
    broker: Broker, sample_video: Path, tmp_path: Path, worker_for: dict[str, Worker]
) -> None:
    """It never refreshes by itself (10 s away): the check asks, and its answer is enough."""
    other = FakeHost(broker, CRASHED, answer=True)
    try:
        worker = _connected(worker_for, _settings(broker, sample_video, tmp_path, interval=2.0))
        with pytest.raises(BaseTopicInUseError, match="in use by another integration"):
            worker.restore_pause()
        assert other.requests == 1
    finally:
        other.close()


def test_remove_takes_over_a_silent_online_and_clears_everything(
    broker: Broker,
    sample_video: Path,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """`--remove` after a crashed entry's `online` was left: nothing answers, so it all goes."""
    FakeHost(broker, CRASHED).close()
    settings = _settings(broker, sample_video, tmp_path, interval=0.4)
    with caplog.at_level(logging.WARNING):
        remove_worker(settings)
    assert not [t for t in retained_everywhere(broker) if t.startswith("nvr/")]
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1, warnings
    assert f"('Home NVR', id {CRASHED.id}) that said nothing" in warnings[0]


def test_remove_refuses_while_another_host_answers(
    broker: Broker, sample_video: Path, tmp_path: Path
) -> None:
    """A live host (it answers the status request) keeps its base topic: nothing is cleared."""
    other = FakeHost(broker, CRASHED, answer=True)
    try:
        settings = _settings(broker, sample_video, tmp_path, interval=2.0)
        with pytest.raises(EngineError, match=r"in use by another integration \('Home NVR'"):
            remove_worker(settings)
        assert other.requests == 1
        assert {"nvr/availability", "nvr/control/status"} <= set(retained_everywhere(broker))
    finally:
        other.close()
