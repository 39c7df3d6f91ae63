"""What a worker restart costs before the saved pause holds: numbers, not a test.

In process, 20 times over: the start check (a side client's round trip through the broker, up
to its own probe), reading the state file, and applying it to the gate; then, as a user sees
it, a worker subprocess from `exec` to its retained status saying `restored` at an independent
subscriber (that includes importing the pipeline, probing the source and connecting).

    python -m benchmarks.restart_bench [--runs 20]
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
import statistics
import subprocess
import sys
import tempfile
import time

from benchmarks.harness import percentile, write_results
from custom_components.nvr_inference.engine.config.worker_settings import (
    MqttSettings,
    WorkerSettings,
)
from custom_components.nvr_inference.engine.detect.spec import parse_detector
from custom_components.nvr_inference.engine.fence.pause_store import FilePauseStore, PauseState
from custom_components.nvr_inference.engine.pipeline.loader import inference_pipeline_class
from custom_components.nvr_inference.engine.samples.sample_video import write_sample_video
from custom_components.nvr_inference.engine.video.sources import SourceConfig
from custom_components.nvr_inference.engine.worker.mqtt import check_base_topic
from custom_components.nvr_inference.engine.worker.service import Worker
from tests.mqtt_helpers import Subscriber, is_status, run_broker

ROOT = Path(__file__).resolve().parents[1]


def _ms(values: list[float]) -> dict[str, float]:
    return {
        "p50_ms": round(statistics.median(values), 2),
        "p99_ms": round(percentile(values, 0.99), 2),
        "max_ms": round(max(values), 2),
    }


def in_process(broker_port: int, video: Path, state: Path, runs: int) -> dict[str, object]:
    """Time each step of `Worker.restore_pause` separately."""
    settings = WorkerSettings(
        name="restart",
        mqtt=MqttSettings(port=broker_port),
        sources=tuple(SourceConfig(i, str(video), loop=True) for i in range(4)),
        detector=parse_detector("motion"),
        state_file=state,
    )
    FilePauseStore(state).write(PauseState(False, frozenset({1, 3})))
    check_ms, load_ms, apply_ms, total_ms = [], [], [], []
    for _ in range(runs):
        worker = Worker(settings)
        worker.connect()
        started = time.perf_counter()
        check = check_base_topic(settings)
        checked = time.perf_counter()
        saved = worker.store.load()
        loaded = time.perf_counter()
        worker.plane.restore(saved)
        applied = time.perf_counter()
        assert check.complete
        assert check.verdict(settings.host) is None
        assert worker.gate.snapshot().sources == {0: False, 1: True, 2: False, 3: True}
        check_ms.append((checked - started) * 1000)
        load_ms.append((loaded - checked) * 1000)
        apply_ms.append((applied - loaded) * 1000)
        total_ms.append((applied - started) * 1000)
        worker.stop()
    return {
        "runs": runs,
        "start_check": _ms(check_ms),
        "state_file_read": _ms(load_ms),
        "apply_to_gate": _ms(apply_ms),
        "total": _ms(total_ms),
    }


def as_a_user_sees_it(broker_port: int, video: Path, state: Path, runs: int) -> dict[str, object]:
    """`exec` of a worker -> its retained status saying `restored`, at a subscriber."""
    from tests.mqtt_helpers import Broker  # noqa: PLC0415

    seconds = []
    for n in range(runs):
        watcher = Subscriber(
            Broker("127.0.0.1", broker_port, None, Path()),  # type: ignore[arg-type]
            ["nvrr/control/status"],
            client_id=f"restart-watch-{n}",
        )
        args = [sys.executable, "-m", "custom_components.nvr_inference.engine.worker.cli", "worker"]
        args += ["--mqtt-port", str(broker_port), "--name", "restart-proc", "--base-topic", "nvrr"]
        args += ["--detector", "motion", "--loop", "--source", str(video)]
        args += ["--state-file", str(state), "--log-level", "warning"]
        started = time.perf_counter()
        process = subprocess.Popen(args, cwd=ROOT, stdout=subprocess.DEVNULL)
        try:
            watcher.wait_for(
                lambda m: not m.retain and is_status(lambda s: s["reason"] == "restored")(m), 120
            )
            seconds.append((time.perf_counter() - started) * 1000)
        finally:
            process.terminate()
            process.wait(30)
            watcher.close()
    return {"runs": runs, "exec_to_restored_status": _ms(seconds)}


def main() -> None:
    """Run both, print them, merge into benchmarks/results/restart.json."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=20)
    args = parser.parse_args()
    inference_pipeline_class()
    with tempfile.TemporaryDirectory() as tmp, run_broker() as broker:
        video = write_sample_video(Path(tmp) / "v.avi", size=(320, 240), frames=30)
        state = Path(tmp) / "state.json"
        inside = in_process(broker.port, video, state, args.runs)
        write_results("restart", "worker_in_process", inside)
        print("RESTART worker in process", json.dumps(inside), flush=True)
        FilePauseStore(state).write(PauseState(True))
        user = as_a_user_sees_it(broker.port, video, state, max(3, args.runs // 4))
        write_results("restart", "worker_process", user)
        print("RESTART worker process", json.dumps(user), flush=True)


if __name__ == "__main__":
    main()
