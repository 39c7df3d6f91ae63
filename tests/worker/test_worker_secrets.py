"""Camera passwords in every URL style never leave the worker: logs, stderr, MQTT, the YAML."""

from __future__ import annotations

import logging
from pathlib import Path

from custom_components.nvr_inference.engine.config.worker_settings import (
    MqttSettings,
    WorkerSettings,
)
from custom_components.nvr_inference.engine.video.sources import SourceConfig
from custom_components.nvr_inference.engine.worker.logs import RedactSecrets, worker_secrets

from ..mqtt_helpers import free_port
from .conftest import run_worker_once

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


def test_unreachable_cameras_at_debug_leave_no_password_on_stderr(
    sample_video: Path, socket_enabled: None
) -> None:
    """OpenCV printed the Reolink URL whole, password included, at DEBUG (its own stderr)."""
    port = free_port()
    done = run_worker_once(
        "--mqtt-port", str(free_port()), "--name", "secrets", "--detector", "motion",
        "--log-level", "debug", "--source", f"File={sample_video}",
        "--source", f"Reo={reolink_url(port)}", "--source", f"Gate={at_url(port)}",
    )  # fmt: skip
    output = done.stdout + done.stderr
    assert done.returncode == 2, output  # a camera down at start still stops it (issue 20)
    assert "DEBUG" in output  # it did log at debug level
    for secret in (REOLINK_PASSWORD, "Reo%40SECRET9", AT_PASSWORD, "SECRET"):
        assert secret not in output, output
    assert "user=***&password=***" in output  # the URL itself is shown, redacted
