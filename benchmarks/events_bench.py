"""Tracking, events and zones: what they cost, how fast an event arrives, and what they save.

    python -m benchmarks.events_bench [--seconds 60]      (or benchmarks/run --only events)

1. Cost per frame at 640x480 of tracking plus zones (ByteTrack, two zones, one line: the
   dispatch thread's share) and of the event engine (inside the fence), with 1, 10 and 50
   objects in view, as a ratio to the motion detector's own time on the same frames, measured
   in the same run. Steady state: the tracks' snapshots are rendered when a track's best
   score improves, which a steady scene stops doing; that encode is timed on its own.
2. Frame captured -> `new` event at an independent subscriber, 4 cameras x 30 fps (the worker,
   the motion detector on the load video): the event's `frame_time` is the capture time of the
   frame that made the object an event, on the same clock as the subscriber's.
3. Events vs detection messages on the sample video (the face detector, 10 fps), per hour.
"""

from __future__ import annotations

import argparse
from datetime import UTC, datetime
import json
from pathlib import Path
import statistics
import tempfile
import threading
import time
from typing import Any

import numpy as np

from benchmarks.harness import LOAD_FPS, LOAD_SIZE, percentile, write_results
from custom_components.nvr_inference.engine.config.worker_settings import (
    MqttSettings,
    WorkerSettings,
)
from custom_components.nvr_inference.engine.contract.messages import Detection, DetectionMessage
from custom_components.nvr_inference.engine.detect.motion import MotionDetector
from custom_components.nvr_inference.engine.detect.registry import build_builtin
from custom_components.nvr_inference.engine.detect.spec import parse_detector
from custom_components.nvr_inference.engine.objects.events import EventEngine
from custom_components.nvr_inference.engine.objects.snapshot import render_snapshot
from custom_components.nvr_inference.engine.objects.tracking import SourceTracker, TrackingOptions
from custom_components.nvr_inference.engine.objects.zones import parse_zones
from custom_components.nvr_inference.engine.pipeline.loader import inference_pipeline_class
from custom_components.nvr_inference.engine.samples.sample_video import (
    SAMPLE_FPS,
    render_frame,
    write_sample_video,
)
from custom_components.nvr_inference.engine.video.sources import SourceConfig
from custom_components.nvr_inference.engine.worker.service import Worker
from tests.mqtt_helpers import Broker, Subscriber, run_broker

SIZE = (640, 480)
ZONES = parse_zones(
    "left: 0,0.4 0.5,0.4 0.5,1 0,1\nright: 0.5,0.4 1,0.4 1,1 0.5,1\nline door: 0.5,0.1 0.5,0.9"
)


def _objects(count: int, frame: int) -> list[Detection]:
    """`count` boxes on a grid, each drifting a little per frame (so tracks stay matched)."""
    cols = max(1, int(count**0.5 + 0.999))
    w, h = SIZE[0] / (cols + 1), SIZE[1] / (cols + 1)
    found = []
    for i in range(count):
        cx = (i % cols + 1) * w + 3.0 * np.sin(frame / 10 + i)
        cy = (i // cols + 1) * h + 3.0 * np.cos(frame / 10 + i)
        found.append(Detection("person", 0, 0.8, cx, cy, w * 0.5, h * 0.5))
    return found


def _boxes(count: int, frame: int) -> Any:
    """The same objects as `_objects`, as supervision's boxes (what every library is fed)."""
    import supervision as sv  # noqa: PLC0415

    found = _objects(count, frame)
    return sv.Detections(
        xyxy=np.array(
            [
                [d.x - d.width / 2, d.y - d.height / 2, d.x + d.width / 2, d.y + d.height / 2]
                for d in found
            ],
            dtype=np.float32,
        ),
        confidence=np.full(count, 0.8, dtype=np.float32),
        class_id=np.zeros(count, dtype=int),
    )


def _libraries() -> dict[str, tuple[Any, Any]]:
    """Each tracker library there is: (make a tracker, one update), at our settings."""
    import warnings  # noqa: PLC0415

    import supervision as sv  # noqa: PLC0415
    from trackers import ByteTrackTracker  # noqa: PLC0415 - the reference, not a dependency

    from custom_components.nvr_inference.engine.objects.bytetrack import (  # noqa: PLC0415
        ByteTracker,
    )

    options = TrackingOptions()
    activation = min(1.0, options.activation_threshold + 0.1)
    min_iou = 1.0 - options.matching_threshold

    def supervision_bytetrack() -> Any:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", FutureWarning)
            return sv.ByteTrack(0.25, 30, 0.8, 30)

    out: dict[str, tuple[Any, Any]] = {
        f"supervision {sv.__version__} ByteTrack": (
            supervision_bytetrack,
            lambda t, d, _i: t.update_with_detections(d),
        ),
        "trackers ByteTrackTracker (capture times)": (
            lambda: ByteTrackTracker(
                lost_track_buffer=options.lost_track_buffer,
                frame_rate=30.0,
                track_activation_threshold=activation,
                high_conf_det_threshold=options.activation_threshold,
                minimum_iou_threshold=min_iou,
                minimum_consecutive_frames=1,
            ),
            lambda t, d, i: t.update(d, timestamp=i / 30),
        ),
        "ours: objects/bytetrack.py (the same algorithm, on Python floats)": (
            lambda: ByteTracker(
                lost_track_buffer=options.lost_track_buffer,
                activation_threshold=activation,
                high_confidence=options.activation_threshold,
                min_iou=min_iou,
            ),
            lambda t, d, i: t.update(d.xyxy.tolist(), d.confidence.tolist(), i / 30),
        ),
    }
    try:
        import norfair  # noqa: PLC0415
    except ImportError:
        return out

    def norfair_update(tracker: Any, boxes: Any, _i: int) -> Any:
        found = [
            norfair.Detection(np.array([[b[0], b[1]], [b[2], b[3]]]), scores=np.array([0.8, 0.8]))
            for b in boxes.xyxy
        ]
        return tracker.update(found)

    out[f"norfair {norfair.__version__} (IoU)"] = (
        lambda: norfair.Tracker(
            distance_function="iou", distance_threshold=0.8, hit_counter_max=30
        ),
        norfair_update,
    )
    return out


def tracker_libraries(motion_ms: float, frames: int = 300) -> dict[str, Any]:
    """One update of each tracker library on the same tracks, ms a frame; one run."""
    from importlib.util import find_spec  # noqa: PLC0415

    result: dict[str, Any] = {}
    for name, (make, update) in _libraries().items():
        row: dict[str, Any] = {}
        for count in (1, 10, 50):
            tracker = make()
            boxes = [_boxes(count, i) for i in range(30 + frames)]
            spent = 0.0
            for i, frame_boxes in enumerate(boxes):
                t0 = time.perf_counter()
                update(tracker, frame_boxes, i)
                if i >= 30:
                    spent += time.perf_counter() - t0
            row[f"{count}_objects_ms"] = round(spent * 1000 / frames, 3)
        row["10_objects_ratio_to_motion"] = round(row["10_objects_ms"] / motion_ms, 3)
        result[name] = row
    if find_spec("norfair") is None:
        result["norfair"] = (
            "not installed: norfair 2.3 declares numpy < 2 (Home Assistant pins 2.3)"
        )
    return result


def tracking_cost(frames: int = 300) -> dict[str, Any]:
    """Per-frame cost of tracking + zones and of the event engine, vs the motion detector."""
    images = [render_frame(i, SIZE) for i in range(60)]
    motion = MotionDetector()
    for image in images[:5]:
        motion(image)
    started = time.perf_counter()
    for i in range(frames):
        motion(images[i % len(images)])
    motion_ms = (time.perf_counter() - started) * 1000 / frames
    person = build_builtin(parse_detector("person", motion_gating=False))
    started = time.perf_counter()
    for i in range(30):
        person(images[i % len(images)])
    person_ms = (time.perf_counter() - started) * 1000 / 30
    result: dict[str, Any] = {
        "frame": f"{SIZE[0]}x{SIZE[1]}",
        "motion_detector_ms": round(motion_ms, 3),
        "person_detector_ms": round(person_ms, 2),
    }
    source = SourceConfig(0, "bench")
    for count in (1, 10, 50):
        options = TrackingOptions()
        tracker = SourceTracker(options, ZONES, 30.0)
        events = EventEngine(
            base_topic="nvr",
            sources={0: source},
            zones={0: ZONES},
            classes=("person",),
            options=options,
        )
        warm = 30  # tracks confirmed, snapshots rendered, scores steady
        track_s = event_s = 0.0
        for i in range(warm + frames):
            image = images[i % len(images)]
            t0 = time.perf_counter()
            tracked = tracker.process(_objects(count, i), image, 0, 1000.0 + i / 30)
            drawn = tracked.draw_snapshots(image, tracker.polygons)  # the publisher's share
            t1 = time.perf_counter()
            message = DetectionMessage(
                0,
                i + 1,
                datetime.now(UTC),
                "person",
                SIZE[0],
                SIZE[1],
                tracked.detections,
                crossings=tracked.crossings,
                track_snapshots=drawn,
            )
            events.on_frame(message)
            t2 = time.perf_counter()
            if i >= warm:
                track_s += t1 - t0
                event_s += t2 - t1
        track_ms = track_s * 1000 / frames
        event_ms = event_s * 1000 / frames
        result[f"{count}_objects"] = {
            "tracking_and_zones_ms": round(track_ms, 3),
            "event_engine_ms": round(event_ms, 3),
            "total_ms": round(track_ms + event_ms, 3),
            "ratio_to_motion": round((track_ms + event_ms) / motion_ms, 3),
            "ratio_to_person": round((track_ms + event_ms) / person_ms, 3),
        }
    image = images[20]
    t0 = time.perf_counter()
    for _ in range(20):
        render_snapshot(image, _objects(1, 0), polygons=[])
    result["snapshot_render_ms"] = round((time.perf_counter() - t0) * 1000 / 20, 2)
    result["libraries"] = tracker_libraries(motion_ms, frames)
    return result


def _worker(broker: Broker, video: Path, detector: str, sources: int, state: Path) -> Worker:
    return Worker(
        WorkerSettings(
            name="events",
            mqtt=MqttSettings(host=broker.host, port=broker.port),
            base_topic="nvre",
            sources=tuple(
                SourceConfig(i, str(video), name=f"Cam {i}", loop=True) for i in range(sources)
            ),
            detector=parse_detector(detector),
            state_file=state,
            tracking=TrackingOptions(end_after=1.0),
        )
    )


def new_event_latency(seconds: float) -> dict[str, Any]:
    """Capture -> `new` at an independent subscriber, 4 cameras x 30 fps, motion."""
    latencies: list[float] = []
    lock = threading.Lock()
    with tempfile.TemporaryDirectory() as tmp, run_broker() as broker:
        video = write_sample_video(Path(tmp) / "load.avi", size=LOAD_SIZE, fps=LOAD_FPS)
        watcher = Subscriber(broker, ["nvre/events"], client_id="events-latency")

        def on_event(_client: Any, _userdata: Any, msg: Any) -> None:
            arrived = datetime.now(UTC)
            body = json.loads(msg.payload)
            if body["type"] == "new":
                captured = datetime.fromisoformat(body["after"]["frame_time"])
                with lock:
                    latencies.append((arrived - captured).total_seconds() * 1000)

        watcher.client.message_callback_add("nvre/events", on_event)
        worker = _worker(broker, video, "motion", 4, Path(tmp) / "state.json")
        try:
            worker.connect()
            worker.restore_pause()
            worker.start()
            time.sleep(seconds)  # the measuring window, not a synchronisation
        finally:
            worker.stop()
            watcher.close()
    return {
        "cameras": 4,
        "fps_per_camera": LOAD_FPS,
        "frame": f"{LOAD_SIZE[0]}x{LOAD_SIZE[1]}",
        "new_events": len(latencies),
        "capture_to_new_p50_ms": round(statistics.median(latencies), 2),
        "capture_to_new_p99_ms": round(percentile(latencies, 0.99), 2),
        "note": "includes the min_frames (3) frames before an object is an event",
    }


def events_vs_detections(seconds: float) -> dict[str, Any]:
    """Messages an automation would wake on: events vs detection messages, per hour."""
    with tempfile.TemporaryDirectory() as tmp, run_broker() as broker:
        video = write_sample_video(Path(tmp) / "sample.avi")
        counter = Subscriber(broker, ["nvre/events", "nvre/detections/#"], client_id="count")
        worker = _worker(broker, video, "face", 1, Path(tmp) / "state.json")
        try:
            worker.connect()
            worker.restore_pause()
            worker.start()
            time.sleep(seconds)  # the counting window
        finally:
            worker.stop()
            counter.close()
        events = [m for m in counter.messages if m.topic == "nvre/events"]
        detections = [m for m in counter.messages if m.topic.startswith("nvre/detections/")]
    per_hour = 3600.0 / seconds
    kinds = {k: sum(1 for m in events if m.json()["type"] == k) for k in ("new", "update", "end")}
    return {
        "video": f"sample scene, {SAMPLE_FPS:g} fps, face detector",
        "seconds": seconds,
        "detection_messages_per_hour": round(len(detections) * per_hour),
        "event_messages_per_hour": round(len(events) * per_hour),
        "new_events_per_hour": round(kinds["new"] * per_hour),
        "by_type": kinds,
        "detections_per_event_message": round(len(detections) / max(1, len(events)), 1),
    }


def main() -> None:
    """Run the three parts; print them; merge into benchmarks/results/events.json."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--cost-only", action="store_true", help="only part 1, the cost")
    args = parser.parse_args()
    inference_pipeline_class()
    cost = tracking_cost()
    write_results("events", "tracking_cost", cost)
    print("EVENTS cost", json.dumps(cost), flush=True)
    if args.cost_only:
        return
    latency = new_event_latency(args.seconds)
    write_results("events", "new_latency", latency)
    print("EVENTS latency", json.dumps(latency), flush=True)
    saving = events_vs_detections(args.seconds)
    write_results("events", "events_vs_detections", saving)
    print("EVENTS per hour", json.dumps(saving), flush=True)


if __name__ == "__main__":
    main()
