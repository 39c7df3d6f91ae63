"""The worker's paho clients against a real mosquitto: a clean stop logs nothing."""

from __future__ import annotations

import logging

import pytest

from custom_components.nvr_inference.engine.config.worker_settings import (
    MqttSettings,
    WorkerSettings,
)
from custom_components.nvr_inference.engine.worker.mqtt import close, connect_sync, make_client

from ..mqtt_helpers import Broker


def _connect_publish_close(settings: WorkerSettings, suffix: str) -> None:
    client = make_client(settings, will=False, suffix=suffix)
    reasons: list[object] = []
    client.on_connect = lambda _c, _u, _f, reason, _p: reasons.append(reason)
    connect_sync(client, settings.mqtt, lambda: reasons[0] if reasons else None)
    client.loop_start()
    client.publish("nvr/test/close", b"x", qos=1).wait_for_publish(5)
    close(client, threaded=True)


def test_connect_publish_close_logs_no_error(
    broker: Broker, caplog: pytest.LogCaptureFixture
) -> None:
    """paho 2.2 logged `ERROR ... Client is not connected` on a good stop (4 runs in 10 of
    `--remove`, which closes two clients): its network thread ran once more after writing the
    DISCONNECT and closing the socket. `close` stops the thread first."""
    settings = WorkerSettings(name="close", mqtt=MqttSettings(port=broker.port))
    caplog.set_level(logging.DEBUG, logger="paho.mqtt.client")
    for i in range(30):
        _connect_publish_close(settings, f"_{i}")
    assert any("Sending DISCONNECT" in r.getMessage() for r in caplog.records)  # it logged
    errors = [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]
    assert errors == []
