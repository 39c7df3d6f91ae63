"""The fence under load, judged strictly in arrival order by subscribers at QoS 1 and QoS 0.

16 looping cameras at 30 fps with tracking on (the default) in a real worker subprocess, random
global and per-camera pause/resume cycles. Each independent subscriber judges every message in
the order it arrived against the last status it received: nothing of a source (detections,
events, event pictures, snapshots, counts) may arrive while that status says the source is
paused. Before one QoS for everything the fence orders, paho's and mosquitto's in-flight
windows let 7 to 10 detections a run overtake their acknowledgement (QoS 0 past QoS 1);
with the broker's window at one message (below), every run of this test failed that way.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
import json
import logging
from pathlib import Path
import random
import threading
import time
from typing import Any

import paho.mqtt.client as paho
import pytest

from custom_components.nvr_inference.engine.samples.sample_video import write_sample_video

from ..mqtt_helpers import Broker, Subscriber, run_broker
from ..worker.conftest import WorkerProcess, spawn_worker, status_of, worker_args  # noqa: F401

pytestmark = pytest.mark.pipeline
_LOGGER = logging.getLogger(__name__)

SOURCES = 16
CYCLES_FOR = 40.0
"""Seconds of pause/resume cycles (the whole test stays near a minute)."""
ACK_TIMEOUT = 10.0


@dataclass
class Judge:
    """One independent subscriber judging every message against the last status it saw."""

    qos: int
    paused: dict[int, bool] = field(default_factory=dict)  # from the last status
    judged: int = 0
    violations: list[str] = field(default_factory=list)
    _pictures: dict[str, set[int]] = field(default_factory=dict)  # event id -> paused then

    def take(self, topic: str, payload: bytes, retained: bool) -> None:
        parts = topic.split("/")
        if retained or len(parts) < 2:
            return  # what the broker kept from before: not a message of this run's order
        if parts[1:] == ["control", "status"]:
            body = json.loads(payload)
            self.paused = {int(s): v["paused"] for s, v in body["sources"].items()}
            return
        if not self.paused:
            return  # before the first status nothing is judged
        source = self._source_of(parts, payload)
        if source is None:
            return
        self.judged += 1
        if self.paused.get(source):
            self.violations.append(f"{topic} while source {source} was paused")

    def _source_of(self, parts: list[str], payload: bytes) -> int | None:
        if parts[1] in ("detections", "sources") and parts[2].isdigit():
            return int(parts[2])
        if parts[1] == "events" and len(parts) == 4:  # a picture: its event names the source
            self._pictures[parts[2]] = {s for s, p in self.paused.items() if p}
            return None
        if parts[1:] == ["events"]:
            after = json.loads(payload)["after"]
            source = int(after["source_id"])
            paused_then = self._pictures.pop(after["id"], None)
            if paused_then is not None and source in paused_then:
                self.violations.append(f"picture of {after['id']} while {source} was paused")
            return source
        return None


class Watch:
    """A paho client feeding a `Judge`, subscribed to everything at one QoS."""

    def __init__(self, broker: Broker, base: str, qos: int) -> None:
        self.judge = Judge(qos)
        self._lock = threading.Lock()
        self._subscribed = threading.Event()
        self.client = paho.Client(paho.CallbackAPIVersion.VERSION2, client_id=f"judge-qos{qos}")
        self.client.on_connect = lambda c, *_: c.subscribe(f"{base}/#", qos)
        self.client.on_subscribe = lambda *_: self._subscribed.set()
        self.client.on_message = self._on_message
        self.client.connect(broker.host, broker.port)
        self.client.loop_start()
        assert self._subscribed.wait(10)

    def _on_message(self, _c: Any, _u: Any, msg: paho.MQTTMessage) -> None:
        with self._lock:
            self.judge.take(msg.topic, bytes(msg.payload), bool(msg.retain))

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


@pytest.fixture
def broker(socket_enabled: None) -> Iterator[Broker]:
    """mosquitto with a per-subscriber window of one QoS-1 message (default 20).

    The window is where mixed QoS levels reorder towards a subscriber: a QoS-1 message waits
    for the previous one's PUBACK while QoS-0 messages pass. One message makes a slow consumer
    of a loaded home broker out of a fast local one; at one QoS level there is no window.
    """
    with run_broker("max_inflight_messages 1\n") as running:
        yield running


@pytest.fixture
def watches(broker: Broker) -> Iterator[list[Watch]]:
    made = [Watch(broker, "nvr", 1), Watch(broker, "nvr", 0)]
    yield made
    for watch in made:
        watch.close()


def test_nothing_overtakes_an_acknowledgement_under_load(
    broker: Broker,
    subscriber: Subscriber,
    spawn_worker: Any,  # noqa: F811
    watches: list[Watch],
    tmp_path: Path,
) -> None:
    video = write_sample_video(tmp_path / "load.avi", size=(320, 240), fps=30.0)
    worker: WorkerProcess = spawn_worker(*worker_args(broker, video, sources=SOURCES))
    subscriber.wait_for(status_of("nvr", lambda s: s["state"] == "running"), 60)
    rng = random.Random(20)
    gap = threading.Event()  # never set: a timer, not a synchronisation
    acks: list[float] = []
    deadline = time.monotonic() + CYCLES_FOR
    while time.monotonic() < deadline:
        target = rng.choice([None, *range(SOURCES)])
        for paused in (True, False):
            extra = {} if target is None else {"source_id": target}
            body = {"command": "pause" if paused else "resume"} | extra
            after = subscriber.messages[-1].seq
            sent = time.monotonic()
            subscriber.publish("nvr/control/commands", json.dumps(body))
            affected = range(SOURCES) if target is None else [target]

            def acknowledged(s: dict[str, Any], p: bool = paused, a: Any = affected) -> bool:
                return all(s["sources"][str(i)]["paused"] is p for i in a)

            subscriber.wait_for(status_of("nvr", acknowledged), ACK_TIMEOUT, after)
            acks.append(time.monotonic() - sent)
            gap.wait(rng.random() * 0.05)
    assert worker.process.poll() is None, worker.output()
    acks.sort()
    _LOGGER.warning(
        "ACKS n=%d p50=%.0f ms p99=%.0f ms; judged %s",
        len(acks),
        acks[len(acks) // 2] * 1e3,
        acks[int(len(acks) * 0.99)] * 1e3,
        [w.judge.judged for w in watches],
    )
    for watch in watches:
        judge = watch.judge
        assert judge.judged > 1000, f"QoS {judge.qos}: only {judge.judged} messages judged"
        assert judge.violations == [], f"QoS {judge.qos}: {judge.violations[:5]}"
