"""The Home Assistant app's image with a stand-in Supervisor: options in, a worker on the broker.

The real Supervisor cannot run here (it needs Home Assistant OS or a Supervised install, with
Docker), so what it gives an app is played by the test: /data/options.json in a bind mount, the
config folder as /config, $SUPERVISOR_TOKEN, and `GET /services/mqtt` answered by a small HTTP
server on 127.0.0.1 (the run script's $NVR_SUPERVISOR_URL points there instead of
http://supervisor). The broker asks for the user and password that answer gives.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
import json
from pathlib import Path
import subprocess
import tempfile
import threading
from typing import Any

import pytest

from ..mqtt_helpers import Broker, Subscriber, _spawn, _wait_listening, free_port
from ..rtsp_camera import rtsp_camera
from ..worker.conftest import (
    command,
    detection_of,
    is_availability,
    last_seq,
    on_topic,
    status_of,
)
from .conftest import Container, container_args, readable_copy, writable_dir

pytestmark = [pytest.mark.pipeline, pytest.mark.image, pytest.mark.usefixtures("socket_enabled")]

Run = Callable[..., Container]
TOKEN = "supervisor-token-for-the-test"
MQTT_USER = "addons"
MQTT_PASSWORD = "broker-pw-never-logged"
CAMERA_PASSWORD = "camera-pw-never-logged"


@contextmanager
def authenticated_broker() -> Iterator[tuple[Broker, int]]:
    """A mosquitto with an anonymous listener (the test's client) and one needing a password.

    Yields the broker as the anonymous side sees it and the port that asks for the password
    (MQTT_USER, MQTT_PASSWORD). mosquitto started as root reads the password file as its own
    user, so the folder is readable by all.
    """
    port, secured = free_port(), free_port()
    with tempfile.TemporaryDirectory(prefix="nvr-mosquitto-") as tmp:
        Path(tmp).chmod(0o755)
        password_file = Path(tmp) / "passwords"
        subprocess.run(
            ["mosquitto_passwd", "-c", "-b", str(password_file), MQTT_USER, MQTT_PASSWORD],
            check=True,
        )
        password_file.chmod(0o644)
        config = Path(tmp) / "mosquitto.conf"
        config.write_text(
            f"per_listener_settings true\npersistence false\nlog_dest stderr\nlog_type error\n"
            f"listener {port} 127.0.0.1\nallow_anonymous true\n"
            f"listener {secured} 127.0.0.1\nallow_anonymous false\npassword_file {password_file}\n"
        )
        broker = Broker("127.0.0.1", port, _spawn(config), config)
        try:
            _wait_listening(broker.host, port, broker.process)
            _wait_listening(broker.host, secured, broker.process)
            yield broker, secured
        finally:
            broker.stop()


@contextmanager
def supervisor(mqtt: dict[str, Any] | None) -> Iterator[tuple[str, list[str]]]:
    """The Supervisor's services API on 127.0.0.1: its URL, and the Authorization headers seen.

    `mqtt` None answers 400, as the Supervisor does when no app provides the service.
    """
    seen: list[str] = []

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            seen.append(self.headers.get("Authorization", ""))
            if self.headers.get("Authorization") != f"Bearer {TOKEN}":
                self._reply(401, {"result": "error", "message": "Unauthorized"})
            elif self.path != "/services/mqtt" or mqtt is None:
                self._reply(400, {"result": "error", "message": "No mqtt service available"})
            else:
                self._reply(200, {"result": "ok", "data": mqtt})

        def _reply(self, code: int, body: dict[str, Any]) -> None:
            data = json.dumps(body).encode()
            self.send_response(code)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *_args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, name="stand-in-supervisor")
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", seen
    finally:
        server.shutdown()
        thread.join(10)
        server.server_close()


def _app_folders(tmp_path: Path, options: Any, worker_yaml: str | None = None) -> dict[Path, str]:
    data = writable_dir(tmp_path / "data")
    (data / "options.json").write_text(options if isinstance(options, str) else json.dumps(options))
    config = writable_dir(tmp_path / "config")
    if worker_yaml is not None:
        (config / "worker.yaml").write_text(worker_yaml)
    return {data: "/data", config: "/config"}


def _env(url: str) -> dict[str, str]:
    return {"SUPERVISOR_TOKEN": TOKEN, "NVR_SUPERVISOR_URL": url}


def test_the_app_runs_the_cameras_of_its_options_on_the_supervisors_broker(
    run_container: Run, app_image: str, sample_video: Path, tmp_path: Path
) -> None:
    video = readable_copy(sample_video, tmp_path / "video")
    camera_port = free_port()
    with (
        authenticated_broker() as (broker, secured),
        supervisor(
            {
                "host": "127.0.0.1",
                "port": secured,
                "ssl": False,
                "protocol": "3.1.1",
                "username": MQTT_USER,
                "password": MQTT_PASSWORD,
                "addon": "core_mosquitto",
            }
        ) as (url, seen),
        rtsp_camera(camera_port),
    ):
        sub = Subscriber(broker, ["#"])
        try:
            options = {
                "cameras": [
                    {"name": "Porch", "url": f"/video/{video.name}"},
                    {
                        "name": "Door",
                        "url": f"rtsp://viewer:{CAMERA_PASSWORD}@127.0.0.1:{camera_port}/cam",
                    },
                ],
                "detector": "motion",
                "max_fps": 5,
            }
            volumes = _app_folders(tmp_path, options, "loop: true\n") | {video.parent: "/video:ro"}
            app = run_container(app_image, volumes=volumes, env=_env(url))
            discovery = sub.wait_for(on_topic("homeassistant/device/nvr_worker_app/config"), 60)
            assert discovery.json()["avty"][0]["t"] == "nvr/availability"
            sub.wait_for(detection_of("nvr", 0), 60)
            sub.wait_for(detection_of("nvr", 1), 60)
            running = sub.wait_for(status_of("nvr", lambda s: s["state"] == "running"), 30)
            names = {s["name"] for s in running.json()["sources"].values()}
            assert names == {"Porch", "Door"}
            after = last_seq(sub)
            command(sub, "nvr", '{"command": "pause", "source_id": 1}')
            sub.wait_for(
                status_of("nvr", lambda s: s["sources"]["1"]["paused_by_source"]), 30, after
            )
            after = last_seq(sub)
            code, _ = app.stop(30)
            assert code == 0
            sub.wait_for(is_availability("nvr", "offline"), 10, after)
        finally:
            sub.close()
    assert seen and all(header == f"Bearer {TOKEN}" for header in seen)
    output = app.output()
    assert "nvr-inference app: starting the worker: motion on Porch, Door" in output
    assert MQTT_PASSWORD not in output
    assert CAMERA_PASSWORD not in output
    # The pause is kept in /data, where the Supervisor keeps an app's data across updates.
    state = json.loads((tmp_path / "data" / "nvr_worker_app.json").read_text())
    assert state == {"format": 1, "paused": False, "paused_sources": [1]}


@pytest.mark.parametrize(
    ("options", "line"),
    [
        ({"cameras": [], "detector": "person"}, "no camera: add at least one under cameras"),
        ('{"cameras": [', "are not valid JSON"),
        (
            {"cameras": [{"name": "A", "url": "rtsp://x/1"}, {"name": "A", "url": "rtsp://x/2"}]},
            "the name 'A' is used twice",
        ),
        # Past the run script's checks: the worker's own one-line error, its exit code 2.
        (
            {"cameras": [{"name": "A", "url": "rtsp://x/1"}], "detector": "nonsense"},
            "nvr-inference: error: ",
        ),
    ],
)
def test_bad_options_exit_non_zero_with_one_clear_line(
    app_image: str, tmp_path: Path, options: Any, line: str
) -> None:
    with supervisor({"host": "127.0.0.1", "port": free_port()}) as (url, _seen):
        command = container_args(
            app_image,
            name=f"nvr-test-bad-{tmp_path.name[-20:]}",
            volumes=_app_folders(tmp_path, options),
            env=_env(url),
        )
        done = subprocess.run(command, capture_output=True, text=True, timeout=120, check=False)
    lines = [text for text in done.stderr.splitlines() if text.strip()]
    assert done.returncode == 2, done.stderr
    # The one error line; past the run script's checks it follows the app's "starting" line.
    errors = [text for text in lines if not text.startswith("nvr-inference app: starting")]
    assert len(errors) == 1, lines
    assert line in errors[0]
    assert len(lines) <= 2, lines
    assert "Traceback" not in done.stdout + done.stderr


def test_no_broker_from_the_supervisor_is_one_line_too(app_image: str, tmp_path: Path) -> None:
    options = {"cameras": [{"name": "A", "url": "rtsp://x/1"}]}
    with supervisor(None) as (url, _seen):
        command = container_args(
            app_image,
            name=f"nvr-test-nobroker-{tmp_path.name[-12:]}",
            volumes=_app_folders(tmp_path, options),
            env=_env(url),
        )
        done = subprocess.run(command, capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 3, done.stderr
    assert done.stderr.strip().splitlines() == [
        "nvr-inference app: error: the Supervisor has no MQTT broker for this app (HTTP 400): "
        "install and start the Mosquitto broker app"
    ]
