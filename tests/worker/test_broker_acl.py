"""The example broker ACL (docs/mosquitto-acl.example) keeps strangers off the base topic.

A real mosquitto with users and the example ACL file as it is shipped, a real worker logged in
as its user: a reader's retained fake `online` and its commands are dropped by the broker, Home
Assistant's user may pause, and the worker runs and is seen as usual.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
import os
from pathlib import Path
import subprocess

import pytest

from ..mqtt_helpers import Broker, Subscriber, run_broker
from .conftest import ROOT, WorkerProcess, barrier, is_availability, status_of, worker_args

pytestmark = pytest.mark.pipeline

Spawn = Callable[..., WorkerProcess]
ACL = ROOT / "docs" / "mosquitto-acl.example"
USERS = {"nvr-worker": "w-secret", "homeassistant": "ha-secret", "nodered": "nr-secret"}


@pytest.fixture
def acl_broker(socket_enabled: None, tmp_path: Path) -> Iterator[Broker]:
    """mosquitto with a password per user and the example ACL, anonymous clients refused."""
    passwd = tmp_path / "passwd"
    passwd.touch(mode=0o600)
    for user, password in USERS.items():
        subprocess.run(["mosquitto_passwd", "-b", str(passwd), user, password], check=True)
    extra = f"allow_anonymous false\npassword_file {passwd}\nacl_file {ACL}\n"
    if os.geteuid() == 0:  # mosquitto would drop to its own user, who cannot read tmp_path
        extra += "user root\n"
    with run_broker(extra) as running:  # the later allow_anonymous wins
        yield running


def _login(user: str) -> tuple[str, str]:
    return user, USERS[user]


def test_the_example_acl_keeps_a_fake_online_and_strangers_commands_off(
    spawn_worker: Spawn, acl_broker: Broker, sample_video: Path
) -> None:
    stranger = Subscriber(acl_broker, ["nvr/#"], "nvr-test-stranger", _login("nodered"))
    ha = Subscriber(acl_broker, ["nvr/#"], "nvr-test-ha", _login("homeassistant"))
    try:
        fake = '{"state": "online", "host": "worker:nvr_worker_fake@elsewhere"}'
        stranger.publish("nvr/availability", fake, retain=True)  # the broker drops it
        args = [*worker_args(acl_broker, sample_video), "--mqtt-username", "nvr-worker"]
        worker = spawn_worker(*args, env={"NVR_MQTT_PASSWORD": USERS["nvr-worker"]})
        online = ha.wait_for(is_availability("nvr", "online"), 60)
        assert "nvr_worker_test" in online.json()["host"]  # the worker started: not locked out
        assert not ha.select(lambda m: "fake" in m.payload.decode(errors="replace"))
        fence = barrier(ha, "nvr")  # Home Assistant's user may send commands
        stranger.publish("nvr/control/commands", '{"command": "pause"}')  # dropped
        ha.publish("nvr/control/commands", '{"command": "status"}')
        status = ha.wait_for(status_of("nvr"), 30, fence)
        assert status.json()["paused"] is False  # the stranger's pause never arrived
        ha.publish("nvr/control/commands", '{"command": "pause"}')
        ha.wait_for(status_of("nvr", lambda s: s["paused"] is True), 30, status.seq)
        assert worker.process.poll() is None
    finally:
        stranger.close()
        ha.close()
