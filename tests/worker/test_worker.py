"""The standalone worker: a real subprocess, mosquitto, the real pipeline, an independent client.

The client sees detections, pauses through the broker, receives the retained paused status, then
asks for the status again (a barrier) and counts the detections between the two: zero. Also the
failure modes a user meets: bad configuration, an unreachable broker, malformed commands, a
killed worker (last will), a stopped one, and two workers sharing a broker.
"""

from __future__ import annotations

import ast
from collections.abc import Callable
import json
import logging
from pathlib import Path
import signal
import subprocess
import sys
import time
from typing import Any

import cv2
import pytest

from custom_components.nvr_inference.engine.config.grammar import (
    ConfigError,
    build_sources,
    parse_source_text,
)
from custom_components.nvr_inference.engine.config.resolve import resolve_config
from custom_components.nvr_inference.engine.video.sources import SourceConfig
from custom_components.nvr_inference.engine.worker.cli import main
from custom_components.nvr_inference.engine.worker.logs import RedactSecrets
from custom_components.nvr_inference.engine.worker.parser import build_parser

from ..mqtt_helpers import Broker, Subscriber, free_port, run_broker
from .conftest import (
    ROOT,
    WorkerProcess,
    availability,
    barrier,
    command,
    detection_of,
    is_availability,
    last_seq,
    on_topic,
    retained,
    retained_everywhere,
    run_worker_once,
    status_of,
    worker_args,
)

pytestmark = pytest.mark.pipeline

Spawn = Callable[..., WorkerProcess]
DISCOVERY = "homeassistant/device/nvr_worker_test/config"
SOURCE_DISCOVERY = "homeassistant/device/nvr_worker_test_s0/config"


def _start(
    spawn: Spawn,
    broker: Broker,
    video: Path,
    sub: Subscriber,
    *,
    name: str = "test",
    base: str = "nvr",
    sources: int = 1,
) -> WorkerProcess:
    """Start a worker and wait until its retained status says every source runs."""
    worker = spawn(*worker_args(broker, video, name=name, base=base, sources=sources), base=base)
    sub.wait_for(status_of(base, lambda s: s["state"] == "running"), 60)
    return worker


def _pause_and_measure(
    sub: Subscriber, base: str, payload: str, acked: Callable[[dict], bool]
) -> tuple[int, float]:
    after = last_seq(sub)
    started = time.monotonic()
    command(sub, base, payload)
    ack = sub.wait_for(status_of(base, acked), 30, after)
    return ack.seq, (time.monotonic() - started) * 1000


# -- the pause fence ---------------------------------------------------------------------------


def test_detections_flow_with_status_availability_and_discovery(
    spawn_worker: Spawn, broker: Broker, subscriber: Subscriber, sample_video: Path
) -> None:
    _start(spawn_worker, broker, sample_video, subscriber)
    found = detection_of("nvr", 0)
    message = subscriber.wait_for(lambda m: found(m) and bool(m.json()["detections"])).json()
    assert message["source_id"] == 0
    assert message["model_id"] == "motion"
    assert message["image"] == {"width": 640, "height": 480}
    assert {"frame_id", "frame_timestamp", "detections"} <= set(message)
    assert message["detections"][0]["class"] == "motion"

    config = subscriber.wait_for(on_topic(DISCOVERY)).json()
    camera = subscriber.wait_for(on_topic(SOURCE_DISCOVERY)).json()
    # The hub: the worker's name, its global pause and state; a link to the worker's page.
    assert config["dev"]["ids"] == ["nvr_worker_test"]
    assert config["dev"]["name"] == "test"
    assert config["dev"]["sw"]
    assert config["dev"]["cu"].endswith("/blob/HEAD/docs/worker.md")
    assert config["avty"] == [{"t": "nvr/availability", "val_tpl": "{{ value_json.state }}"}]
    assert set(config["cmps"]) == {"nvr_worker_test_pause", "nvr_worker_test_state"}
    assert config["cmps"]["nvr_worker_test_pause"]["command_topic"] == "nvr/control/commands"
    # The camera: its own device under the hub, named after it (entity ids as the
    # integration's), everything the integration's source device shows.
    assert camera["dev"]["ids"] == ["nvr_worker_test_s0"]
    assert camera["dev"]["via_device"] == "nvr_worker_test"
    assert camera["dev"]["name"] == "Cam 0"
    cmps = camera["cmps"]
    assert set(cmps) == {
        "nvr_worker_test_s0_pause",
        "nvr_worker_test_s0_state",
        "nvr_worker_test_s0_objects",
        "nvr_worker_test_s0_motion_occupancy",
        "nvr_worker_test_s0_snapshot",
        "nvr_worker_test_s0_fps",
        "nvr_worker_test_s0_inference_ms",
        "nvr_worker_test_s0_objects_event",
        "nvr_worker_test_s0_last_event",
    }
    assert cmps["nvr_worker_test_s0_pause"]["name"] == "Pause detections"
    assert "entity_category" not in cmps["nvr_worker_test_s0_pause"]
    assert cmps["nvr_worker_test_s0_objects_event"]["event_types"] == [
        "motion_new",
        "motion_update",
        "motion_end",
    ]
    # What shows the camera's present follows its status too: unavailable while paused.
    live = cmps["nvr_worker_test_s0_objects"]
    assert live["avty_mode"] == "all"
    assert [a["t"] for a in live["avty"]] == ["nvr/availability", "nvr/control/status"]
    assert "avty" not in cmps["nvr_worker_test_s0_state"]  # says "paused", stays available
    snapshot = subscriber.wait_for(on_topic("nvr/sources/0/snapshot"), 30)
    assert snapshot.payload[:2] == b"\xff\xd8"  # a JPEG

    found = retained(broker, ["nvr/control/status", DISCOVERY, "nvr/availability"])
    assert availability(found["nvr/availability"]) == "online"
    status = found["nvr/control/status"].json()
    assert status["paused"] is False
    assert status["sources"]["0"]["name"] == "Cam 0"
    assert found[DISCOVERY].json() == config

    # Home Assistant's birth message asks for discovery again.
    after = last_seq(subscriber)
    subscriber.publish("homeassistant/status", "online")
    assert subscriber.wait_for(on_topic(DISCOVERY), 30, after).json() == config


def test_pause_by_command_fences_detections_then_resume(
    spawn_worker: Spawn, broker: Broker, subscriber: Subscriber, sample_video: Path
) -> None:
    _start(spawn_worker, broker, sample_video, subscriber)
    subscriber.wait_for(detection_of("nvr", 0))

    ack, latency_ms = _pause_and_measure(
        subscriber, "nvr", '{"command": "pause"}', lambda s: s["paused"] is True
    )
    print(f"pause -> retained ack at the subscriber: {latency_ms:.1f} ms")  # noqa: T201
    acked = subscriber.messages[ack].json()
    assert acked["reason"] == "command"
    assert acked["state"] == "paused"
    assert retained(broker, ["nvr/control/status"])["nvr/control/status"].json()["paused"] is True
    # Nothing between the acknowledgement and a barrier, right away...
    fence = barrier(subscriber, "nvr")
    assert subscriber.count(detection_of("nvr"), after=ack, before=fence) == 0
    # ...nor once the pipeline stopped its stream and drained its buffers into the gate.
    subscriber.wait_for(status_of("nvr", lambda s: s["sources"]["0"]["stream_paused"]), 30, ack)
    fence = barrier(subscriber, "nvr")
    assert subscriber.count(detection_of("nvr"), after=ack, before=fence) == 0

    after = last_seq(subscriber)
    command(subscriber, "nvr", '{"command": "resume"}')
    resumed = subscriber.wait_for(status_of("nvr", lambda s: s["paused"] is False), 30, after)
    subscriber.wait_for(detection_of("nvr", 0), 30, resumed.seq)


def test_pause_one_source_keeps_the_other_running(
    spawn_worker: Spawn, broker: Broker, subscriber: Subscriber, sample_video: Path
) -> None:
    _start(spawn_worker, broker, sample_video, subscriber, sources=2)
    subscriber.wait_for(detection_of("nvr", 1))
    ack, _ms = _pause_and_measure(
        subscriber,
        "nvr",
        '{"command": "pause", "source_id": 1}',
        lambda s: s["sources"]["1"]["paused"] is True,
    )
    body = subscriber.messages[ack].json()
    assert body["paused"] is False
    assert body["sources"]["1"]["paused_by_source"] is True
    assert body["sources"]["0"]["paused"] is False
    later = subscriber.wait_for(detection_of("nvr", 0), 30, ack)
    subscriber.wait_for(detection_of("nvr", 0), 30, later.seq + 5)
    fence = barrier(subscriber, "nvr")
    assert subscriber.count(detection_of("nvr", 1), after=ack, before=fence) == 0

    after = last_seq(subscriber)
    command(subscriber, "nvr", '{"command": "resume", "source_id": 1}')
    resumed = subscriber.wait_for(
        status_of("nvr", lambda s: s["sources"]["1"]["paused"] is False), 30, after
    )
    subscriber.wait_for(detection_of("nvr", 1), 30, resumed.seq)


def test_malformed_and_retained_commands_change_nothing(
    spawn_worker: Spawn, broker: Broker, subscriber: Subscriber, sample_video: Path
) -> None:
    # A retained pause left on the broker would replay at every start: refused.
    command(subscriber, "nvr", '{"command": "pause"}', retain=True)
    _start(spawn_worker, broker, sample_video, subscriber)
    refused = subscriber.wait_for(on_topic("nvr/control/error")).json()
    assert "retained" in refused["error"]
    command(subscriber, "nvr", b"", retain=True)  # clear it

    for payload, expected in (
        (b"pause", "not JSON"),
        (b"\xff\xfe", "not UTF-8"),
        (b"[1, 2]", "JSON object"),
        (b'{"command": "stop"}', "command must be"),
        (b'{"command": "pause", "source_id": 9}', "unknown source_id 9"),
        (b'{"command": "pause", "source_id": true}', "integer"),
        (b'{"command": "pause", "extra": 1}', "unknown key"),
    ):
        after = last_seq(subscriber)
        command(subscriber, "nvr", payload)
        error = subscriber.wait_for(on_topic("nvr/control/error"), 30, after)
        assert expected in error.json()["error"], error.json()
        assert not error.retain

    fence = barrier(subscriber, "nvr")
    status = subscriber.messages[fence].json()
    assert status["paused"] is False
    assert status["sources"]["0"]["paused"] is False
    assert status["reason"] == "start"  # no command was applied
    subscriber.wait_for(detection_of("nvr", 0), 30, fence)


# -- lifecycle -----------------------------------------------------------------------------------


def test_killed_worker_goes_offline_through_the_last_will(
    spawn_worker: Spawn, broker: Broker, subscriber: Subscriber, sample_video: Path
) -> None:
    worker = _start(spawn_worker, broker, sample_video, subscriber)
    online = subscriber.wait_for(is_availability("nvr", "online"))
    worker.send(signal.SIGKILL)
    worker.process.wait(10)
    offline = subscriber.wait_for(on_topic("nvr/availability"), 30, online.seq)
    assert json.loads(offline.payload) == json.loads(online.payload) | {"state": "offline"}
    assert availability(retained(broker, ["nvr/availability"])["nvr/availability"]) == "offline"


def test_a_restart_after_a_crash_says_its_fresh_status_before_online(
    spawn_worker: Spawn, broker: Broker, subscriber: Subscriber, sample_video: Path
) -> None:
    """The killed run's retained status (sources available) is never current after `online`."""
    worker = _start(spawn_worker, broker, sample_video, subscriber)
    worker.send(signal.SIGKILL)
    worker.process.wait(10)
    offline = subscriber.wait_for(is_availability("nvr", "offline"), 30)
    spawn_worker(*worker_args(broker, sample_video))
    online = subscriber.wait_for(is_availability("nvr", "online"), 60, offline.seq)
    fresh = subscriber.select(status_of("nvr"), offline.seq, online.seq)
    assert fresh, "no status between the last will and the restart's `online`"
    assert fresh[-1].json()["reason"] in ("start", "restored")  # this run's, not the killed one's


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_sigterm_stops_cleanly_with_retained_offline_and_stopped(
    signum: signal.Signals,
    spawn_worker: Spawn,
    broker: Broker,
    subscriber: Subscriber,
    sample_video: Path,
) -> None:
    worker = _start(spawn_worker, broker, sample_video, subscriber, sources=2)
    subscriber.wait_for(detection_of("nvr", 0))
    code, seconds = worker.stop(timeout=10, signum=signum)
    print(f"{signum.name} -> exit: {seconds:.2f} s")  # noqa: T201
    assert code == 0
    assert seconds < 10
    found = retained(broker, ["nvr/control/status", "nvr/availability"])
    assert availability(found["nvr/availability"]) == "offline"
    status = found["nvr/control/status"].json()
    assert status["state"] == "stopped"
    assert status["reason"] == "stopped"
    assert {s["state"] for s in status["sources"].values()} == {"stopped"}
    assert "Traceback" not in worker.output()


def test_worker_comes_back_after_the_broker_restarts_and_keeps_its_pause(
    spawn_worker: Spawn, broker: Broker, subscriber: Subscriber, sample_video: Path
) -> None:
    _start(spawn_worker, broker, sample_video, subscriber, sources=2)
    subscriber.wait_for(detection_of("nvr", 1))
    after = last_seq(subscriber)
    command(subscriber, "nvr", '{"command": "pause", "source_id": 1}')
    subscriber.wait_for(status_of("nvr", lambda s: s["sources"]["1"]["paused"]), 30, after)
    subscriber.close()
    broker.restart()  # no persistence: every retained message is gone with it
    watcher = Subscriber(broker, ["#"], client_id="nvr-after-restart")
    try:
        online = watcher.wait_for(is_availability("nvr", "online"), 60)
        status = watcher.wait_for(status_of("nvr", lambda s: s["state"] == "running"), 30)
        assert status.json()["sources"]["1"]["paused"] is True  # re-announced: still paused
        watcher.wait_for(on_topic(DISCOVERY), 30)
        watcher.wait_for(detection_of("nvr", 0), 30, online.seq)
        watcher.wait_for(detection_of("nvr", 0), 30, watcher.messages[-1].seq)
        fence = barrier(watcher, "nvr")
        assert watcher.count(detection_of("nvr", 1), before=fence) == 0
    finally:
        watcher.close()


def test_an_ended_source_leaves_the_others_running(
    spawn_worker: Spawn,
    broker: Broker,
    subscriber: Subscriber,
    sample_video: Path,
    tmp_path: Path,
) -> None:
    config = tmp_path / "worker.yaml"
    config.write_text(
        f"mqtt_port: {broker.port}\nname: test\ndetector: motion\nsources:\n"
        f"  - {{reference: '{sample_video}', name: Once, loop: false}}\n"
        f"  - {{reference: '{sample_video}', name: Camera, loop: true}}\n"
    )
    spawn_worker("--config", str(config))
    ended = subscriber.wait_for(
        status_of("nvr", lambda s: s["sources"]["0"]["state"] == "ended"), 60
    )
    body = ended.json()
    assert body["state"] == "degraded"
    assert body["sources"]["0"]["available"] is False
    assert body["sources"]["1"]["name"] == "Camera"
    subscriber.wait_for(detection_of("nvr", 1), 30, ended.seq)


def test_remove_clears_everything_the_worker_retained(
    spawn_worker: Spawn, broker: Broker, subscriber: Subscriber, sample_video: Path
) -> None:
    """Availability, status, counts, the last event's picture (a person), discovery: all of it."""
    zone = "--zone=Cam 0=left: 0,0 0.5,0 0.5,1 0,1"
    worker = spawn_worker(*worker_args(broker, sample_video), zone)
    subscriber.wait_for(on_topic(DISCOVERY), 60)
    subscriber.wait_for(on_topic("nvr/sources/0/event_snapshot"), 60)
    assert worker.stop()[0] == 0
    before = retained_everywhere(broker)
    assert {"nvr/availability", "nvr/control/status", "nvr/sources/0/zones"} <= set(before)
    assert {"nvr/sources/0/event_snapshot", DISCOVERY, SOURCE_DISCOVERY} <= set(before)
    other = "homeassistant/device/someone_else/config"
    subscriber.publish(other, b"{}", retain=True)  # not the worker's: it stays
    done = run_worker_once("--remove", "--name", "test", "--mqtt-port", str(broker.port))
    assert done.returncode == 0, done.stderr
    assert set(retained_everywhere(broker)) == {other}


def test_remove_refuses_while_the_worker_runs(
    spawn_worker: Spawn, broker: Broker, subscriber: Subscriber, sample_video: Path
) -> None:
    _start(spawn_worker, broker, sample_video, subscriber)
    done = run_worker_once("--remove", "--name", "test", "--mqtt-port", str(broker.port))
    assert done.returncode == 2
    assert "is running" in done.stderr
    assert "nvr/control/status" in retained_everywhere(broker)


def _one_line(stderr: str) -> str:
    lines = [line for line in stderr.splitlines() if line.strip()]
    assert len(lines) == 1, stderr
    assert "Traceback" not in stderr
    assert lines[0].startswith("nvr-inference: error: ")
    return lines[0]


@pytest.mark.parametrize(
    ("case", "expected_code", "expected_text"),
    [
        ("missing source file", 2, "file not found: /nonexistent/video.avi"),
        ("unknown detector", 2, "unknown detector 'yolo'"),
        ("missing config file", 2, "cannot read config file /nonexistent/nvr.yaml"),
        ("no source", 2, "no source"),
        ("unreadable video", 2, "cannot read video from"),
        ("malformed stream url", 2, "malformed URL rtsp://***@127.0.0.1:notaport/stream"),
        ("host-less stream url", 2, "Door: no host in rtsp://***@/stream"),
        ("unknown url scheme", 2, "unknown URL scheme 'rtps' in rtps://***@cam/stream"),
        ("unreachable broker", 3, "cannot reach the MQTT broker"),
    ],
)
def test_bad_configuration_exits_with_one_clear_line(
    case: str,
    expected_code: int,
    expected_text: str,
    sample_video: Path,
    tmp_path: Path,
    socket_enabled: None,
) -> None:
    port = str(free_port())
    args = ["--mqtt-port", port, "--detector", "motion", "--source", str(sample_video)]
    if case == "missing source file":
        args[-1] = "/nonexistent/video.avi"
    elif case == "unknown detector":
        args[3] = "yolo"
    elif case == "missing config file":
        args += ["--config", "/nonexistent/nvr.yaml"]
    elif case == "no source":
        args = args[:4]
    elif case == "unreadable video":
        garbage = tmp_path / "garbage.avi"
        garbage.write_bytes(b"not a video" * 100)
        args[-1] = str(garbage)
    elif case == "malformed stream url":  # a typo, not a camera down: the worker refuses it
        args[-1] = "Door=rtsp://admin:urlsecret@127.0.0.1:notaport/stream"
    elif case == "host-less stream url":
        args[-1] = "Door=rtsp://admin:urlsecret@/stream"
    elif case == "unknown url scheme":
        args[-1] = "Door=rtps://admin:urlsecret@cam/stream"
    done = run_worker_once(*args)
    assert done.returncode == expected_code, done.stderr
    line = _one_line(done.stderr)
    assert expected_text in line
    assert "urlsecret" not in done.stderr + done.stdout


def test_broker_refusing_credentials_exits_3(sample_video: Path, socket_enabled: None) -> None:
    with run_broker("allow_anonymous false\n") as closed:
        done = run_worker_once(
            "--mqtt-port",
            str(closed.port),
            "--mqtt-username",
            "someone",
            "--detector",
            "motion",
            "--source",
            str(sample_video),
            env={"NVR_MQTT_PASSWORD": "wrong-horse-battery"},
        )
    assert done.returncode == 3, done.stderr
    line = _one_line(done.stderr)
    assert "refused the connection" in line
    assert "wrong-horse-battery" not in done.stderr


def test_two_workers_on_one_broker_pause_independently(
    spawn_worker: Spawn, broker: Broker, subscriber: Subscriber, sample_video: Path
) -> None:
    _start(spawn_worker, broker, sample_video, subscriber, name="porch", base="cam_a")
    _start(spawn_worker, broker, sample_video, subscriber, name="garage", base="cam_b")
    configs = {
        name: subscriber.wait_for(on_topic(f"homeassistant/device/nvr_worker_{name}/config"))
        for name in ("porch", "garage")
    }
    a, b = (configs[n].json() for n in ("porch", "garage"))
    assert not set(a["cmps"]) & set(b["cmps"])
    assert {c["unique_id"] for c in a["cmps"].values()}.isdisjoint(
        c["unique_id"] for c in b["cmps"].values()
    )
    assert json.dumps(a).count("cam_b/") == 0
    assert json.dumps(b).count("cam_a/") == 0
    subscriber.wait_for(detection_of("cam_a", 0))
    subscriber.wait_for(detection_of("cam_b", 0))

    ack, _ms = _pause_and_measure(
        subscriber, "cam_a", '{"command": "pause"}', lambda s: s["paused"] is True
    )
    later = subscriber.wait_for(detection_of("cam_b", 0), 30, ack)  # the other keeps going
    subscriber.wait_for(detection_of("cam_b", 0), 30, later.seq + 3)
    fence = barrier(subscriber, "cam_a")
    assert subscriber.count(detection_of("cam_a"), after=ack, before=fence) == 0
    other = subscriber.messages[barrier(subscriber, "cam_b")].json()
    assert other["paused"] is False
    assert other["state"] == "running"


def test_secrets_never_reach_the_logs_at_debug_level(
    spawn_worker: Spawn, broker: Broker, subscriber: Subscriber, sample_video: Path
) -> None:
    password, api_key = "hunter2-very-secret-pw", "rf-very-secret-key"
    worker = spawn_worker(
        *worker_args(broker, sample_video),
        "--mqtt-username",
        "nvr",
        "--log-level",
        "debug",
        env={"NVR_MQTT_PASSWORD": password, "ROBOFLOW_API_KEY": api_key},
    )
    subscriber.wait_for(detection_of("nvr", 0), 60)
    ack, _ms = _pause_and_measure(
        subscriber, "nvr", '{"command": "pause"}', lambda s: s["paused"] is True
    )
    command(subscriber, "nvr", b"not json")
    subscriber.wait_for(on_topic("nvr/control/error"), 30, ack)
    assert worker.stop()[0] == 0
    output = worker.output()
    assert "DEBUG" in output  # it did log at debug level
    assert password not in output
    assert api_key not in output
    for message in subscriber.messages:
        assert password.encode() not in message.payload


# -- in-process: parsing and the secret filter -------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("/videos/porch.avi", (None, None, "/videos/porch.avi")),
        ("Porch=/videos/porch.avi", (None, "Porch", "/videos/porch.avi")),
        ("Front door = rtsp://u:p@cam/x?a=1", (None, "Front door", "rtsp://u:p@cam/x?a=1")),
        ("rtsp://cam/stream?channel=1", (None, None, "rtsp://cam/stream?channel=1")),
        ("/v/a=b.avi", (None, None, "/v/a=b.avi")),
        ("5:Porch=/p.avi", (5, "Porch", "/p.avi")),
        ("7:/p.avi", (7, None, "/p.avi")),
        ("0", (None, None, "0")),
        ("USB=0", (None, "USB", "0")),
    ],
)
def test_parse_source_text(text: str, expected: tuple[int | None, str | None, str]) -> None:
    assert parse_source_text(text) == expected


def test_source_ids_in_order_and_explicit_ids_kept() -> None:
    sources = build_sources(["/a.avi", "2:B=/b.avi", "/c.avi", "/d.avi"], default_loop=True)
    assert [(s.source_id, s.name) for s in sources] == [(0, None), (2, "B"), (1, None), (3, None)]
    assert all(s.loop for s in sources)
    with pytest.raises(ConfigError, match="more than once"):
        build_sources(["1:/a.avi", "1:/b.avi"], default_loop=False)


WORKER_PACKAGE = ROOT / "custom_components" / "nvr_inference" / "engine" / "worker"
CONFIG_PACKAGE = ROOT / "custom_components" / "nvr_inference" / "engine" / "config"


def _args(*argv: str) -> dict[str, Any]:
    """The flag values as the command line hands them to the configuration."""
    return vars(build_parser().parse_args(["worker", *argv]))


def test_config_file_with_flags_overriding(tmp_path: Path) -> None:
    secret = tmp_path / "password"
    secret.write_text("file-password\n")
    config = tmp_path / "nvr.yaml"
    config.write_text(
        "mqtt-host: broker.lan\nmqtt_username: nvr\n"
        f"mqtt_password_file: {secret}\n"
        "base_topic: porch\ndetector: face\nclasses: [face]\nmax_fps: 5\nname: pi\n"
        "sources:\n  - Porch=/p.avi\n"
        "  - {reference: /q.avi, name: Yard, source_id: 4, loop: true}\n"
    )
    resolved = resolve_config(
        _args("--config", str(config), "--base-topic", "override", "--mqtt-port", "1884"),
        {"NVR_MQTT_PASSWORD": "env-password"},
    ).settings
    assert resolved.mqtt.host == "broker.lan"
    assert resolved.mqtt.port == 1884
    assert resolved.mqtt.password == "file-password"  # the file named explicitly wins
    assert "file-password" not in repr(resolved)
    assert resolved.base_topic == "override"
    assert resolved.node == "nvr_worker_pi"
    assert resolved.max_fps == 5.0
    assert resolved.detector is not None
    assert resolved.detector.classes == frozenset({"face"})
    assert resolved.sources == (
        SourceConfig(0, "/p.avi", "Porch", False),
        SourceConfig(4, "/q.avi", "Yard", True),
    )


def test_the_configuration_resolves_a_plain_mapping_without_argparse() -> None:
    """Flag values written by hand resolve as the parsed command line's do."""
    zone = "Porch=driveway: 0.1,0.6 0.5,0.6 0.5,1 0.1,1 | face"
    argv = ("--source", "Porch=/p.avi", "--detector", "face", "--name", "pi", "--zone", zone)
    plain = {"sources": ["Porch=/p.avi"], "detector": "face", "name": "pi", "zones": [zone]}
    assert resolve_config(plain, {}) == resolve_config(_args(*argv), {})
    for module in CONFIG_PACKAGE.glob("*.py"):  # the grammar, resolution, settings, export
        tree = ast.parse(module.read_text(encoding="utf-8"))
        imported = {a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names}
        imported |= {n.module for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)}
        assert "argparse" not in imported, module


@pytest.mark.parametrize(
    ("yaml_text", "argv", "env", "message"),
    [
        ("mqtt_password: x\n", (), {}, "may not be written in it"),
        ("mqtt_hots: x\n", (), {}, "unknown key(s) mqtt_hots"),
        ("- a\n", (), {}, "must be a mapping"),
        ("", ("--source", "/a.avi"), {}, "no detector"),
        ("", ("--source", "/a.avi", "--detector", "roboflow:x/1"), {}, "needs an API key"),
        ("", ("--source", "/a.avi", "--detector", "face"), {"NVR_MQTT_PASSWORD": "p"}, "user name"),
        ("", ("--base-topic", "nvr/#", "--source", "/a.avi"), {}, "plain topic"),
        ("mqtt_port: high\n", (), {}, "mqtt_port must be an integer"),
    ],
)
def test_config_errors(
    tmp_path: Path, yaml_text: str, argv: tuple[str, ...], env: dict[str, str], message: str
) -> None:
    config = tmp_path / "nvr.yaml"
    config.write_text(yaml_text)
    with pytest.raises(ConfigError) as err:
        resolve_config(_args("--config", str(config), *argv), env)
    assert message in str(err.value)


def test_api_key_comes_from_the_environment_or_a_file(tmp_path: Path) -> None:
    key = tmp_path / "key"
    key.write_text("from-file\n")
    argv = ("--source", "/a.avi", "--detector", "roboflow:coco/3")
    from_env = resolve_config(_args(*argv), {"ROBOFLOW_API_KEY": "from-env"}).settings
    assert from_env.api_key == "from-env"
    from_file = resolve_config(_args(*argv, "--api-key-file", str(key)), {}).settings
    assert from_file.api_key == "from-file"


def test_no_password_flag_exists() -> None:
    with pytest.raises(SystemExit) as err:
        build_parser().parse_args(["worker", "--mqtt-password", "x"])
    assert err.value.code == 2


def test_redact_filter_hides_secrets_and_url_credentials() -> None:
    redact = RedactSecrets(["s3cret", None, ""])
    record = logging.LogRecord(
        "x", logging.INFO, __file__, 1, "pw %s at %s", ("s3cret", "rtsp://u:pw@cam/x"), None
    )
    assert redact.filter(record)
    assert record.getMessage() == "pw *** at rtsp://***@cam/x"


def test_sample_video_command(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    target = tmp_path / "clip.avi"
    assert main(["sample-video", str(target), "--frames", "5", "--size", "320x240"]) == 0
    assert capsys.readouterr().out.strip() == str(target)
    capture = cv2.VideoCapture(str(target))
    try:
        assert int(capture.get(cv2.CAP_PROP_FRAME_COUNT)) == 5
        assert int(capture.get(cv2.CAP_PROP_FRAME_WIDTH)) == 320
        assert int(capture.get(cv2.CAP_PROP_FRAME_HEIGHT)) == 240
    finally:
        capture.release()
    assert main(["sample-video", str(target), "--size", "big"]) == 2


def test_worker_runs_without_home_assistant_installed(tmp_path: Path) -> None:
    code = (
        "import sys; sys.modules['homeassistant'] = None\n"
        "from custom_components.nvr_inference.engine.worker import cli\n"
        "sys.exit(cli.main(['sample-video', sys.argv[1], '--frames', '2']))"
    )
    done = subprocess.run(
        [sys.executable, "-c", code, str(tmp_path / "clip.avi")],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr


def test_tls_flags_build_a_tls_client() -> None:
    from custom_components.nvr_inference.engine.worker.mqtt import make_client

    settings = resolve_config(
        _args("--tls-insecure", "--source", "/a.avi", "--detector", "motion", "--name", "x"), {}
    ).settings
    assert settings.mqtt.tls
    assert settings.mqtt.port == 8883
    client = make_client(settings)
    assert client._ssl  # paho keeps its TLS flag there; no public accessor
