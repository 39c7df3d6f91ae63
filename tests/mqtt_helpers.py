"""Real MQTT for tests: a mosquitto broker on 127.0.0.1 and an independent paho client.

The broker is Debian's mosquitto started on a free port with a throwaway config; the client is
plain paho-mqtt on its own network thread, like any consumer of our topics would be. Waits are
conditions with timeouts, never sleeps.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
import json
from pathlib import Path
import shutil
import socket
import subprocess
import tempfile
import threading
import time
from typing import Any

import paho.mqtt.client as paho

from custom_components.nvr_inference.engine.contract.host import (
    HostInfo,
    availability_payload,
)


def free_port() -> int:
    """Return a TCP port on 127.0.0.1 that nobody listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def mosquitto_binary() -> str:
    """Find mosquitto (Debian installs it in /usr/sbin, often not on PATH)."""
    found = shutil.which("mosquitto") or (
        "/usr/sbin/mosquitto" if Path("/usr/sbin/mosquitto").exists() else None
    )
    if found is None:
        raise RuntimeError("mosquitto is not installed: run scripts/setup")
    return found


@dataclass
class Broker:
    """A running mosquitto."""

    host: str
    port: int
    process: subprocess.Popen[bytes]
    config: Path

    def stop(self) -> None:
        """Terminate and reap the broker."""
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(10)

    def restart(self) -> None:
        """Stop and start again on the same port (clients reconnect)."""
        self.stop()
        self.process = _spawn(self.config)
        _wait_listening(self.host, self.port, self.process)


def _spawn(config: Path) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [mosquitto_binary(), "-c", str(config)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )


def _wait_listening(
    host: str, port: int, process: subprocess.Popen[bytes], timeout: float = 10
) -> None:
    deadline = time.monotonic() + timeout
    pause = threading.Event()
    while time.monotonic() < deadline:
        if process.poll() is not None:
            err = process.stderr.read().decode() if process.stderr else ""
            raise RuntimeError(f"mosquitto exited: {err}")
        try:
            with socket.create_connection((host, port), timeout=0.5):
                return
        except OSError:
            pause.wait(0.02)
    raise RuntimeError(f"mosquitto did not listen on {host}:{port} within {timeout} s")


@contextmanager
def run_broker(extra_config: str = "") -> Iterator[Broker]:
    """Start a broker for the duration of the block."""
    port = free_port()
    with tempfile.TemporaryDirectory(prefix="nvr-mosquitto-") as tmp:
        config = Path(tmp) / "mosquitto.conf"
        config.write_text(
            f"listener {port} 127.0.0.1\nallow_anonymous true\npersistence false\n"
            f"log_dest stderr\nlog_type error\n{extra_config}"
        )
        process = _spawn(config)
        broker = Broker("127.0.0.1", port, process, config)
        try:
            _wait_listening(broker.host, port, process)
            yield broker
        finally:
            broker.stop()


@dataclass(frozen=True)
class Received:
    """One message as the independent client saw it, in arrival order."""

    seq: int
    topic: str
    payload: bytes
    retain: bool

    def json(self) -> Any:
        """Decode the payload."""
        return json.loads(self.payload)


class Subscriber:
    """An independent paho client recording every message it receives, in order."""

    def __init__(
        self,
        broker: Broker,
        topics: list[str],
        client_id: str = "nvr-test-subscriber",
        login: tuple[str, str] | None = None,
    ) -> None:
        self.messages: list[Received] = []
        self._cond = threading.Condition()
        self._subscribed = threading.Event()
        self.client = paho.Client(paho.CallbackAPIVersion.VERSION2, client_id=client_id)
        if login is not None:
            self.client.username_pw_set(*login)
        self.client.on_message = self._on_message
        self.client.on_connect = lambda c, *_: c.subscribe([(t, 1) for t in topics])
        self.client.on_subscribe = lambda *_: self._subscribed.set()
        self.client.connect(broker.host, broker.port)
        self.client.loop_start()
        if not self._subscribed.wait(10):
            raise RuntimeError("subscriber did not subscribe")

    def _on_message(self, _client: Any, _userdata: Any, msg: paho.MQTTMessage) -> None:
        with self._cond:
            self.messages.append(
                Received(len(self.messages), msg.topic, msg.payload, bool(msg.retain))
            )
            self._cond.notify_all()

    def publish(self, topic: str, payload: str | bytes, retain: bool = False) -> None:
        """Publish and wait until the broker has it (QoS 1)."""
        info = self.client.publish(topic, payload, qos=1, retain=retain)
        info.wait_for_publish(10)

    def wait_for(
        self, predicate: Callable[[Received], bool], timeout: float = 30, after: int = -1
    ) -> Received:
        """Return the first message after seq `after` that matches, waiting up to `timeout`."""
        found: list[Received] = []

        def match() -> bool:
            found[:] = [m for m in self.messages if m.seq > after and predicate(m)]
            return bool(found)

        with self._cond:
            if not self._cond.wait_for(match, timeout):
                topics = [m.topic for m in self.messages[-10:]]
                raise AssertionError(
                    f"no matching message within {timeout} s; last topics: {topics}"
                )
        return found[0]

    def select(
        self, predicate: Callable[[Received], bool], after: int = -1, before: int | None = None
    ) -> list[Received]:
        """Return matching messages with after < seq < before."""
        with self._cond:
            return [
                m
                for m in self.messages
                if m.seq > after and (before is None or m.seq < before) and predicate(m)
            ]

    def count(
        self, predicate: Callable[[Received], bool], after: int = -1, before: int | None = None
    ) -> int:
        """Count matching messages with after < seq < before."""
        return len(self.select(predicate, after, before))

    def close(self) -> None:
        """Disconnect and stop the network thread."""
        self.client.disconnect()
        self.client.loop_stop()


class FakeHost:
    """Another host on a base topic as the broker shows it: a retained status and `online`.

    `refresh`: republish the status every `refresh` seconds (what a live host does every
    `STATUS_INTERVAL`); `answer`: republish it when asked (`{"command": "status"}`), counting
    the requests in `requests`. With neither, the `online` is one left behind: nothing follows
    it. `close` leaves both retained (no `offline`, no last will): a host that died.
    """

    def __init__(
        self,
        broker: Broker,
        host: HostInfo,
        base: str = "nvr",
        *,
        refresh: float | None = None,
        answer: bool = False,
    ) -> None:
        self.host, self.base = host, base
        self.requests = 0
        self._stop = threading.Event()
        self.client = paho.Client(paho.CallbackAPIVersion.VERSION2, client_id=f"fake-{host.id}")
        subscribed = threading.Event()
        if answer:
            self.client.message_callback_add(f"{base}/control/commands", self._on_command)
            self.client.on_connect = lambda c, *_: c.subscribe(f"{base}/control/commands", 1)
            self.client.on_subscribe = lambda *_: subscribed.set()
        else:
            subscribed.set()
        self.client.connect(broker.host, broker.port)
        self.client.loop_start()
        if not subscribed.wait(10):
            raise RuntimeError("the fake host did not subscribe")
        self.publish_status()
        info = self.client.publish(
            f"{base}/availability", availability_payload(host, online=True), qos=1, retain=True
        )
        info.wait_for_publish(10)
        self._refresher: threading.Thread | None = None
        if refresh is not None:
            self._refresher = threading.Thread(target=self._refresh, args=(refresh,))
            self._refresher.start()

    def publish_status(self, *, confirm: bool = True) -> None:
        """Publish the retained status naming the host (QoS 1; `confirm`: wait for the broker)."""
        status = {"paused": False, "state": "running", "sources": {}, "host": self.host.as_dict()}
        info = self.client.publish(
            f"{self.base}/control/status", json.dumps(status), qos=1, retain=True
        )
        if confirm:
            info.wait_for_publish(10)

    def _refresh(self, interval: float) -> None:
        while not self._stop.wait(interval):  # a timer, like the host's own refresher
            self.publish_status()

    def _on_command(self, _client: Any, _userdata: Any, msg: paho.MQTTMessage) -> None:
        if json.loads(msg.payload).get("command") == "status":
            self.requests += 1
            self.publish_status(confirm=False)  # paho's own thread: it cannot wait for itself

    def close(self) -> None:
        """Stop refreshing and disconnect; what it retained stays (no `offline`)."""
        self._stop.set()
        if self._refresher is not None:
            self._refresher.join()
        self.client.disconnect()
        self.client.loop_stop()


def is_detection(source_id: int | None = None) -> Callable[[Received], bool]:
    """Match detection messages (of one source, or any)."""
    if source_id is None:
        return lambda m: "/detections/" in m.topic
    return lambda m: m.topic.endswith(f"/detections/{source_id}")


def is_status(predicate: Callable[[dict[str, Any]], bool]) -> Callable[[Received], bool]:
    """Match status messages whose body satisfies `predicate`."""

    def match(m: Received) -> bool:
        return m.topic.endswith("/control/status") and predicate(m.json())

    return match


@dataclass
class ResumeCycles:
    """What an independent client saw over pause/resume cycles (see `resume_cycles`)."""

    cycles: int
    checked: int  # detection messages that followed a resume's acknowledgement
    stamped_early: list[str]  # frame_timestamp earlier than the moment the resume was sent
    during_pause: int  # detection messages between a pause's ack and the resume's ack


def resume_cycles(sub: Subscriber, base: str, cycles: int, timeout: float = 30) -> ResumeCycles:
    """Pause and resume `cycles` times, judging frames by their `frame_timestamp` alone.

    The client notes the wall-clock moment just before it sends each resume. A frame captured
    before the host handled that resume is refused by the gate; every frame published after
    the resume's acknowledgement was captured after it, so its `frame_timestamp` (the capture
    time) must not be earlier than the moment the resume was sent. Each cycle waits for one
    detection after the resume's acknowledgement, so no cycle is empty.

    Every other cycle sends the resume right behind the pause, without waiting for the pause's
    acknowledgement: the camera is then caught mid-capture, the case where a timestamp taken
    before the capture shows.
    """
    commands = f"{base}/control/commands"
    marks: list[tuple[int, int, int, datetime]] = []  # pause ack, resume ack, next, sent
    for cycle in range(cycles):
        start = sub.messages[-1].seq if sub.messages else -1
        sub.publish(commands, '{"command": "pause"}')
        if cycle % 2:
            sent = datetime.now(UTC)
            sub.publish(commands, '{"command": "resume"}')
        paused = sub.wait_for(
            is_status(lambda s: s["paused"] is True and s["reason"] == "command"), timeout, start
        )
        if not cycle % 2:
            sent = datetime.now(UTC)
            sub.publish(commands, '{"command": "resume"}')
        resumed = sub.wait_for(is_status(lambda s: s["paused"] is False), timeout, paused.seq)
        first = sub.wait_for(is_detection(), timeout, resumed.seq)
        marks.append((paused.seq, resumed.seq, first.seq, sent))
    end = sub.messages[-1].seq + 1
    checked, early, during = 0, [], 0
    for index, (paused_seq, resumed_seq, _first, sent) in enumerate(marks):
        during += sub.count(is_detection(), after=paused_seq, before=resumed_seq)
        until = marks[index + 1][0] if index + 1 < len(marks) else end
        for message in sub.select(is_detection(), after=resumed_seq, before=until):
            checked += 1
            stamp = datetime.fromisoformat(message.json()["frame_timestamp"])
            if stamp < sent:
                early.append(f"{message.topic} {stamp.isoformat()} < resume {sent.isoformat()}")
    return ResumeCycles(cycles, checked, early, during)
