"""Worker resource benchmarks: numbers, not tests. Prints a table and writes JSON.

The standalone worker runs as the subprocess it is deployed as, against a real mosquitto, and
an independent paho client watches its topics; CPU time, RSS and thread count come from the
kernel (psutil reads /proc/<pid>), so nothing in the worker is instrumented or mocked.
`cpu_pct` is utime + stime (10 ms ticks: a paused window reads 0); `cpu_pct_fine` sums the
scheduler's nanosecond run time of every thread, to say how close to nothing "nothing" is.

1. CPU per source at 720p / 5 fps (looping sample video, paced in real time like a camera),
   in percent of one core: motion with 1 and 4 sources (per source = total / N; marginal =
   (N=4 - N=1) / 3, which removes the fixed cost of the process) and face with 1. Each worker
   is measured running (after detections flow from every source) and paused ("a paused camera
   should cost next to nothing": after the retained acknowledgement and after every source
   reports its stream paused, plus a short settle). `others_cpu_pct` is what the rest of the
   machine burned in the same window (mosquitto, this process, anything running beside us):
   the benchmark's own disturbance meter.
2. Soak: 4 sources x 30 fps at 320x240, motion. RSS and thread count sampled every 10 s;
   after a warm-up (20% of the run, at most 2 minutes) the least-squares slope gives growth
   per hour (a short run's slope extrapolated: read it with first/last/min/max). Detections
   per second at the subscriber show the work kept flowing.

    python -m benchmarks.resources_bench [--cpu-only | --soak-only] [--window S]
        [--soak-minutes M] [--json PATH]
"""

from __future__ import annotations

import argparse
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
import json
import os
from pathlib import Path
import signal
import statistics
import subprocess
import tempfile
import threading
import time
from typing import Any

import psutil  # type: ignore[import-untyped]  # no stubs installed

from benchmarks import harness
from custom_components.nvr_inference.engine.samples.sample_video import (
    SAMPLE_FRAMES,
    write_sample_video,
)
from tests.mqtt_helpers import Broker, Received, Subscriber, run_broker
from tests.worker.conftest import ROOT, WORKER, worker_env

BASE = "nvrbench"
HD = (1280, 720)
SOAK_SIZE = (320, 240)
START_TIMEOUT = 120.0  # seconds until every source's first detection (imports, probe, decode)
SETTLE = 2.0  # seconds after every stream reports paused, so the buffered backlog is drained
MAX_WARMUP = 120.0


def machine_info() -> dict[str, Any]:
    """Describe the machine, and how busy it was when we started (the numbers depend on it)."""
    load1, load5, _ = os.getloadavg()
    return harness.machine_info() | {
        "loadavg_1m_at_start": round(load1, 2),
        "loadavg_5m_at_start": round(load5, 2),
    }


def _busy_seconds() -> float:
    """CPU seconds the whole machine spent not idle (all cores), since boot."""
    t = psutil.cpu_times()
    return float(sum(t) - t.idle - getattr(t, "iowait", 0.0))


def _proc_seconds(proc: psutil.Process) -> float:
    """CPU seconds (user + system) of `proc`, i.e. utime + stime of /proc/<pid>/stat."""
    t = proc.cpu_times()
    return float(t.user + t.system)


def _thread_seconds(pid: int) -> dict[int, float]:
    """CPU seconds per thread id, in nanoseconds' resolution (/proc/<pid>/task/*/schedstat).

    utime + stime count whole clock ticks (10 ms), too coarse to tell a paused worker's
    0.01% from 0; the scheduler's own run time per thread is exact. A thread that exits
    mid-window takes its time with it, so the process total still comes from utime + stime.
    """
    found: dict[int, float] = {}
    for task in Path(f"/proc/{pid}/task").iterdir():
        try:
            found[int(task.name)] = int((task / "schedstat").read_text().split()[0]) / 1e9
        except (OSError, ValueError, IndexError):
            continue  # the thread exited between listing and reading
    return found


def _thread_name(pid: int, tid: int) -> str:
    try:
        return Path(f"/proc/{pid}/task/{tid}/comm").read_text().strip()
    except OSError:
        return "?"


@dataclass
class Window:
    """What one measurement window saw."""

    seconds: float
    cpu_pct: float  # of one core, the whole worker process (utime + stime, 10 ms ticks)
    cpu_pct_fine: float  # the same from the scheduler's per-thread ns counters
    others_cpu_pct: float  # of one core, everything else on the machine
    detections: int
    threads: int
    rss_mb: float
    top_threads: list[dict[str, Any]]


class WatchedWorker:
    """A worker subprocess, the psutil handle on it, and an independent client on its topics.

    Detections are only counted (per source), not stored, so a long soak does not grow this
    process; every other message (status, availability, errors) is kept by `Subscriber`.
    """

    def __init__(
        self, broker: Broker, videos: list[Path], detector: str, logdir: Path, name: str
    ) -> None:
        """Subscribe first, then start the worker, so no message is missed."""
        self.base = f"{BASE}-{name}"
        self.n = len(videos)
        self._counts = [0] * self.n
        self._cond = threading.Condition()
        self.sub = Subscriber(broker, [f"{self.base}/#"], client_id=f"bench-{name}")
        self.sub.client.message_callback_add(f"{self.base}/detections/+", self._on_detection)
        args = ["--mqtt-port", str(broker.port), "--name", name, "--base-topic", self.base]
        args += ["--detector", detector, "--loop", "--log-level", "warning"]
        args += ["--state-file", str(logdir / f"{name}-state.json")]
        args += ["--no-motion-gating"]  # every frame, as before gating: detectors_bench.py has it
        for i, video in enumerate(videos):
            args += ["--source", f"Cam {i}={video}"]
        self.log = logdir / f"{name}.log"
        env = worker_env()
        with self.log.open("wb") as out:
            self.process = subprocess.Popen(
                [*WORKER, *args], cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT
            )
        self.ps = psutil.Process(self.process.pid)
        self.started = time.monotonic()

    def _on_detection(self, _client: Any, _userdata: Any, msg: Any) -> None:
        source_id = int(msg.topic.rsplit("/", 1)[1])
        with self._cond:
            self._counts[source_id] += 1
            self._cond.notify_all()

    def detections(self) -> int:
        """Detection messages received so far, all sources."""
        with self._cond:
            return sum(self._counts)

    def wait_flowing(self, timeout: float = START_TIMEOUT) -> float:
        """Wait until every source has delivered a detection; return seconds since start."""
        with self._cond:
            ok = self._cond.wait_for(
                lambda: all(self._counts) or self.process.poll() is not None, timeout
            )
        if not ok or self.process.poll() is not None:
            raise RuntimeError(f"no detections from every source: {self.tail()}")
        return time.monotonic() - self.started

    def tail(self, lines: int = 20) -> str:
        """The end of the worker's output (for errors)."""
        return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])

    def _status_after(
        self, predicate: Callable[[dict[str, Any]], bool], after: int, timeout: float = 30
    ) -> dict[str, Any]:
        topic = f"{self.base}/control/status"

        def match(m: Received) -> bool:
            return m.topic == topic and predicate(m.json())

        body: dict[str, Any] = self.sub.wait_for(match, timeout, after).json()
        return body

    def _last_seq(self) -> int:
        return self.sub.messages[-1].seq if self.sub.messages else -1

    def status(self) -> dict[str, Any]:
        """Ask for a fresh status (it carries each source's inferred fps) and return it."""
        after = self._last_seq()
        self.sub.publish(f"{self.base}/control/commands", '{"command": "status"}')
        return self._status_after(lambda _s: True, after)

    def pause(self) -> tuple[float, float]:
        """Pause every source; return seconds to the ack, and to every stream paused."""
        after = self._last_seq()
        t0 = time.monotonic()
        self.sub.publish(f"{self.base}/control/commands", '{"command": "pause"}')
        self._status_after(lambda s: s.get("paused") is True, after)
        acked = time.monotonic() - t0
        self._status_after(
            lambda s: s.get("paused") is True
            and all(src.get("stream_paused") for src in s["sources"].values()),
            after,
        )
        return acked, time.monotonic() - t0

    def measure(self, seconds: float) -> Window:
        """CPU share of the worker (and of everything else) over `seconds` of wall time."""
        gate = threading.Event()
        threads0 = _thread_seconds(self.ps.pid)
        det0 = self.detections()
        busy0, cpu0, t0 = _busy_seconds(), _proc_seconds(self.ps), time.monotonic()
        gate.wait(seconds)
        busy1, cpu1, t1 = _busy_seconds(), _proc_seconds(self.ps), time.monotonic()
        det1 = self.detections()
        threads1 = _thread_seconds(self.ps.pid)
        wall = t1 - t0
        worker = cpu1 - cpu0
        per_thread = sorted(
            ((tid, s - threads0.get(tid, 0.0)) for tid, s in threads1.items()),
            key=lambda item: -item[1],
        )
        top = [
            {
                "tid": tid,
                "comm": _thread_name(self.ps.pid, tid),
                "cpu_pct": round(100 * s / wall, 4),
            }
            for tid, s in per_thread[:5]
        ]
        return Window(
            seconds=wall,
            cpu_pct=100 * worker / wall,
            cpu_pct_fine=100 * sum(s for _tid, s in per_thread) / wall,
            others_cpu_pct=100 * max(0.0, busy1 - busy0 - worker) / wall,
            detections=det1 - det0,
            threads=self.ps.num_threads(),
            rss_mb=self.ps.memory_info().rss / 2**20,
            top_threads=top,
        )

    def stop(self) -> None:
        """SIGTERM, wait for the clean exit (kill after 30 s); close the client."""
        try:
            if self.process.poll() is None:
                self.process.send_signal(signal.SIGTERM)
                try:
                    self.process.wait(30)
                except subprocess.TimeoutExpired:
                    self.process.kill()
                    self.process.wait(10)
        finally:
            self.sub.close()


@contextmanager
def watched_worker(
    videos: list[Path], detector: str, logdir: Path, name: str
) -> Iterator[WatchedWorker]:
    """A fresh broker (no retained pause from an earlier run) and a worker on it."""
    with run_broker() as broker:
        worker = WatchedWorker(broker, videos, detector, logdir, name)
        try:
            yield worker
        finally:
            worker.stop()


# -- 1. CPU at 720p / 5 fps, running and paused ---------------------------------------------------


def cpu_scenario(
    video: Path, detector: str, n: int, window: float, logdir: Path
) -> tuple[dict[str, Any], dict[str, Any]]:
    """Measure one worker running, then paused; return (table row, JSON-only details)."""
    name = f"{detector}-n{n}"
    with watched_worker([video] * n, detector, logdir, name) as worker:
        startup = worker.wait_flowing()
        running = worker.measure(window)
        fps = [src["fps"] for src in worker.status()["sources"].values()]
        ack_s, stream_paused_s = worker.pause()
        threading.Event().wait(SETTLE)
        paused = worker.measure(window)
    row = {
        "sources": n,
        "startup_s": round(startup, 2),
        "running_cpu_pct": running.cpu_pct,
        "running_cpu_pct_per_source": running.cpu_pct / n,
        "running_cpu_pct_fine": running.cpu_pct_fine,
        "running_fps_min_source": min(fps),
        "running_detections_per_s": running.detections / running.seconds,
        "running_others_cpu_pct": running.others_cpu_pct,
        "pause_ack_s": round(ack_s, 3),
        "pause_streams_paused_s": round(stream_paused_s, 3),
        "paused_cpu_pct": paused.cpu_pct,
        "paused_cpu_pct_per_source": paused.cpu_pct / n,
        "paused_cpu_pct_fine": paused.cpu_pct_fine,
        "paused_detections": paused.detections,
        "paused_others_cpu_pct": paused.others_cpu_pct,
        "threads": running.threads,
        "rss_mb": running.rss_mb,
    }
    details = {"running_top_threads": running.top_threads, "paused_top_threads": paused.top_threads}
    return row, details


def bench_cpu(window: float, tmp: Path) -> tuple[dict[str, Any], dict[str, Any]]:
    """Motion N=1, N=4 and face N=1 at 720p / 5 fps; plus the marginal per-source cost."""
    video = write_sample_video(tmp / "hd5.avi", size=HD, fps=5, frames=SAMPLE_FRAMES)
    results: dict[str, Any] = {}
    details: dict[str, Any] = {}
    for detector, n in (("motion", 1), ("motion", 4), ("face", 1)):
        key = f"cpu_{detector}_720p5_n{n}"
        print(f"... {key}: {window:g} s running, {window:g} s paused", flush=True)
        results[key], details[key] = cpu_scenario(video, detector, n, window, tmp)
    one, four = results["cpu_motion_720p5_n1"], results["cpu_motion_720p5_n4"]
    results["cpu_motion_720p5_marginal"] = {
        "running_cpu_pct_per_extra_source": (four["running_cpu_pct"] - one["running_cpu_pct"]) / 3,
        "paused_cpu_pct_per_extra_source": (four["paused_cpu_pct"] - one["paused_cpu_pct"]) / 3,
        "paused_cpu_pct_fine_per_extra_source": (
            four["paused_cpu_pct_fine"] - one["paused_cpu_pct_fine"]
        )
        / 3,
    }
    return results, details


# -- 2. soak: RSS and threads over time -----------------------------------------------------------


def bench_soak(
    minutes: float, interval: float, tmp: Path
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """4 sources x 30 fps at 320x240, motion: samples every `interval` s; growth per hour."""
    video = write_sample_video(tmp / "soak30.avi", size=SOAK_SIZE, fps=30, frames=SAMPLE_FRAMES)
    duration = minutes * 60
    warmup = min(MAX_WARMUP, 0.2 * duration)
    print(f"... soak: {minutes:g} min (first {warmup:g} s dropped as warm-up)", flush=True)
    samples: list[dict[str, Any]] = []
    with watched_worker([video] * 4, "motion", tmp, "soak") as worker:
        startup = worker.wait_flowing()
        t_start = time.monotonic()
        while time.monotonic() - t_start < duration:
            w = worker.measure(min(interval, duration - (time.monotonic() - t_start)))
            samples.append(
                {
                    "t_s": round(time.monotonic() - t_start, 1),
                    "rss_mb": round(w.rss_mb, 3),
                    "threads": w.threads,
                    "cpu_pct": round(w.cpu_pct, 1),
                    "detections_per_s": round(w.detections / w.seconds, 2),
                    "others_cpu_pct": round(w.others_cpu_pct, 1),
                }
            )
        fps = [src["fps"] for src in worker.status()["sources"].values()]
    kept = [s for s in samples if s["t_s"] > warmup] or samples
    xs = [s["t_s"] for s in kept]
    rss = [s["rss_mb"] for s in kept]
    threads = [s["threads"] for s in kept]
    rates = [s["detections_per_s"] for s in kept]
    result = {
        "sources": 4,
        "resolution": f"{SOAK_SIZE[0]}x{SOAK_SIZE[1]}",
        "fps_per_source_target": 30,
        "duration_s": round(duration, 1),
        "warmup_dropped_s": round(warmup, 1),
        "samples_used": len(kept),
        "startup_s": round(startup, 2),
        "rss_growth_mb_per_hour": harness.slope_per_hour(xs, rss),
        "rss_first_mb": rss[0],
        "rss_last_mb": rss[-1],
        "rss_min_mb": min(rss),
        "rss_max_mb": max(rss),
        "rss_at_start_mb": samples[0]["rss_mb"],
        "threads_growth_per_hour": harness.slope_per_hour(xs, [float(t) for t in threads]),
        "threads_first": threads[0],
        "threads_last": threads[-1],
        "threads_min": min(threads),
        "threads_max": max(threads),
        "detections_per_s_mean": statistics.fmean(rates),
        "detections_per_s_min_interval": min(rates),
        "intervals_without_detections": sum(1 for r in rates if r == 0),
        "fps_min_source_at_end": min(fps),
        "cpu_pct_mean": statistics.fmean(s["cpu_pct"] for s in kept),
        "others_cpu_pct_mean": statistics.fmean(s["others_cpu_pct"] for s in kept),
    }
    return result, samples


# -- main -----------------------------------------------------------------------------------------


def _shown(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:,.4f}" if abs(value) < 0.1 else f"{value:,.3f}"
    if isinstance(value, list | dict):
        return "(in the JSON)"
    return str(value)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    only = parser.add_mutually_exclusive_group()
    only.add_argument("--cpu-only", action="store_true", help="skip the soak")
    only.add_argument("--soak-only", action="store_true", help="skip the CPU windows")
    parser.add_argument("--window", type=float, default=20.0, help="seconds per CPU window")
    parser.add_argument("--soak-minutes", type=float, default=10.0)
    parser.add_argument("--soak-interval", type=float, default=10.0, help="seconds per sample")
    parser.add_argument("--json", type=Path, default=Path("benchmarks/results/resources.json"))
    args = parser.parse_args()
    began = time.monotonic()
    results: dict[str, Any] = {"machine": machine_info()}
    extra: dict[str, Any] = {}
    with tempfile.TemporaryDirectory(prefix="nvr-resources-") as name:
        tmp = Path(name)
        if not args.soak_only:
            cpu, extra["cpu_threads"] = bench_cpu(args.window, tmp)
            results |= cpu
        if not args.cpu_only:
            results["soak"], extra["soak_samples"] = bench_soak(
                args.soak_minutes, args.soak_interval, tmp
            )
    results["machine"]["benchmark_seconds"] = round(time.monotonic() - began, 1)
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(results | extra, indent=2))
    width = max(len(f"{s}.{k}") for s, v in results.items() for k in v)
    for section, values in results.items():
        for key, value in values.items():
            print(f"{section}.{key}".ljust(width + 2), _shown(value))
    print("(cpu_pct: percent of one core; 100 = one core busy)")
    print(f"(written to {args.json}, with per-thread CPU and the soak samples)")


if __name__ == "__main__":
    main()
