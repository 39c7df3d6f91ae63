"""Camera passwords in every URL style never leave the worker: logs, stderr, MQTT, the YAML."""

from __future__ import annotations

from collections.abc import Callable
import json
import logging
from pathlib import Path
from typing import Any

import pytest

from custom_components.nvr_inference.engine.config.worker_settings import (
    MqttSettings,
    WorkerSettings,
)
from custom_components.nvr_inference.engine.video.sources import SourceConfig
from custom_components.nvr_inference.engine.worker.logs import RedactSecrets, worker_secrets

from ..mqtt_helpers import Broker, Subscriber, free_port
from .conftest import WorkerProcess, command, last_seq, on_topic, retained, status_of

pytestmark = pytest.mark.pipeline

REOLINK_PASSWORD = "Reo@SECRET9"
"""Reolink-style: in the query string, percent-encoded there (`Reo%40SECRET9`)."""
AT_PASSWORD = "p@ss-SECRET"
"""In the user info, holding an `@`."""


def reolink_url(port: int) -> str:
    """A Reolink camera's RTMP URL: user and password in the query string."""
    return (
        f"rtmp://127.0.0.1:{port}/bcs/channel0_main.bcs?channel=0&stream=0"
        "&user=admin&password=Reo%40SECRET9"
    )


def at_url(port: int) -> str:
    """An RTSP URL whose password holds an `@`."""
    return f"rtsp://admin:{AT_PASSWORD}@127.0.0.1:{port}/live"


def test_the_log_filter_knows_every_camera_secret_raw_and_decoded() -> None:
    settings = WorkerSettings(
        name="t",
        mqtt=MqttSettings(username="nvr", password="mqtt-SECRET"),
        sources=(SourceConfig(0, reolink_url(554), "Reo"), SourceConfig(1, at_url(554), "Gate")),
    )
    redact = RedactSecrets(worker_secrets(settings))
    # What FFmpeg or the pipeline may print: the decoded password outside any URL, the raw
    # query value, and a URL the filter was never told about.
    text = (
        f"login failed for admin with {REOLINK_PASSWORD}; tried password=Reo%40SECRET9; "
        f"auth {AT_PASSWORD} refused; mqtt-SECRET; rtsp://x:other-pw@cam/y; "
        "http://cam/cgi-bin/mjpg/video.cgi?user=admin&pwd=dahua-pw"
    )
    record = logging.LogRecord("x", logging.ERROR, __file__, 1, "%s", (text,), None)
    assert redact.filter(record)
    cleaned = record.getMessage()
    for secret in ("SECRET", "other-pw", "dahua-pw", "Reo%40"):
        assert secret not in cleaned, cleaned
    assert "rtsp://***@cam/y" in cleaned


def test_unreachable_cameras_at_debug_leave_no_password_anywhere(
    spawn_worker: Callable[..., WorkerProcess],
    broker: Broker,
    subscriber: Subscriber,
    sample_video: Path,
) -> None:
    """Two cameras down at start, at DEBUG: no form of either password on stderr or MQTT.

    OpenCV printed the Reolink URL whole, password included, at DEBUG (its own stderr). The
    worker now runs with the cameras down (issue 20), so their errors reach the retained status
    and a command with a pasted camera URL gets an error reply: both are read here too.
    """
    port = free_port()  # nobody listens: both cameras are down
    worker = spawn_worker(
        "--mqtt-port", str(broker.port), "--name", "secrets", "--detector", "motion",
        "--log-level", "debug", "--loop", "--source", f"0:File={sample_video}",
        "--source", f"1:Reo={reolink_url(port)}", "--source", f"2:Gate={at_url(port)}",
    )  # fmt: skip

    def both_down(status: dict[str, Any]) -> bool:
        cameras = [status["sources"][sid] for sid in ("1", "2")]
        return all(c["state"] == "reconnecting" and c["error"] for c in cameras)

    subscriber.wait_for(status_of("nvr", both_down), 60)
    replies = []
    for pasted in (reolink_url(port), at_url(port)):  # a user pastes a camera URL by mistake
        after = last_seq(subscriber)
        command(subscriber, "nvr", json.dumps({"command": "pause", "source_id": pasted}))
        replies.append(subscriber.wait_for(on_topic("nvr/control/error"), 30, after))
    kept = retained(broker, ["nvr/control/status"])["nvr/control/status"]
    assert both_down(kept.json()), kept.json()
    code, _ = worker.stop(30)
    assert code == 0, worker.output()
    output = worker.output()
    assert "DEBUG" in output  # it did log at debug level
    assert "user=***&password=***" in output  # the URL itself is shown, redacted
    published = [m for m in subscriber.messages if m.topic != "nvr/control/commands"]
    wire = [kept, *replies, *published]  # everything the worker published, not our commands
    for secret in (REOLINK_PASSWORD, "Reo%40SECRET9", AT_PASSWORD, "SECRET"):
        assert secret not in output, output
        for message in wire:
            assert secret.encode() not in message.payload, (message.topic, message.payload)
    assert all(reply.json()["error"] for reply in replies)
