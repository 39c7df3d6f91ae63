"""An event that ends while the broker is down: its `end` arrives first when the broker is back.

A real worker (the face detector on the looping sample scene: two faces on frames 10-99 of
every 13 s loop), a subscriber that saw the event's `new`. The broker is stopped while the face
is still in view; the face leaves and the event ends by expiry while the broker is away (the
worker's debug log says it kept the `end`). The broker restarts; the subscriber is back on it
before the worker, whose connection goes through a proxy the test opens only then (a restart
drops every client, and which reconnects first would be a race). The subscriber must see the
`end` of the event it saw begin, before the worker's fresh status and its `online`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
import threading
import time

import pytest

from ..mqtt_helpers import Broker, Received, Subscriber
from ..tcp_proxy import TcpProxy
from .conftest import WorkerProcess, is_availability, last_seq, on_topic, status_of, worker_args

pytestmark = pytest.mark.pipeline

Spawn = Callable[..., WorkerProcess]
KEPT = "Kept a message on nvr/events for when the broker is back"


def _event(kind: str, event_id: str | None = None) -> Callable[[Received], bool]:
    def match(m: Received) -> bool:
        if m.topic != "nvr/events":
            return False
        body = m.json()
        return bool(body["type"] == kind and event_id in (None, body["after"]["id"]))

    return match


def _poll(condition: Callable[[], bool], what: str, timeout: float) -> None:
    """Wait until `condition()` holds (a log file, a client's state: nothing to wait on)."""
    deadline = time.monotonic() + timeout
    pause = threading.Event()  # never set: a poll interval, not a synchronisation
    while not condition():
        assert time.monotonic() < deadline, f"no {what} within {timeout} s"
        pause.wait(0.1)


def _logged(worker: WorkerProcess, text: str) -> Callable[[], bool]:
    def check() -> bool:
        assert worker.process.poll() is None, worker.output()[-2000:]
        return text in worker.output()

    return check


@pytest.fixture
def proxy(broker: Broker) -> Iterator[TcpProxy]:
    """The worker's way to the broker."""
    running = TcpProxy((broker.host, broker.port))
    yield running
    running.stop()


def test_an_end_owed_while_the_broker_was_down_comes_before_the_fresh_status(
    spawn_worker: Spawn, broker: Broker, subscriber: Subscriber, proxy: TcpProxy, sample_video: Path
) -> None:
    subscriber.client.reconnect_delay_set(1, 2)
    args = worker_args(broker, sample_video)
    args[args.index("motion")] = "face"
    args[args.index("--mqtt-port") + 1] = str(proxy.port)
    worker = spawn_worker(*args, "--event-end-after", "1", "--log-level", "debug")
    opened = subscriber.wait_for(_event("new"), 60)
    event_id = opened.json()["after"]["id"]
    assert not subscriber.select(_event("end", event_id))

    proxy.close()  # the worker's reconnects are refused from now on
    broker.stop()
    _poll(_logged(worker, KEPT), "kept end", 30)  # the face left: the event ended, kept
    assert not subscriber.select(_event("end", event_id))

    broker.restart()
    _poll(subscriber.client.is_connected, "subscriber reconnect", 30)
    probe = last_seq(subscriber)
    subscriber.publish("test/probe", "back")  # echoed: it subscribed again (on connect)
    subscriber.wait_for(on_topic("test/probe"), 30, probe)
    back = last_seq(subscriber)
    proxy.open()
    status = subscriber.wait_for(status_of("nvr"), 90, back)
    online = subscriber.wait_for(is_availability("nvr", "online"), 30, back)

    ended = subscriber.wait_for(_event("end", event_id), 1, back)
    assert ended.seq < status.seq < online.seq
    assert ended.json()["after"]["end_time"] is not None
    flat = subscriber.select(
        lambda m: m.topic == "nvr/sources/0/event" and m.json()["id"] == event_id, after=back
    )
    assert [m.json()["type"] for m in flat] == ["end"]  # the event entity's topic, the same
    assert flat[0].seq < status.seq
    assert "Sending 2 event messages the broker missed" in worker.output()
