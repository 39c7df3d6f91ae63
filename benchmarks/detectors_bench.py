"""Detector benchmarks: numbers, not tests. Prints a table and writes JSON.

1. Detector speed at 640x480: `objects`, `person`, `face` and `motion` (ungated: the detector
   alone), on one thread and on two (`cv2.setNumThreads`; LiteRT's `num_threads` for
   `objects`), on the frames of the three sample scenes:
   frames per second of wall time, and the CPU time per frame (all of this process's threads),
   which is what a frame costs whatever else the machine is doing. On a machine shared with
   other work the wall-time figures drop and two threads may not help: read the load average
   recorded beside them.
2. CPU per camera at 720p / 5 fps, gated and ungated: `person` on the person scene (still 90%
   of the time) and `objects` on the objects scene (still 70% of the time; asked for person,
   car, dog, cat and motorcycle), looping in real time like a camera, through the real engine
   in this process. CPU comes from the kernel's per-thread run time
   (/proc/self/task/<tid>/schedstat, as in resources_bench.py) and is split by thread: decoding
   (the pipeline's video source thread), detection (its inference thread: the gate and the
   detector), the rest (dispatch, our control thread). Every frame's detections are checked
   against the ground truth (class and IoU >= 0.5): a miss or a false alarm would show here.
   Goal: detection at least 5x cheaper gated on the person scene.

    python -m benchmarks.detectors_bench [--speed-only | --cpu-only] [--frames N] [--loops K]
        [--cpu-detectors person objects] [--json PATH]
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from dataclasses import dataclass, field
import json
import os
from pathlib import Path
import tempfile
import threading
import time
from typing import Any

import cv2

from benchmarks.harness import NullTransport, machine_info
from custom_components.nvr_inference.engine.contract.messages import Detection, DetectionMessage
from custom_components.nvr_inference.engine.detect.objects import ObjectsDetector
from custom_components.nvr_inference.engine.detect.registry import build_builtin
from custom_components.nvr_inference.engine.detect.spec import (
    Detector,
    DetectorSpec,
    parse_detector,
)
from custom_components.nvr_inference.engine.fence.gate import PauseGate
from custom_components.nvr_inference.engine.fence.publisher import FencedPublisher
from custom_components.nvr_inference.engine.pipeline.engine import Engine
from custom_components.nvr_inference.engine.samples.objects_scene import (
    OBJECTS_FRAMES,
    load_cutouts,
    objects_at,
    render_objects_frame,
    write_objects_video,
)
from custom_components.nvr_inference.engine.samples.person_scene import (
    PERSON_FRAMES,
    PERSON_PHOTO,
    load_cutout,
    person_at,
    render_person_frame,
    room,
    write_person_video,
)
from custom_components.nvr_inference.engine.samples.photos import photo_path
from custom_components.nvr_inference.engine.samples.sample_video import (
    SAMPLE_FRAMES,
    GroundTruth,
    render_frame,
)
from custom_components.nvr_inference.engine.video.sources import SourceConfig

HD = (1280, 720)
HD_FPS = 5.0
VGA = (640, 480)
OBJECT_CLASSES = ("car", "cat", "dog", "motorcycle", "person")  # the defaults and the motorcycle
DETECTORS = ("objects", "person", "face", "motion")
CPU_DETECTORS = ("person", "objects")


def _ungated(name: str, threads: int) -> Detector:
    """The detector alone; `objects` gets LiteRT's own thread count (OpenCV's is set apart)."""
    if name == "objects":
        return ObjectsDetector(frozenset(OBJECT_CLASSES), num_threads=threads)
    return build_builtin(parse_detector(name, motion_gating=False))


# -- 1. detector speed ----------------------------------------------------------------------------


def bench_speed(frames: int) -> dict[str, Any]:
    """Frames per second of each detector alone, 1 and 2 threads, the three scenes."""
    cutout = load_cutout(photo_path(PERSON_PHOTO), VGA)
    cutouts = load_cutouts(photo_path(PERSON_PHOTO).parent, VGA)
    background = room(VGA)
    scenes = {
        "person_scene": [render_person_frame(i, cutout, VGA, background) for i in range(40, 160)],
        "faces_scene": [render_frame(i) for i in range(SAMPLE_FRAMES)],
        "objects_scene": [
            render_objects_frame(i, cutouts, VGA, background) for i in range(20, 190)
        ],
    }
    out: dict[str, Any] = {}
    before = cv2.getNumThreads()
    try:
        for threads in (1, 2):
            cv2.setNumThreads(threads)
            for name in DETECTORS:
                for scene, images in scenes.items():
                    detector = _ungated(name, threads)
                    detector(images[0])  # warm-up (the first call allocates)
                    started, cpu_started = time.perf_counter(), time.process_time()
                    for i in range(frames):
                        detector(images[i % len(images)])
                    elapsed = time.perf_counter() - started
                    cpu = time.process_time() - cpu_started
                    out[f"{name}_{scene}_{threads}t"] = {
                        "fps": frames / elapsed,
                        "ms_per_frame": 1000 * elapsed / frames,
                        "cpu_ms_per_frame": 1000 * cpu / frames,
                    }
    finally:
        cv2.setNumThreads(before)
    return out


# -- 2. CPU per camera, gated and ungated ----------------------------------------------------------


def _thread_seconds() -> dict[int, float]:
    """CPU seconds per native thread id of this process, in nanoseconds' resolution."""
    found: dict[int, float] = {}
    for task in Path("/proc/self/task").iterdir():
        try:
            found[int(task.name)] = int((task / "schedstat").read_text().split()[0]) / 1e9
        except (OSError, ValueError, IndexError):
            continue
    return found


def _role(thread: threading.Thread) -> str:
    """What a pipeline thread does, from the function it runs (streamvision names none)."""
    target = getattr(getattr(thread, "_target", None), "__name__", "")
    if target == "_consume_video":
        return "decoding"
    if target == "_execute_inference":
        return "detection"
    if target == "_dispatch_inference_results":
        return "dispatch"
    if thread.name.startswith("nvr-control-"):
        return "control"
    return "other"


@dataclass
class Scored:
    """Frames checked against the ground truth: same class and IoU >= 0.5 is a hit."""

    truth_at: Callable[[int, tuple[int, int]], list[GroundTruth]]
    frames: int = 0
    hits: int = 0
    misses: int = 0
    false_alarms: int = 0
    misses_by_class: dict[str, int] = field(default_factory=dict)

    def add(self, message: DetectionMessage) -> None:
        """Score one frame (frame ids count grabs, so id - 1 is the scene's frame)."""
        truth = self.truth_at(message.frame_id - 1, HD)
        found = list(message.detections)
        self.frames += 1
        for box in truth:
            match = next((d for d in found if _hit(d, box)), None)
            if match is None:
                self.misses += 1
                self.misses_by_class[box.class_name] = (
                    self.misses_by_class.get(box.class_name, 0) + 1
                )
            else:
                self.hits += 1
                found.remove(match)
        self.false_alarms += len(found)


def _hit(detection: Detection, truth: GroundTruth) -> bool:
    return detection.class_name == truth.class_name and _iou(detection, truth) >= 0.5


def _iou(detection: Detection, truth: GroundTruth) -> float:
    x1, x2 = detection.x - detection.width / 2, detection.x + detection.width / 2
    y1, y2 = detection.y - detection.height / 2, detection.y + detection.height / 2
    w = max(0.0, min(x2, truth.x2) - max(x1, truth.x1))
    h = max(0.0, min(y2, truth.y2) - max(y1, truth.y1))
    inter = w * h
    union = (x2 - x1) * (y2 - y1) + (truth.x2 - truth.x1) * (truth.y2 - truth.y1) - inter
    return inter / union if union else 0.0


@dataclass(frozen=True)
class Camera:
    """A looping 720p scene, its truth, and the detector that watches it."""

    video: Path
    truth_at: Callable[[int, tuple[int, int]], list[GroundTruth]]
    frames: int
    spec: DetectorSpec


def cpu_per_camera(camera: Camera, loops: int) -> dict[str, Any]:
    """Run the camera's detector on its looping scene; measure whole loops after one warm-up."""
    gate = PauseGate([0])
    scored = Scored(camera.truth_at)
    lock = threading.Lock()
    measuring = threading.Event()
    publisher = FencedPublisher(gate, NullTransport())

    def deliver(message: DetectionMessage) -> None:
        if measuring.is_set():
            with lock:
                scored.add(message)
        publisher(message)

    engine = Engine(
        [SourceConfig(0, str(camera.video), loop=True)], camera.spec, deliver, gate=gate
    )
    loop_seconds = camera.frames / HD_FPS
    pause = threading.Event()
    engine.start()
    try:
        pause.wait(loop_seconds)  # warm-up: one whole loop (model load, first full pass)
        roles = {t.native_id: _role(t) for t in threading.enumerate() if t.native_id}
        before = _thread_seconds()
        started = time.monotonic()
        measuring.set()
        pause.wait(loop_seconds * loops)
        measuring.clear()
        wall = time.monotonic() - started
        after = _thread_seconds()
    finally:
        engine.stop()
    split: dict[str, float] = {}
    for tid, seconds in after.items():
        role = roles.get(tid, "other")
        split[role] = split.get(role, 0.0) + seconds - before.get(tid, 0.0)
    per_camera = sum(v for k, v in split.items() if k != "other")
    result: dict[str, Any] = {
        "gated": camera.spec.gated,
        "window_s": round(wall, 1),
        "frames_scored": scored.frames,
        "fps": scored.frames / wall,
        "objects_in_frames": scored.hits + scored.misses,
        "missed": scored.misses,
        "missed_by_class": scored.misses_by_class,
        "false_alarms": scored.false_alarms,
        "cpu_pct_decoding": 100 * split.get("decoding", 0.0) / wall,
        "cpu_pct_detection": 100 * split.get("detection", 0.0) / wall,
        "cpu_pct_dispatch_control": 100
        * (split.get("dispatch", 0.0) + split.get("control", 0.0))
        / wall,
        "cpu_pct_camera_total": 100 * per_camera / wall,
        "cpu_pct_rest_of_process": 100 * split.get("other", 0.0) / wall,
    }
    detector = engine.runners[0]._detector  # noqa: SLF001 - the gate's own counters
    counts = getattr(detector, "counts", None)
    if counts is not None:
        result["gate_counts_whole_run"] = {
            "full": counts.full,
            "region": counts.region,
            "held": counts.held,
        }
    return result


def bench_cpu(tmp: Path, loops: int, name: str) -> dict[str, Any]:
    """Ungated, then gated, for `person` or `objects` on its scene; and the ratios.

    One thread here (OpenCV's, and LiteRT's by default), so the detector's work stays on the
    pipeline's inference thread (with more, worker threads that Python cannot name would do
    part of it): the figures are per camera, on one core.
    """
    photo = photo_path(PERSON_PHOTO)
    if name == "person":
        video = write_person_video(tmp / "person720.avi", photo, size=HD, fps=HD_FPS)
        truth, frames, classes = person_at, PERSON_FRAMES, ()
    else:
        video = write_objects_video(tmp / "objects720.avi", photo.parent, size=HD, fps=HD_FPS)
        truth, frames, classes = objects_at, OBJECTS_FRAMES, OBJECT_CLASSES
    before = cv2.getNumThreads()
    cv2.setNumThreads(1)
    try:
        runs = {
            gated: cpu_per_camera(
                Camera(
                    video, truth, frames, parse_detector(name, classes=classes, motion_gating=gated)
                ),
                loops,
            )
            for gated in (False, True)
        }
    finally:
        cv2.setNumThreads(before)
    ungated, gated = runs[False], runs[True]
    return {
        "ungated": ungated,
        "gated": gated,
        "detection_share_ratio": ungated["cpu_pct_detection"]
        / max(gated["cpu_pct_detection"], 1e-9),
        "total_ratio": ungated["cpu_pct_camera_total"] / max(gated["cpu_pct_camera_total"], 1e-9),
    }


# -- main -----------------------------------------------------------------------------------------


def _print(results: dict[str, Any], show: Callable[[Any], str]) -> None:
    if "speed" in results:
        _print_speed(results)
    for name in CPU_DETECTORS:
        if f"cpu_720p_5fps_{name}" in results:
            _print_cpu(results, name, show)


def _print_speed(results: dict[str, Any]) -> None:
    speed = results["speed"]
    print(f"{'detector':<9}{'scene':<14}{'1 thread':>28}{'2 threads':>28}")
    for name in DETECTORS:
        for scene in ("person_scene", "faces_scene", "objects_scene"):
            cells = []
            for threads in (1, 2):
                r = speed[f"{name}_{scene}_{threads}t"]
                wall, cpu = r["ms_per_frame"], r["cpu_ms_per_frame"]
                cells.append(f"{r['fps']:>8.1f} fps {wall:>6.1f} ms {cpu:>5.1f} cpu")
            print(f"{name:<9}{scene:<14}{cells[0]:>28}{cells[1]:>28}")
    print("(640x480, the detector alone, ungated; ms = wall time, cpu = CPU ms per frame)")
    machine = results["machine"]
    start, end = machine["loadavg_1m_at_start"], machine["loadavg_1m_at_end"]
    print(f"(load average at start {start}, at end {end})")


def _print_cpu(results: dict[str, Any], name: str, show: Callable[[Any], str]) -> None:
    cpu = results[f"cpu_720p_5fps_{name}"]
    print()
    print(f"{name + ', 720p 5 fps':<28}{'ungated':>12}{'gated':>12}")
    for key in (
        "cpu_pct_decoding",
        "cpu_pct_detection",
        "cpu_pct_dispatch_control",
        "cpu_pct_camera_total",
        "fps",
        "objects_in_frames",
        "missed",
        "false_alarms",
    ):
        print(f"{key:<28}{show(cpu['ungated'][key]):>12}{show(cpu['gated'][key]):>12}")
    print(f"detection share, ungated / gated: {cpu['detection_share_ratio']:.1f}x")
    print(f"camera total, ungated / gated:    {cpu['total_ratio']:.1f}x")
    print("(cpu_pct: percent of one core, per camera; measured over whole loops of the scene)")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    only = parser.add_mutually_exclusive_group()
    only.add_argument("--speed-only", action="store_true", help="skip the CPU per camera")
    only.add_argument("--cpu-only", action="store_true", help="skip the detector speed")
    parser.add_argument("--frames", type=int, default=200, help="frames per speed measurement")
    parser.add_argument("--loops", type=int, default=2, help="40 s scene loops per CPU window")
    parser.add_argument(
        "--cpu-detectors",
        nargs="+",
        choices=CPU_DETECTORS,
        default=list(CPU_DETECTORS),
        help="which detectors the CPU per camera runs (default both)",
    )
    parser.add_argument("--json", type=Path, default=Path("benchmarks/results/detectors.json"))
    args = parser.parse_args()
    began = time.monotonic()
    results: dict[str, Any] = {"machine": machine_info()}
    results["machine"]["loadavg_1m_at_start"] = round(os.getloadavg()[0], 2)
    if not args.cpu_only:
        results["speed"] = bench_speed(args.frames)
    if not args.speed_only:
        with tempfile.TemporaryDirectory(prefix="nvr-detectors-") as name:
            for detector in args.cpu_detectors:
                results[f"cpu_720p_5fps_{detector}"] = bench_cpu(Path(name), args.loops, detector)
    results["machine"]["benchmark_seconds"] = round(time.monotonic() - began, 1)
    results["machine"]["loadavg_1m_at_end"] = round(os.getloadavg()[0], 2)
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(results, indent=2))
    _print(results, lambda v: f"{v:.2f}" if isinstance(v, float) else str(v))
    print(f"(written to {args.json})")


if __name__ == "__main__":
    main()
