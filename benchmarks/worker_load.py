"""The worker under load: the same fence measurement as the integration's, on the worker.

`python -m benchmarks.worker_load [--sources 1,4,16] [--cycles 1000]` (or `benchmarks/run
--load`). The worker runs in this process as its `Worker` object (what `nvr-inference worker`
runs, minus argument parsing and signals) so the frame clock of `benchmarks/harness.py` can
see its pipeline threads; mosquitto runs outside, and the watcher is an independent paho client.
The worker sets TCP_NODELAY on its own socket; the grid runs on mosquitto as shipped, and 4
sources once more with `set_tcp_nodelay true` on the broker.
"""

from __future__ import annotations

import argparse
from pathlib import Path
import tempfile
from typing import Any

from benchmarks.harness import (
    LOAD_FPS,
    LOAD_SIZE,
    FrameClock,
    Watcher,
    drive_cycles,
    load_result,
    raw_probe,
    steady_window,
    write_results,
)
from custom_components.nvr_inference.engine.config.worker_settings import (
    MqttSettings,
    WorkerSettings,
)
from custom_components.nvr_inference.engine.detect.spec import parse_detector
from custom_components.nvr_inference.engine.objects.tracking import TrackingOptions
from custom_components.nvr_inference.engine.pipeline.loader import inference_pipeline_class
from custom_components.nvr_inference.engine.samples.sample_video import write_sample_video
from custom_components.nvr_inference.engine.video.sources import SourceConfig
from custom_components.nvr_inference.engine.worker.service import Worker
from tests.mqtt_helpers import run_broker


def run_one(
    video: Path,
    sources: int,
    cycles: int,
    nodelay: bool,
    tracking: bool = True,
    steady: float = 10.0,
) -> dict[str, Any]:
    """One worker with `sources` cameras on a fresh broker; drive the cycles; return numbers."""
    extra = "set_tcp_nodelay true\n" if nodelay else ""
    with run_broker(extra) as broker, tempfile.TemporaryDirectory() as state:
        settings = WorkerSettings(
            name=f"bench{sources}",
            mqtt=MqttSettings(host=broker.host, port=broker.port),
            base_topic="nvrw",
            sources=tuple(
                SourceConfig(i, str(video), name=f"Cam {i}", loop=True) for i in range(sources)
            ),
            detector=parse_detector("motion"),
            state_file=Path(state) / "pause.json",
            tracking=TrackingOptions(enabled=tracking),
        )
        clock = FrameClock()
        watcher = Watcher(broker.host, broker.port, "nvrw", clock)
        worker = Worker(settings)
        try:
            with clock.instrument():
                worker.connect()
                worker.start()
            ids = list(range(sources))
            watcher.wait_sources(ids)
            watcher.wait_detections(10 * sources)
            stats = [r.stats for r in worker.engine.runners.values()]
            live = steady_window(watcher, steady, stats)
            with raw_probe(broker.host, broker.port, watcher):
                result = drive_cycles(watcher, ids, cycles, 2000 + sources)
        finally:
            worker.stop()
            watcher.close()
    return load_result(
        watcher,
        result,
        sources,
        LOAD_FPS,
        {
            "host": "worker",
            "frame_size": f"{LOAD_SIZE[0]}x{LOAD_SIZE[1]}",
            "broker_tcp_nodelay": nodelay,
            "tracking": tracking,
            "steady": live,
        },
    )


def main() -> None:
    """Run the grid, print one line per run, merge into benchmarks/results/load.json."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sources", default="1,4,16", help="comma-separated grid")
    parser.add_argument("--cycles", type=int, default=1000)
    parser.add_argument(
        "--no-tracking",
        action="store_true",
        help="tracking and events off (the default is on, as for users): what they cost",
    )
    parser.add_argument(
        "--steady", type=float, default=10.0, help="seconds live without cycles, first"
    )
    parser.add_argument("--no-nodelay-run", action="store_true", help="skip the nodelay row")
    args = parser.parse_args()
    inference_pipeline_class()  # import order matters in the full profile (see pipeline.py)
    grid = [(int(n), False) for n in args.sources.split(",")]
    grid += [] if args.no_nodelay_run else [(4, True)]
    failures = []
    with tempfile.TemporaryDirectory() as tmp:
        video = write_sample_video(Path(tmp) / "load.avi", size=LOAD_SIZE, fps=LOAD_FPS)
        for sources, nodelay in grid:
            result = run_one(
                video, sources, args.cycles, nodelay, not args.no_tracking, args.steady
            )
            section = f"worker_{sources}src_{'nodelay' if nodelay else 'default'}"
            section += "_untracked" if args.no_tracking else ""
            write_results("load", section, result)
            print("LOAD", section, result, flush=True)
            if result["leaked_after_ack"] or result["stale_after_resume"]:
                failures.append(section)
    if failures:
        raise SystemExit(f"the fence failed in {failures}")


if __name__ == "__main__":
    main()
