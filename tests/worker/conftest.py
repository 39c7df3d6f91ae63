"""The worker as a real subprocess against a real mosquitto, watched by an independent client.

Which worker: `$NVR_WORKER_CMD` when set (split like a shell would, e.g. the installed
`.venv-worker311/bin/nvr-inference` in the worker311 lane: the wheel as a user installs it),
else this Python running the repository's sources (`-m custom_components.nvr_inference...`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
import json
import os
from pathlib import Path
import shlex
import signal
import subprocess
import sys
import tempfile
import time
from typing import Any

import pytest

from ..mqtt_helpers import Broker, Received, Subscriber, run_broker

ROOT = Path(__file__).resolve().parents[2]
WORKER_CMD = shlex.split(os.environ.get("NVR_WORKER_CMD", "")) or [
    sys.executable,
    "-m",
    "custom_components.nvr_inference.engine.worker.cli",
]
"""The `nvr-inference` command the tests run."""
WORKER = [*WORKER_CMD, "worker"]
SECRET_ENV = ("NVR_MQTT_PASSWORD", "ROBOFLOW_API_KEY")


def worker_env(extra: dict[str, str] | None = None) -> dict[str, str]:
    """The environment of a worker subprocess: ours, offline, without stray secrets."""
    env = {k: v for k, v in os.environ.items() if k not in SECRET_ENV}
    env |= {"OFFLINE_MODE": "True", "DISABLE_VERSION_CHECK": "True", "PYTHONUNBUFFERED": "1"}
    return env | (extra or {})


@dataclass
class WorkerProcess:
    """A running `nvr-inference worker` and where its output goes."""

    process: subprocess.Popen[bytes]
    stdout: Path
    stderr: Path
    base: str

    def output(self) -> str:
        """Everything it wrote so far (stdout, then stderr)."""
        return self.stdout.read_text(errors="replace") + self.stderr.read_text(errors="replace")

    def send(self, signum: int) -> None:
        """Send a signal."""
        self.process.send_signal(signum)

    def stop(self, timeout: float = 10, signum: int = signal.SIGTERM) -> tuple[int, float]:
        """Send SIGTERM (or `signum`), wait for the exit; return (exit code, seconds it took)."""
        started = time.monotonic()
        self.process.send_signal(signum)
        code = self.process.wait(timeout)
        return code, time.monotonic() - started


def worker_args(
    broker: Broker, video: Path, *, name: str = "test", base: str = "nvr", sources: int = 1
) -> list[str]:
    """Flags for a worker running the motion detector on looping copies of `video`."""
    args = ["--mqtt-port", str(broker.port), "--name", name, "--base-topic", base]
    args += ["--detector", "motion", "--loop"]
    for i in range(sources):
        args += ["--source", f"Cam {i}={video}"]
    return args


@pytest.fixture
def broker(socket_enabled: None) -> Iterator[Broker]:
    """A real mosquitto on 127.0.0.1 (the harness blocks sockets unless asked)."""
    with run_broker() as running:
        yield running


@pytest.fixture
def subscriber(broker: Broker) -> Iterator[Subscriber]:
    """An independent paho client that records every message on the broker, in order."""
    client = Subscriber(broker, ["#"])
    yield client
    client.close()


@pytest.fixture
def spawn_worker(tmp_path: Path) -> Iterator[Callable[..., WorkerProcess]]:
    """Start workers as subprocesses; every one still running at teardown is killed."""
    started: list[WorkerProcess] = []

    def spawn(*args: str, env: dict[str, str] | None = None, base: str = "nvr") -> WorkerProcess:
        n = len(started)
        out, err = tmp_path / f"worker{n}.out", tmp_path / f"worker{n}.err"
        # Each test keeps its workers' state files (the pause) to itself.
        env = {"XDG_STATE_HOME": str(tmp_path / "state"), **(env or {})}
        with out.open("wb") as stdout, err.open("wb") as stderr:
            process = subprocess.Popen(
                [*WORKER, *args], cwd=ROOT, env=worker_env(env), stdout=stdout, stderr=stderr
            )
        worker = WorkerProcess(process, out, err, base)
        started.append(worker)
        return worker

    yield spawn
    for worker in started:
        if worker.process.poll() is None:
            worker.process.kill()
            worker.process.wait(10)


def run_worker_once(
    *args: str, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """Run a worker command that is expected to exit by itself (errors, --remove).

    In a state folder of its own (unless `env` names one): the worker locks a file there for
    its name, so two test runs at once must not share the user's.
    """
    with tempfile.TemporaryDirectory(prefix="nvr-state-") as state:
        return subprocess.run(
            [*WORKER, *args],
            cwd=ROOT,
            env=worker_env({"XDG_STATE_HOME": state, **(env or {})}),
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )


# -- predicates and waits ------------------------------------------------------------------------


def status_of(
    base: str, predicate: Callable[[dict[str, Any]], bool] = lambda _s: True
) -> Callable[[Received], bool]:
    """Match the status messages of the worker publishing under `base`."""
    return lambda m: m.topic == f"{base}/control/status" and predicate(m.json())


def detection_of(base: str, source_id: int | None = None) -> Callable[[Received], bool]:
    """Match detection messages under `base` (of one source, or any)."""
    prefix = f"{base}/detections/"
    if source_id is None:
        return lambda m: m.topic.startswith(prefix)
    return lambda m: m.topic == f"{prefix}{source_id}"


def availability(m: Received) -> str | None:
    """The `state` of an availability message (None when it is not one)."""
    if not m.topic.endswith("/availability") or not m.payload:
        return None
    return str(json.loads(m.payload)["state"])


def is_availability(base: str, state: str) -> Callable[[Received], bool]:
    """Match `<base>/availability` saying `state` (online/offline)."""
    return lambda m: m.topic == f"{base}/availability" and availability(m) == state


def on_topic(topic: str) -> Callable[[Received], bool]:
    """Match any message on `topic`."""
    return lambda m: m.topic == topic


def last_seq(sub: Subscriber) -> int:
    """The sequence number of the last message received so far."""
    return sub.messages[-1].seq if sub.messages else -1


def command(sub: Subscriber, base: str, payload: str | bytes, retain: bool = False) -> None:
    """Send a command and wait until the broker has it."""
    sub.publish(f"{base}/control/commands", payload, retain=retain)


def barrier(sub: Subscriber, base: str) -> int:
    """Ask for the status and wait for it: everything the worker published before has arrived.

    The worker hands the reply to paho under the gate lock, after every detection it handed
    over before; paho writes in order and the broker keeps the order per connection.
    """
    after = last_seq(sub)
    command(sub, base, '{"command": "status"}')
    return sub.wait_for(status_of(base), 30, after).seq


def retained(broker: Broker, topics: list[str]) -> dict[str, Received]:
    """Connect a new client and return the retained messages it gets on `topics`.

    mosquitto sends the retained messages of a SUBSCRIBE's filters in their order, right after
    the SUBACK; so once the last topic's message is here, every earlier one that exists is too.
    The last topic must hold a retained message.
    """
    late = Subscriber(broker, topics, client_id="nvr-late-subscriber")
    try:
        late.wait_for(on_topic(topics[-1]), 10)
        found = {m.topic: m for m in late.messages}
    finally:
        late.close()
    assert all(m.retain for m in found.values())
    return found


def retained_everywhere(broker: Broker) -> dict[str, bytes]:
    """Everything the broker retains, as a fresh subscriber to `#` gets it (up to a probe)."""
    probe = Subscriber(broker, ["#"], client_id="nvr-fresh-subscriber")
    try:
        probe.publish("probe/end", b"end")
        probe.wait_for(on_topic("probe/end"), 10)
        return {m.topic: m.payload for m in probe.messages if m.retain and m.payload}
    finally:
        probe.close()
