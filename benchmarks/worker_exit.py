"""How long a worker takes to stop after SIGTERM: numbers, not a test.

A real mosquitto and a real `nvr-inference worker` subprocess (two looping sample videos, the
motion detector), watched by an independent paho client. Each run starts a worker, waits until
its status says `running` and detections flow, sends SIGTERM, and measures from the signal:

- *Stopped line*: the worker's own `Stopped in ...` log line read from its stderr (the stop
  path proper: the fence, the final status and `offline` acknowledged by the broker, every
  source joined, paho disconnected);
- *stopped status*: the final status (`state: stopped`) arriving at the subscriber; after the
  exit, a fresh client checks that it is the retained one, with `offline`;
- *exit*: the process gone (`waitpid` returns), what systemd or a shell waits for; and the
  part of it after the `Stopped` line (interpreter shutdown), run by run.

SIGTERM goes `--settle` seconds after the first detection (0: as tests/worker does). `--busy N`
keeps N CPU-bound processes running meanwhile, as on a shared 2-core machine: what happens after
the `Stopped` line is CPU work, so its wall time depends on what else runs.

    python -m benchmarks.worker_exit [--runs 10] [--sources 2] [--settle 0] [--busy 0]
"""

from __future__ import annotations

import argparse
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
import json
import os
from pathlib import Path
import signal
import subprocess
import sys
import tempfile
import threading
import time
from typing import IO, Any

import paho.mqtt.client as paho

from benchmarks.harness import connect_client, summary_ms, write_results
from custom_components.nvr_inference.engine.samples.sample_video import write_sample_video
from tests.mqtt_helpers import Broker, run_broker

ROOT = Path(__file__).resolve().parents[1]
BASE = "nvrx"
TIMEOUT = 60.0
SECRET_ENV = ("NVR_MQTT_PASSWORD", "ROBOFLOW_API_KEY")


@dataclass
class Timeline:
    """When each thing happened, `time.monotonic()` in this process."""

    running: float | None = None
    detection: float | None = None
    stopped_status: float | None = None
    stopped_line: float | None = None
    exited: float | None = None


class Watch:
    """The worker's status and detections at an independent client, and its stderr lines."""

    def __init__(self, broker: Broker, run: int) -> None:
        self.times = Timeline()
        self.lines: list[str] = []
        self._changed = threading.Condition()
        self._client = connect_client(
            broker.host,
            broker.port,
            f"exit-watch-{run}",
            [(f"{BASE}/control/status", 1), (f"{BASE}/detections/+", 0)],
            self._on_message,
        )

    def _on_message(self, _client: Any, _userdata: Any, msg: paho.MQTTMessage) -> None:
        now = time.monotonic()
        with self._changed:
            if msg.topic.startswith(f"{BASE}/detections/"):
                if self.times.running is not None and self.times.detection is None:
                    self.times.detection = now
            elif not msg.retain:  # a status of the worker started in this run
                status = json.loads(msg.payload)
                if status["state"] == "running" and self.times.running is None:
                    self.times.running = now
                elif status["reason"] == "stopped" and self.times.stopped_status is None:
                    self.times.stopped_status = now
            self._changed.notify_all()

    def read_stderr(self, stream: IO[bytes]) -> None:
        """Record each log line as it comes; note the moment of `Stopped in`."""
        for raw in stream:
            now = time.monotonic()
            line = raw.decode(errors="replace").rstrip()
            with self._changed:
                self.lines.append(line)
                if "Stopped in" in line and self.times.stopped_line is None:
                    self.times.stopped_line = now
                self._changed.notify_all()

    def wait_exit(self, process: subprocess.Popen[bytes]) -> None:
        """Block until the process is gone; note the moment."""
        process.wait()
        now = time.monotonic()
        with self._changed:
            self.times.exited = now
            self._changed.notify_all()

    def wait(self, what: str) -> None:
        """Wait until `what` (a Timeline field) has happened."""
        with self._changed:
            if not self._changed.wait_for(lambda: getattr(self.times, what), TIMEOUT):
                tail = "\n".join(self.lines[-20:])
                raise SystemExit(f"no {what} within {TIMEOUT:g} s; the worker said:\n{tail}")

    def close(self) -> None:
        """Disconnect."""
        self._client.disconnect()
        self._client.loop_stop()


def retained_after_exit(broker: Broker, run: int) -> dict[str, dict[str, Any]]:
    """What a client connecting now gets: the retained status and availability."""
    found: dict[str, dict[str, Any]] = {}
    both = threading.Event()

    def on_message(_client: Any, _userdata: Any, msg: paho.MQTTMessage) -> None:
        found[msg.topic] = json.loads(msg.payload)
        if len(found) == 2:
            both.set()

    topics = [(f"{BASE}/control/status", 1), (f"{BASE}/availability", 1)]
    client = connect_client(broker.host, broker.port, f"exit-late-{run}", topics, on_message)
    try:
        both.wait(10)
    finally:
        client.disconnect()
        client.loop_stop()
    return found


def one_run(
    broker: Broker, video: Path, state: Path, sources: int, settle: float, run: int
) -> Timeline:
    """Start a worker, SIGTERM it `settle` s after its first detection, time what follows."""
    watch = Watch(broker, run)
    args = [sys.executable, "-m", "custom_components.nvr_inference.engine.worker.cli", "worker"]
    args += ["--mqtt-port", str(broker.port), "--name", "exit", "--base-topic", BASE]
    args += ["--detector", "motion", "--loop", "--state-file", str(state)]
    for i in range(sources):
        args += ["--source", f"Cam {i}={video}"]
    env = {k: v for k, v in os.environ.items() if k not in SECRET_ENV}
    env |= {"OFFLINE_MODE": "True", "DISABLE_VERSION_CHECK": "True", "PYTHONUNBUFFERED": "1"}
    process = subprocess.Popen(
        args, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env
    )
    assert process.stderr is not None
    reader = threading.Thread(target=watch.read_stderr, args=(process.stderr,), daemon=True)
    reader.start()
    try:
        watch.wait("running")
        watch.wait("detection")
        time.sleep(settle)
        # A blocking waitpid on its own thread: Popen.wait(timeout) polls, up to 50 ms late.
        waiter = threading.Thread(target=watch.wait_exit, args=(process,), daemon=True)
        waiter.start()
        sent = time.monotonic()
        process.send_signal(signal.SIGTERM)
        watch.wait("exited")
        code = process.returncode
        reader.join(10)
        watch.wait("stopped_line")
        watch.wait("stopped_status")
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(10)
        watch.close()
    if code != 0 or any("Traceback" in line for line in watch.lines):
        raise SystemExit(f"the worker exited with {code}:\n" + "\n".join(watch.lines[-20:]))
    found = retained_after_exit(broker, run)
    status = found.get(f"{BASE}/control/status", {})
    offline = found.get(f"{BASE}/availability", {})
    if status.get("state") != "stopped" or offline.get("state") != "offline":
        raise SystemExit(f"not retained after the exit: {found}")
    times = watch.times
    return Timeline(
        stopped_line=_since(sent, times.stopped_line),
        stopped_status=_since(sent, times.stopped_status),
        exited=_since(sent, times.exited),
    )


@contextmanager
def busy(processes: int) -> Iterator[None]:
    """Keep `processes` CPU-bound loops running meanwhile, as other work on a shared machine."""
    loops = [subprocess.Popen([sys.executable, "-c", "while True: pass"]) for _ in range(processes)]
    try:
        yield
    finally:
        for loop in loops:
            loop.kill()
            loop.wait()


def _since(start: float, then: float | None) -> float:
    assert then is not None
    return then - start


def main() -> None:
    """Run the worker `--runs` times, print p50/max, merge into benchmarks/results/exit.json."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=10)
    parser.add_argument("--sources", type=int, default=2)
    parser.add_argument(
        "--settle", type=float, default=0.0, help="seconds from the first detection to SIGTERM"
    )
    parser.add_argument(
        "--busy", type=int, default=0, help="CPU-bound processes beside it (a shared machine)"
    )
    args = parser.parse_args()
    runs: list[Timeline] = []
    with tempfile.TemporaryDirectory() as tmp, run_broker() as broker, busy(args.busy):
        video = write_sample_video(Path(tmp) / "sample.avi")
        for n in range(args.runs):
            times = one_run(broker, video, Path(tmp) / "state.json", args.sources, args.settle, n)
            runs.append(times)
            print(
                f"EXIT run {n}: Stopped line {times.stopped_line:.3f} s, "
                f"stopped status {times.stopped_status:.3f} s, exit {times.exited:.3f} s "
                f"({_since(times.stopped_line or 0.0, times.exited):.3f} s after Stopped)",
                flush=True,
            )
    result: dict[str, Any] = {
        "runs": args.runs,
        "sources": args.sources,
        "settle_s": args.settle,
        "busy_processes": args.busy,
    }
    for what in ("stopped_line", "stopped_status", "exited"):
        stats = summary_ms([getattr(t, what) for t in runs])
        result[f"sigterm_to_{what}"] = stats
        print(f"EXIT SIGTERM -> {what}: p50 {stats['p50_ms']:.0f} ms, max {stats['max_ms']:.0f} ms")
    stats = summary_ms([_since(t.stopped_line or 0.0, t.exited) for t in runs])
    result["stopped_line_to_exited"] = stats
    print(
        f"EXIT Stopped line -> exited: p50 {stats['p50_ms']:.0f} ms, max {stats['max_ms']:.0f} ms"
    )
    write_results("exit", f"worker_sigterm_busy{args.busy}", result)


if __name__ == "__main__":
    main()
