"""What Roboflow's model loader costs, on a local model package: numbers, not tests.

Needs the full profile (`.venv-full/bin/python -m benchmarks.local_model_bench`). The model is the
tests' tiny ONNX detector (one fixed box; the graph itself costs next to nothing), so the
figures are what each path adds around a model: decoding, pre-processing, the wrapper,
post-processing, the pipeline's threads. Every frame of a 640x480 MJPG file, as fast as the
pipeline goes, best of `--repeats`:

1. `InferencePipeline.init(model_id=<folder>)`: Roboflow's loader and its model wrapper (what
   `local:<folder>` runs).
2. `init_with_custom_logic` calling the same loaded model's `infer`: the same model and wrapper,
   without `init` (the pipeline wiring is not where the cost is).
3. `init_with_custom_logic` with a bare onnxruntime session on the same `weights.onnx`, our own
   resize/scale and a threshold on its output: the model without Roboflow's wrapper.

Each path runs twice: with torch's default intra-op threads (one per core) and with
`torch.set_num_threads(1)`. Roboflow's wrapper does its pre- and post-processing in torch, and on
a small machine that is busy with other work torch's thread pool can cost several times the
work itself; the second run shows how much.

    python -m benchmarks.local_model_bench [--frames N] [--repeats R] [--json PATH]
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
import json
import os
from pathlib import Path
import tempfile
import time
from typing import Any

os.environ.setdefault("OFFLINE_MODE", "True")
os.environ.setdefault("DISABLE_VERSION_CHECK", "True")

import cv2
import numpy as np

from benchmarks.harness import machine_info
from custom_components.nvr_inference.engine.detect.roboflow import (
    load_model,
    local_packages_allowed,
)
from custom_components.nvr_inference.engine.detect.spec import parse_detector
from custom_components.nvr_inference.engine.pipeline.loader import inference_pipeline_class
from custom_components.nvr_inference.engine.samples.sample_video import write_sample_video
from tests.engine.onnx_package import INPUT_SIZE, write_model_package

Sink = Callable[[Any, Any], None]


def _timed(make_pipeline: Callable[[Sink], Any]) -> tuple[float, int, float]:
    """Run a pipeline to the end of its file; return (fps, frames, CPU ms per frame).

    The CPU time is the whole process's (decoding, inference and dispatch threads): what a
    frame costs, whatever else the machine is doing.
    """
    count = [0]

    def sink(_prediction: Any, _frame: Any) -> None:
        count[0] += 1

    pipeline = make_pipeline(sink)
    started, cpu_started = time.perf_counter(), time.process_time()
    pipeline.start(use_main_thread=True)
    elapsed = time.perf_counter() - started
    pipeline.join()
    cpu = time.process_time() - cpu_started
    return count[0] / elapsed, count[0], 1000 * cpu / max(count[0], 1)


def via_init(folder: Path, video: Path) -> Callable[[Sink], Any]:
    def make(sink: Sink) -> Any:
        with local_packages_allowed():
            return inference_pipeline_class().init(
                model_id=str(folder),
                video_reference=str(video),
                on_prediction=sink,
                api_key=None,
                confidence=0.5,
            )

    return make


def via_custom_logic_same_model(folder: Path, video: Path) -> Callable[[Sink], Any]:
    model = load_model(parse_detector(f"local:{folder}"), None)

    def on_video_frame(frames: list[Any]) -> list[Any]:
        predictions = model.infer([f.image for f in frames], confidence=0.5)
        return [p.model_dump(by_alias=True, exclude_none=True) for p in predictions]

    def make(sink: Sink) -> Any:
        return inference_pipeline_class().init_with_custom_logic(
            video_reference=str(video), on_video_frame=on_video_frame, on_prediction=sink
        )

    return make


def via_custom_logic_bare_onnx(folder: Path, video: Path) -> Callable[[Sink], Any]:
    import onnxruntime  # noqa: PLC0415 - the full profile has it

    session = onnxruntime.InferenceSession(
        str(folder / "weights.onnx"), providers=["CPUExecutionProvider"]
    )
    input_name = session.get_inputs()[0].name

    def detect(image: np.ndarray) -> list[dict[str, float]]:
        height, width = image.shape[:2]
        rgb = cv2.cvtColor(cv2.resize(image, (INPUT_SIZE, INPUT_SIZE)), cv2.COLOR_BGR2RGB)
        blob = (rgb.astype(np.float32) / 255.0).transpose(2, 0, 1)[None]
        out = session.run(None, {input_name: blob})[0][0]  # [4 + classes, candidates]
        scores = out[4:]
        best = scores.argmax(0)
        keep = scores.max(0) > 0.5
        sx, sy = width / INPUT_SIZE, height / INPUT_SIZE
        return [
            {
                "x": float(out[0, i] * sx),
                "y": float(out[1, i] * sy),
                "width": float(out[2, i] * sx),
                "height": float(out[3, i] * sy),
                "class_id": int(best[i]),
                "confidence": float(scores[best[i], i]),
            }
            for i in np.flatnonzero(keep)
        ]

    def on_video_frame(frames: list[Any]) -> list[Any]:
        return [detect(f.image) for f in frames]

    def make(sink: Sink) -> Any:
        return inference_pipeline_class().init_with_custom_logic(
            video_reference=str(video), on_video_frame=on_video_frame, on_prediction=sink
        )

    return make


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--frames", type=int, default=400)
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--json", type=Path, default=Path("benchmarks/results/local_model.json"))
    args = parser.parse_args()
    results: dict[str, Any] = {"machine": machine_info()}
    results["machine"]["loadavg_1m_at_start"] = round(os.getloadavg()[0], 2)
    import torch  # noqa: PLC0415 - imported by inference already; here to set its threads

    default_threads = torch.get_num_threads()
    with tempfile.TemporaryDirectory(prefix="nvr-local-model-") as name:
        tmp = Path(name)
        folder = write_model_package(tmp / "model")
        video = write_sample_video(tmp / "clip.avi", frames=args.frames)
        paths = {
            "init_model_id_folder": via_init(folder, video),
            "custom_logic_same_model": via_custom_logic_same_model(folder, video),
            "custom_logic_bare_onnxruntime": via_custom_logic_bare_onnx(folder, video),
        }
        for threads in (default_threads, 1):
            torch.set_num_threads(threads)
            for key, make in paths.items():
                runs = [_timed(make) for _ in range(args.repeats)]
                fps, frames, cpu_ms = max(runs)
                results[f"{key}_torch{threads}t"] = {
                    "fps": fps,
                    "ms_per_frame": 1000 / fps,
                    "cpu_ms_per_frame": cpu_ms,
                    "frames": frames,
                }
        torch.set_num_threads(default_threads)
    results["machine"]["loadavg_1m_at_end"] = round(os.getloadavg()[0], 2)
    rows = [k for k in results if k != "machine"]
    for key in rows:
        bare = results[f"custom_logic_bare_onnxruntime_{key.rsplit('_', 1)[1]}"]
        results[key]["ms_over_bare_onnxruntime"] = (
            results[key]["ms_per_frame"] - bare["ms_per_frame"]
        )
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(results, indent=2))
    head = f"{'path (640x480 MJPG, every frame)':<42}{'fps':>8}{'ms':>8}{'+ms vs bare':>13}"
    print(f"{head}{'cpu ms':>8}")
    for key in rows:
        r = results[key]
        print(
            f"{key:<42}{r['fps']:>8.1f}{r['ms_per_frame']:>8.2f}"
            f"{r['ms_over_bare_onnxruntime']:>13.2f}{r['cpu_ms_per_frame']:>8.2f}"
        )
    machine = results["machine"]
    start, end = machine["loadavg_1m_at_start"], machine["loadavg_1m_at_end"]
    print(f"(torchNt: torch intra-op threads; load average at start {start}, at end {end})")
    print(f"(written to {args.json})")


if __name__ == "__main__":
    main()
