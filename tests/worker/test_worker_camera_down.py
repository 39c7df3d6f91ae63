"""A camera that is down when the worker starts (issue 20, item 4): run the others, retry it.

After a power cut a camera often boots slower than the worker. The worker used to exit with
code 2 (streamvision does not retry a source that never connected); now it runs, the status
says the camera is `reconnecting` with the error (no password in it), and once the camera is
up its detections arrive. A real worker subprocess, a real mosquitto, a real RTSP camera.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
import time

import pytest

from custom_components.nvr_inference.engine.video.first_connect import MAX_RETRY

from ..mqtt_helpers import Broker, Subscriber, free_port
from ..rtsp_camera import rtsp_camera
from .conftest import WorkerProcess, detection_of, last_seq, status_of

pytestmark = pytest.mark.pipeline

PASSWORD = "Down-SECRET-42"
CONNECT_MARGIN = 15.0
"""Seconds beyond the backoff's ceiling for the camera's connect and its first detection."""


def test_a_camera_down_at_start_is_retried_while_the_others_run(
    spawn_worker: Callable[..., WorkerProcess],
    broker: Broker,
    subscriber: Subscriber,
    sample_video: Path,
) -> None:
    port = free_port()  # nothing listens there yet: the camera is down
    worker = spawn_worker(
        "--mqtt-port", str(broker.port), "--name", "down", "--detector", "motion", "--loop",
        "--source", f"0:Porch={sample_video}",
        "--source", f"1:Gate=rtsp://viewer:{PASSWORD}@127.0.0.1:{port}/cam",
    )  # fmt: skip
    subscriber.wait_for(detection_of("nvr", 0), 60)  # the file source publishes

    def gate_down(status: dict) -> bool:
        gate = status["sources"]["1"]
        return gate["state"] == "reconnecting" and "Cannot connect" in (gate["error"] or "")

    down = subscriber.wait_for(status_of("nvr", gate_down), 60)
    status = down.json()
    assert worker.process.poll() is None, worker.output()
    assert status["sources"]["0"]["state"] == "running", status
    assert status["state"] == "degraded", status
    assert status["sources"]["1"]["available"] is False
    error = status["sources"]["1"]["error"]
    assert f"127.0.0.1:{port}/cam" in error, error  # which camera, without its password
    assert "@ 0x" not in error, error  # FFmpeg's context tag, another address every attempt
    assert PASSWORD not in down.payload.decode()

    with rtsp_camera(port):  # the camera has booted
        up, after = time.monotonic(), last_seq(subscriber)
        subscriber.wait_for(detection_of("nvr", 1), MAX_RETRY + CONNECT_MARGIN, after)
        took = time.monotonic() - up
        print(f"camera up -> its first detection: {took:.1f} s")  # noqa: T201
        running = subscriber.wait_for(
            status_of("nvr", lambda s: s["sources"]["1"]["state"] == "running"), 30, after
        ).json()
        assert running["sources"]["1"]["error"] is None, running
        subscriber.wait_for(detection_of("nvr", 0), 30, after)  # the file never stopped
        code, _ = worker.stop(30)
    assert code == 0, worker.output()
    output = worker.output()
    assert "Gate: cannot connect" in output  # one warning names the camera
    assert output.count("Traceback") == 0, output
    assert PASSWORD not in output
    for message in subscriber.messages:
        assert PASSWORD.encode() not in message.payload, message.topic
