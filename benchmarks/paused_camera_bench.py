"""What a paused live camera costs: CPU and memory over a paused stretch, then the resume.

Real RTSP cameras (tests/rtsp_camera.py: GStreamer's server, a moving ball, 720p at 15 fps by
default) on the real pipeline, in this process, through the engine's gate and a recording
publisher. Three ways to stop a paused camera's work, chosen with --mode:

* `park` (shipped): muted at once, the connection closed after the grace (stream_control.py);
* `mute`: muted for the whole pause (the grace set to forever: what shipped before);
* `pause`: the pipeline's `pause_stream` for a camera too (the reader stops, the socket fills).

For each: CPU of this process while paused, in % of one core per camera (the RTSP servers are
other processes, not counted), RSS sampled every 10 s with its least-squares slope, the capture
map's size, and after the resume the seconds to the first detection and how many frames came
in the first 0.5 s (a burst far above fps * 0.5 is a backlog: stale frames).

    python -m benchmarks.paused_camera_bench [--mode park|mute|pause] [--cameras 2]
        [--minutes 1] [--camera 1280x720@15] [--json PATH]
"""

from __future__ import annotations

import argparse
from contextlib import ExitStack
import json
import statistics
import time
from typing import Any

import psutil  # type: ignore[import-untyped]  # no stubs installed

from custom_components.nvr_inference.engine.detect.spec import parse_detector
from custom_components.nvr_inference.engine.fence.gate import PauseGate
from custom_components.nvr_inference.engine.pipeline.engine import Engine
from custom_components.nvr_inference.engine.pipeline.runner import RunnerOptions
from custom_components.nvr_inference.engine.video import stream_control
from custom_components.nvr_inference.engine.video.sources import SourceConfig, SourceKind
from tests.conftest import Recorder
from tests.mqtt_helpers import free_port
from tests.rtsp_camera import rtsp_camera


def run(mode: str, cameras: int, minutes: float, camera: str) -> dict[str, Any]:
    """Run one paused stretch and the resume; return the numbers."""
    if mode == "mute":
        stream_control.RELEASE_GRACE = 1e6  # longer than any run (not inf: a wait timeout)
    elif mode == "pause":
        stream_control.LIVE_KINDS = frozenset()  # type: ignore[misc]  # cameras paused as files
    captured = Recorder()
    published = Recorder()

    def on_update(update: Any) -> None:
        if update.event_type == "FRAME_CAPTURED":
            captured.append(time.monotonic())

    with ExitStack() as stack:
        ports = [free_port() for _ in range(cameras)]
        for port in ports:
            stack.enter_context(rtsp_camera(port, camera))
        sources = [SourceConfig(i, f"rtsp://127.0.0.1:{p}/cam") for i, p in enumerate(ports)]
        assert all(s.kind is SourceKind.STREAM for s in sources)
        gate = PauseGate([s.source_id for s in sources])
        engine = Engine(
            sources,
            parse_detector("motion"),
            lambda m: gate.publish_if_open(m.source_id, m.frame_id, lambda: published.append(m)),
            gate=gate,
            options=RunnerOptions(extra_status_handlers=(on_update,)),
        )
        stack.callback(engine.stop)
        engine.start()
        assert published.wait_for(lambda ms: len({m.source_id for m in ms}) == cameras, 120)
        proc = psutil.Process()
        engine.pause()
        time.sleep(stream_control.RELEASE_GRACE + 3 if mode == "park" else 3)  # let it settle
        cpu0, wall0, frames0 = sum(proc.cpu_times()[:2]), time.monotonic(), len(captured)
        rss: list[tuple[float, float]] = []
        end = wall0 + minutes * 60
        while time.monotonic() < end:
            rss.append((time.monotonic() - wall0, proc.memory_info().rss / 2**20))
            time.sleep(min(10.0, max(0.0, end - time.monotonic())))
        rss.append((time.monotonic() - wall0, proc.memory_info().rss / 2**20))
        seconds = time.monotonic() - wall0
        cpu = (sum(proc.cpu_times()[:2]) - cpu0) / seconds * 100
        frames_paused = len(captured) - frames0
        maps = sum(len(r._captured_at) for r in engine.runners.values())  # noqa: SLF001
        count = len(published)
        resumed = time.monotonic()
        engine.resume()
        ok = published.wait_for(lambda ms: any(m.detections for m in ms[count:]), 30)
        first = time.monotonic() - resumed if ok else None
        captured.wait_for(lambda ts: ts and ts[-1] > resumed + 2.0, 10)
        burst = sum(1 for t in captured.snapshot() if resumed <= t <= resumed + 0.5)
    xs, ys = [x for x, _ in rss], [y for _, y in rss]
    slope = statistics.linear_regression(xs, ys).slope * 3600 if len(rss) > 2 else 0.0
    return {
        "mode": mode,
        "cameras": cameras,
        "camera": camera,
        "paused_seconds": round(seconds, 1),
        "cpu_pct_per_camera": round(cpu / cameras, 3),
        "frames_grabbed_while_paused": frames_paused,
        "capture_map_entries": maps,
        "rss_mb_first_last": [round(ys[0], 1), round(ys[-1], 1)],
        "rss_mb_min_max": [round(min(ys), 1), round(max(ys), 1)],
        "rss_slope_mb_per_hour": round(slope, 2),
        "first_detection_after_resume_s": None if first is None else round(first, 2),
        "frames_captured_first_0_5_s": burst,
    }


def main() -> None:
    """Parse the flags, run, print and optionally write JSON."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mode", choices=("park", "mute", "pause"), default="park")
    parser.add_argument("--cameras", type=int, default=2)
    parser.add_argument("--minutes", type=float, default=1.0)
    parser.add_argument("--camera", default="1280x720@15")
    parser.add_argument("--json")
    args = parser.parse_args()
    result = run(args.mode, args.cameras, args.minutes, args.camera)
    print(json.dumps(result, indent=2))
    if args.json:
        with open(args.json, "w", encoding="utf-8") as out:
            json.dump(result, out, indent=2)


if __name__ == "__main__":
    main()
