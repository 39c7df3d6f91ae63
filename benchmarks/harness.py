"""What the load benchmarks share: a frame clock, a watching subscriber, a cycle driver.

The same measurement runs against both hosts (the integration inside Home Assistant, and the
worker), so both are held to one definition of each number:

- *Leaked*: a detection of a source that arrives, at an independent paho client, after a
  retained status saying that source is paused and before one saying it is not. The status is
  the acknowledgement; this is the fence as a user sees it. Must be 0.
- *Stale*: a detection that arrives after a resume was acknowledged but whose frame was
  captured before the resume command was even sent (a frame from the paused period, or from
  the backlog before it). Must be 0.
- *Ack latency*: pause (or resume) command published -> the status that acknowledges it,
  received by the same client.
- *Frame -> subscriber*: a frame's capture (the pipeline's FRAME_CAPTURED event, emitted when
  the camera's `grab()` returns) -> its detection message received. The pipeline's own
  `frame_timestamp` is taken *before* `grab()` blocks for the next frame, so it would add up
  to a frame period of waiting to every figure; the event is the honest capture moment.
- *Hand-off -> subscriber*: the message handed to the host's publish path on the dispatch
  thread -> received. This is the publish path proper (for the integration: the loop bridge,
  the event loop and Home Assistant's MQTT client), compared with a raw paho-mqtt client
  publishing the same sized payloads at 30 msg/s on its own connection *during the same run*,
  so both see the same machine load.

Times are `time.perf_counter()` in one process: the bench runs the host in-process (Home
Assistant through its test harness, the worker as its `Worker` object), the broker outside.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
import json
import os
from pathlib import Path
import platform
import random
import statistics
import threading
import time
from typing import Any

import paho.mqtt.client as paho

from custom_components.nvr_inference.engine.pipeline.runner import SourceRunner

RESULTS = Path("benchmarks/results")
LOAD_SIZE = (320, 240)
"""Frame size of the load runs: a camera's sub-stream. At 640x480, 16 cameras at 30 fps need
1.7 of 2 cores for the engine alone, and the grid would measure CPU starvation instead."""
LOAD_FPS = 30.0


def connect_client(
    host: str,
    port: int,
    client_id: str,
    subscriptions: list[tuple[str, int]] | None = None,
    on_message: Callable[[Any, Any, paho.MQTTMessage], None] | None = None,
) -> paho.Client:
    """A paho client (its defaults: no TCP_NODELAY) connected, looping, and subscribed."""
    subscribed = threading.Event()
    client = paho.Client(paho.CallbackAPIVersion.VERSION2, client_id=client_id)
    if on_message is not None:
        client.on_message = on_message
    if subscriptions:
        client.on_connect = lambda c, *_: c.subscribe(subscriptions)
        client.on_subscribe = lambda *_: subscribed.set()
    client.connect(host, port)
    client.loop_start()
    if subscriptions and not subscribed.wait(10):
        client.loop_stop()
        raise RuntimeError(f"{client_id} did not subscribe")
    return client


class NullTransport:
    """The engine's `Transport` for benchmarks: hands messages to `publish` (or nowhere)."""

    def __init__(self, publish: Callable[[str, Any], object] | None = None) -> None:
        self._publish = publish
        self.connected = True
        self.backlogged = False

    def publish(self, topic: str, payload: Any, *, qos: int, retain: bool) -> object:
        return self._publish(topic, payload) if self._publish else None


def percentile(values: Sequence[float], q: float) -> float:
    """Return the `q` quantile (nearest rank) of `values`, or NaN for none."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def summary_ms(values: Sequence[float]) -> dict[str, float]:
    """Return p50/p99/max of durations given in seconds, in milliseconds."""
    return {
        "p50_ms": round(percentile(values, 0.5) * 1000, 2),
        "p99_ms": round(percentile(values, 0.99) * 1000, 2),
        "max_ms": round(max(values, default=float("nan")) * 1000, 2),
        "n": len(values),
    }


def machine_info() -> dict[str, Any]:
    """Describe the machine, so every figure says where it was measured."""
    model = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {
        "python": platform.python_version(),
        "cpu": model,
        "cores": os.cpu_count(),
        "kernel": platform.release(),
    }


def write_results(name: str, section: str, result: dict[str, Any]) -> Path:
    """Merge `result` under `section` into benchmarks/results/<name>.json."""
    RESULTS.mkdir(parents=True, exist_ok=True)
    path = RESULTS / f"{name}.json"
    previous = json.loads(path.read_text()) if path.exists() else {}
    previous["machine"] = machine_info()
    previous[section] = result
    path.write_text(json.dumps(previous, indent=2))
    return path


class FrameClock:
    """Capture and hand-off times per (source id, frame id), recorded on pipeline threads."""

    def __init__(self) -> None:
        self.captured: dict[tuple[int, int], float] = {}
        self.handed: dict[tuple[int, int], float] = {}
        self.with_detections: set[tuple[int, int]] = set()  # handed messages holding any

    @contextmanager
    def instrument(self) -> Iterator[None]:
        """Hook every `SourceRunner` started inside the block (both hosts build them)."""
        original = SourceRunner.start
        clock = self

        def start(runner: SourceRunner) -> None:
            source_id = runner.source_id
            on_status = runner._on_pipeline_status  # noqa: SLF001 - a benchmark's probe
            deliver = runner._deliver  # noqa: SLF001

            def timed_status(update: Any) -> None:
                if update.event_type == "FRAME_CAPTURED":
                    clock.captured[(source_id, update.payload["frame_id"])] = time.perf_counter()
                on_status(update)

            def timed_deliver(message: Any) -> None:
                clock.handed[(source_id, message.frame_id)] = time.perf_counter()
                if message.detections:
                    clock.with_detections.add((source_id, message.frame_id))
                deliver(message)

            runner._on_pipeline_status = timed_status  # type: ignore[method-assign]  # noqa: SLF001
            runner._deliver = timed_deliver  # noqa: SLF001
            original(runner)

        SourceRunner.start = start  # type: ignore[method-assign]
        try:
            yield
        finally:
            SourceRunner.start = original  # type: ignore[method-assign]


@dataclass
class StatusSeen:
    """One status message as the watcher received it."""

    index: int
    received: float
    paused: dict[int, bool]


@dataclass
class Watch:
    """Counters the watcher keeps (on paho's network thread)."""

    detections: int = 0
    leaked: int = 0
    stale: int = 0
    unmatched: int = 0  # detection without a recorded capture (should stay 0)
    capture_to_sub: list[float] = field(default_factory=list)
    handoff_to_sub: list[float] = field(default_factory=list)
    raw_to_sub: list[float] = field(default_factory=list)
    leak_examples: list[str] = field(default_factory=list)


class Watcher:
    """An independent paho client that checks the fence on every message it receives.

    Everything is decided in arrival order on its network thread, which is the order a real
    consumer sees: a detection is judged against the last status received before it.
    """

    def __init__(self, host: str, port: int, base: str, clock: FrameClock) -> None:
        self.base = base
        self.clock = clock
        self.watch = Watch()
        self.received: set[tuple[int, int]] = set()  # (source id, frame id) of every detection
        self.statuses: list[StatusSeen] = []
        self.paused: dict[int, bool] = {}
        self._resume_boundary: dict[int, float] = {}
        self._resume_sent: float | None = None
        self._raw_sent: dict[int, float] = {}
        self._notify_at = -1
        self._cond = threading.Condition()
        self._status_topic = f"{base}/control/status"
        self._detections_prefix = f"{base}/detections/"
        self.client = connect_client(
            host, port, f"bench-{base}", [(f"{base}/#", 1), ("bench/raw/#", 0)], self._on_message
        )

    # -- the network thread -------------------------------------------------------------------

    def _on_message(self, _client: Any, _userdata: Any, msg: paho.MQTTMessage) -> None:
        now = time.perf_counter()
        topic = msg.topic
        if topic.startswith(self._detections_prefix):
            self._on_detection(now, int(topic[len(self._detections_prefix) :]), msg.payload)
        elif topic == self._status_topic:
            self._on_status(now, json.loads(msg.payload))
        elif topic.startswith("bench/raw/"):
            sent = self._raw_sent.pop(int(msg.payload[:12]), None)
            if sent is not None:
                self.watch.raw_to_sub.append(now - sent)

    def _on_detection(self, now: float, source_id: int, payload: bytes) -> None:
        watch = self.watch
        watch.detections += 1
        if watch.detections == self._notify_at:
            with self._cond:
                self._cond.notify_all()
        frame_id = int(json.loads(payload)["frame_id"])
        key = (source_id, frame_id)
        self.received.add(key)
        if self.paused.get(source_id, False):
            watch.leaked += 1
            if len(watch.leak_examples) < 5:
                watch.leak_examples.append(f"source {source_id} frame {frame_id}")
        captured = self.clock.captured.get(key)
        handed = self.clock.handed.get(key)
        if captured is None or handed is None:
            watch.unmatched += 1
            return
        watch.capture_to_sub.append(now - captured)
        watch.handoff_to_sub.append(now - handed)
        boundary = self._resume_boundary.get(source_id)
        if boundary is not None and captured < boundary:
            watch.stale += 1

    def _on_status(self, now: float, status: dict[str, Any]) -> None:
        paused = {int(sid): bool(s["paused"]) for sid, s in status["sources"].items()}
        with self._cond:
            for source_id, is_paused in paused.items():
                if self.paused.get(source_id, False) and not is_paused and self._resume_sent:
                    self._resume_boundary[source_id] = self._resume_sent
            self.paused = paused
            self.statuses.append(StatusSeen(len(self.statuses), now, paused))
            self._cond.notify_all()

    # -- the driver's side --------------------------------------------------------------------

    def command(self, body: dict[str, Any]) -> tuple[float, int]:
        """Publish a command; return (when it was sent, statuses seen before it)."""
        with self._cond:
            seen = len(self.statuses)
            sent = time.perf_counter()
            if body["command"] == "resume":
                self._resume_sent = sent
        self.client.publish(f"{self.base}/control/commands", json.dumps(body), qos=1)
        return sent, seen

    def wait_status(
        self, predicate: Callable[[dict[int, bool]], bool], after: int, timeout: float = 10
    ) -> StatusSeen:
        """Return the first status at index >= `after` whose paused map satisfies `predicate`."""
        found: list[StatusSeen] = []

        def match() -> bool:
            found[:] = [s for s in self.statuses[after:] if predicate(s.paused)]
            return bool(found)

        with self._cond:
            if not self._cond.wait_for(match, timeout):
                raise TimeoutError(f"no acknowledging status within {timeout} s")
        return found[0]

    def wait_detections(self, count: int, timeout: float = 60) -> None:
        """Wait until `count` more detections have arrived (the sources are flowing)."""
        with self._cond:
            self._notify_at = self.watch.detections + count
            if not self._cond.wait_for(lambda: self.watch.detections >= self._notify_at, timeout):
                raise TimeoutError(f"fewer than {count} detections within {timeout} s")

    def wait_sources(self, source_ids: Sequence[int], timeout: float = 60) -> None:
        """Wait until a status lists every source (the host is up and publishing status)."""
        self.wait_status(lambda p: all(s in p for s in source_ids), 0, timeout)

    def raw_sent(self, seq: int, when: float) -> None:
        """Note when the raw probe sent message `seq`."""
        self._raw_sent[seq] = when

    def close(self) -> None:
        """Disconnect."""
        self.client.disconnect()
        self.client.loop_stop()


@contextmanager
def raw_probe(host: str, port: int, watcher: Watcher, rate: float = 30.0) -> Iterator[None]:
    """A raw paho-mqtt client publishing detection-sized payloads at `rate`, for a block.

    Its own connection with paho's defaults (no TCP_NODELAY, as Home Assistant's client), QoS 0
    as our detections. The watcher times each message from `publish()` to arrival.
    """
    client = connect_client(host, port, "bench-raw-probe")
    stop = threading.Event()
    padding = b"x" * 240  # about a detection message with two objects

    def run() -> None:
        seq = 0
        period = 1.0 / rate
        next_due = time.perf_counter()
        while not stop.wait(max(0.0, next_due - time.perf_counter())):
            next_due += period
            seq += 1
            sent = time.perf_counter()
            watcher.raw_sent(seq, sent)
            client.publish(f"bench/raw/{seq % 4}", b"%012d" % seq + padding, qos=0)

    thread = threading.Thread(target=run, name="bench-raw-probe")
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join()
        client.disconnect()
        client.loop_stop()


@dataclass
class CycleResult:
    """What the driver measured."""

    cycles: int
    pause_ack: list[float]
    resume_ack: list[float]
    seconds: float
    detections: int  # received while the cycles ran


def drive_cycles(
    watcher: Watcher,
    source_ids: Sequence[int],
    cycles: int,
    seed: int,
    max_gap: float = 0.03,
) -> CycleResult:
    """Randomized pause/resume cycles (global or one source), each waiting for its ack.

    Gaps between steps are random up to `max_gap` so pauses land at every point of a frame's
    path (capture, inference, dispatch, the loop, the socket).
    """
    rng = random.Random(seed)
    gap = threading.Event()  # never set: a timer that is not a synchronisation
    pause_ack: list[float] = []
    resume_ack: list[float] = []
    started = time.perf_counter()
    detections_before = watcher.watch.detections
    for _ in range(cycles):
        target = rng.choice([None, *source_ids])
        affected = list(source_ids) if target is None else [target]
        extra = {} if target is None else {"source_id": target}
        sent, seen = watcher.command({"command": "pause"} | extra)
        ack = watcher.wait_status(lambda p, a=affected: all(p[s] for s in a), seen)
        pause_ack.append(ack.received - sent)
        gap.wait(rng.random() * max_gap)
        sent, seen = watcher.command({"command": "resume"} | extra)
        ack = watcher.wait_status(lambda p, a=affected: not any(p[s] for s in a), seen)
        resume_ack.append(ack.received - sent)
        gap.wait(rng.random() * max_gap)
    seconds = time.perf_counter() - started
    detections = watcher.watch.detections - detections_before
    return CycleResult(cycles, pause_ack, resume_ack, seconds, detections)


def steady_window(watcher: Watcher, seconds: float, stats: Any = None) -> dict[str, Any]:
    """Live with no pause cycles for `seconds`: frames published, and how late they arrive.

    Of the frames the cameras captured in the window: *processed*, the share that reached the
    publisher (detected, tracked, its message built); *published*, the share of those whose
    message held detections that reached the independent subscriber (an empty frame after an
    empty one is no message, by the publisher's rule). *capture -> subscriber* is over the
    messages that arrived. `stats` (the runners' SourceStats) adds the frames the sources
    dropped as overload.
    """
    clock = watcher.clock
    watch = watcher.watch
    dropped_before = sum(s.frames_dropped_overload for s in stats or ())
    first = len(watch.capture_to_sub)
    started = time.perf_counter()
    threading.Event().wait(seconds)  # the measuring window, not a synchronisation
    ended = time.perf_counter()
    threading.Event().wait(1.0)  # let what was captured in the window arrive
    latencies = watch.capture_to_sub[first:]
    in_window = [key for key, t in list(clock.captured.items()) if started <= t < ended]
    handed = [key for key in in_window if key in clock.handed]
    expected = [key for key in handed if key in clock.with_detections]
    received = sum(1 for key in expected if key in watcher.received)
    return {
        "seconds": seconds,
        "frames_captured": len(in_window),
        "frames_processed": len(handed),
        "processed_share": round(len(handed) / max(1, len(in_window)), 3),
        "messages_with_detections": len(expected),
        "published_share": round(received / max(1, len(expected)), 3),
        "capture_to_subscriber": summary_ms(latencies),
        "frames_dropped_overload": sum(s.frames_dropped_overload for s in stats or ())
        - dropped_before,
    }


def load_result(
    watcher: Watcher, cycles: CycleResult, sources: int, fps: float, extra: dict[str, Any]
) -> dict[str, Any]:
    """Fold everything measured in one load run into one JSON-ready dict."""
    watch = watcher.watch
    handoff = summary_ms(watch.handoff_to_sub)
    raw = summary_ms(watch.raw_to_sub)
    return {
        "sources": sources,
        "fps_per_source": fps,
        "cycles": cycles.cycles,
        "seconds": round(cycles.seconds, 1),
        "detections": watch.detections,
        "detections_per_s_during_cycles": round(cycles.detections / cycles.seconds, 1),
        "leaked_after_ack": watch.leaked,
        "leak_examples": watch.leak_examples,
        "stale_after_resume": watch.stale,
        "unmatched": watch.unmatched,
        "pause_ack": summary_ms(cycles.pause_ack),
        "resume_ack": summary_ms(cycles.resume_ack),
        "capture_to_subscriber": summary_ms(watch.capture_to_sub),
        "handoff_to_subscriber": handoff,
        "raw_paho_to_subscriber": raw,
        "handoff_vs_raw_p50": round(handoff["p50_ms"] / raw["p50_ms"], 2),
        "handoff_vs_raw_p99": round(handoff["p99_ms"] / raw["p99_ms"], 2),
    } | extra


class ArrivalCounter:
    """A paho client that only counts what arrives on one topic filter, and when."""

    def __init__(self, host: str, port: int, topic: str) -> None:
        self.count = 0
        self.first = 0.0
        self.last = 0.0
        self._target = -1
        self._cond = threading.Condition()
        self.client = connect_client(host, port, "bench-counter", [(topic, 0)], self._on_message)

    def _on_message(self, _client: Any, _userdata: Any, _msg: paho.MQTTMessage) -> None:
        now = time.perf_counter()
        if self.count == 0:
            self.first = now
        self.count += 1
        self.last = now
        if self.count == self._target:
            with self._cond:
                self._cond.notify_all()

    def reset(self) -> None:
        """Start counting from zero."""
        self.count = 0

    def wait_count(self, count: int, timeout: float) -> bool:
        """Wait until `count` messages arrived; False if they did not within `timeout`."""
        with self._cond:
            self._target = count
            return self._cond.wait_for(lambda: self.count >= count, timeout)

    def rate(self) -> float:
        """Messages per second between the first and the last arrival."""
        return (self.count - 1) / (self.last - self.first) if self.count > 1 else 0.0

    def close(self) -> None:
        """Disconnect."""
        self.client.disconnect()
        self.client.loop_stop()


def raw_paho_throughput(
    host: str, port: int, payloads: Sequence[str], topic: str
) -> tuple[float, int]:
    """Publish `payloads` as fast as a raw paho client can; return (received/s, received)."""
    counter = ArrivalCounter(host, port, topic)
    client = connect_client(host, port, "bench-raw-burst")
    try:
        for payload in payloads:
            client.publish(topic, payload, qos=0)
        counter.wait_count(len(payloads), 60)
        return counter.rate(), counter.count
    finally:
        client.disconnect()
        client.loop_stop()
        counter.close()


def slope_per_hour(xs: Sequence[float], ys: Sequence[float]) -> float:
    """Least-squares slope of `ys` over `xs` (seconds), per hour; NaN with fewer than 2 points."""
    if len(xs) < 2:
        return float("nan")
    return statistics.linear_regression(xs, ys).slope * 3600


def growth_summary(samples: Sequence[dict[str, float]], warmup: float) -> dict[str, float]:
    """RSS and thread growth per hour over samples `{t_s, rss_mb, threads}` after `warmup` s.

    A short run's slope extrapolated to an hour: read it together with first/last/min/max.
    """
    kept = [s for s in samples if s["t_s"] > warmup] or list(samples)
    xs = [s["t_s"] for s in kept]
    rss = [s["rss_mb"] for s in kept]
    threads = [float(s["threads"]) for s in kept]
    return {
        "samples_used": len(kept),
        "rss_growth_mb_per_hour": round(slope_per_hour(xs, rss), 2),
        "rss_first_mb": round(rss[0], 1),
        "rss_last_mb": round(rss[-1], 1),
        "rss_min_mb": round(min(rss), 1),
        "rss_max_mb": round(max(rss), 1),
        "threads_growth_per_hour": round(slope_per_hour(xs, threads), 2),
        "threads_first": threads[0],
        "threads_last": threads[-1],
        "threads_max": max(threads),
    }
