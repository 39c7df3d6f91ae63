"""Your own model offline: a model package folder, checked, then loaded by Roboflow's loader.

The folder checks are pure file reading (light profile). The tests marked `full` build a tiny
ONNX detector at test time, load it through `InferencePipeline.init(model_id=<folder>)` with
every connection to anything but this machine refused, and watch the exact box arrive on MQTT.
"""

from __future__ import annotations

from collections.abc import Callable
import ipaddress
import json
from pathlib import Path
import re
import socket
from typing import Any

import paho.mqtt.client as paho
import pytest

from custom_components.nvr_inference.engine.detect.local_model import check_local_model
from custom_components.nvr_inference.engine.detect.roboflow import init_roboflow_pipeline
from custom_components.nvr_inference.engine.detect.spec import parse_detector
from custom_components.nvr_inference.engine.errors import (
    DetectorError,
    FullProfileRequiredError,
    LocalModelError,
)
from custom_components.nvr_inference.engine.fence.gate import PauseGate
from custom_components.nvr_inference.engine.fence.publisher import FencedPublisher
from custom_components.nvr_inference.engine.pipeline.engine import Engine
from custom_components.nvr_inference.engine.samples.sample_video import write_sample_video
from custom_components.nvr_inference.engine.video.probe import check_roboflow_model, check_setup
from custom_components.nvr_inference.engine.video.sources import SourceConfig

from ...conftest import CallbackTransport
from ...mqtt_helpers import Subscriber, is_detection, run_broker
from ...worker.conftest import run_worker_once
from ..onnx_package import (
    CLASS_NAMES,
    expected_detection,
    write_model_package,
    write_package_metadata,
)

pytestmark = pytest.mark.pipeline


@pytest.fixture
def package(tmp_path: Path) -> Path:
    """A package folder with its text files and stand-in weights (not loadable: checks only)."""
    folder = tmp_path / "my-model"
    write_package_metadata(folder)
    (folder / "weights.onnx").write_bytes(b"\x08\x08stand-in")
    return folder


def test_a_good_folder_passes_the_checks(package: Path) -> None:
    model = check_local_model(package)
    assert model.architecture == "yolov8"
    assert model.class_names == CLASS_NAMES
    assert model.input_size == (320, 320)


def _edit_json(path: Path, change: Callable[[dict[str, Any]], None]) -> None:
    data = json.loads(path.read_text())
    change(data)
    path.write_text(json.dumps(data))


@pytest.mark.parametrize(
    ("spoil", "message"),
    [
        (lambda f: (f / "weights.onnx").unlink(), "has no weights.onnx"),
        (lambda f: (f / "class_names.txt").unlink(), "has no class_names.txt"),
        (
            lambda f: [(f / n).unlink() for n in ("model_config.json", "inference_config.json")],
            "has no model_config.json, inference_config.json",
        ),
        (lambda f: (f / "weights.onnx").write_bytes(b""), "weights.onnx is empty"),
        (lambda f: (f / "class_names.txt").write_text("\n \n"), "class_names.txt lists no class"),
        (lambda f: (f / "model_config.json").write_text("{nope"), "model_config.json is not valid"),
        (lambda f: (f / "model_config.json").write_text("[1]"), "must hold a JSON object"),
        (
            lambda f: _edit_json(
                f / "model_config.json", lambda d: d.update(task_type="classification")
            ),
            "model_config.json: task_type must be object-detection",
        ),
        (
            lambda f: _edit_json(f / "model_config.json", lambda d: d.update(backend_type="trt")),
            "model_config.json: backend_type must be onnx",
        ),
        (
            lambda f: _edit_json(f / "model_config.json", lambda d: d.pop("model_architecture")),
            "model_config.json has no model_architecture",
        ),
        (
            lambda f: _edit_json(
                f / "inference_config.json", lambda d: d.update(post_processing={"type": "softmax"})
            ),
            "inference_config.json: post_processing.type must be nms",
        ),
        (
            lambda f: _edit_json(f / "inference_config.json", lambda d: d.pop("post_processing")),
            "inference_config.json has no post_processing",
        ),
        (
            lambda f: _edit_json(
                f / "inference_config.json",
                lambda d: d["network_input"].update(training_input_size={"width": 320}),
            ),
            "training_input_size needs positive integer width and height",
        ),
        (
            lambda f: _edit_json(
                f / "inference_config.json", lambda d: d["network_input"].update(resize_mode="zoom")
            ),
            "resize_mode must be one of",
        ),
    ],
)
def test_a_bad_folder_is_a_clear_error_naming_the_file(
    package: Path, spoil: Callable[[Path], object], message: str
) -> None:
    spoil(package)
    with pytest.raises(LocalModelError, match=re.escape(message)):
        check_local_model(package)


def test_folder_errors_before_anything_else(tmp_path: Path) -> None:
    with pytest.raises(LocalModelError, match="does not exist"):
        check_local_model(tmp_path / "nowhere")
    with pytest.raises(LocalModelError, match="absolute path"):
        check_local_model("models/x")


def test_local_detector_names() -> None:
    spec = parse_detector("local:/srv/models/my-yolo/", confidence=0.3)
    assert spec.is_local and spec.is_roboflow and not spec.needs_api_key
    assert spec.model_id == "/srv/models/my-yolo"
    assert not spec.gated
    home = parse_detector("local:~/models/x")
    assert Path(home.model_id).is_absolute() and home.model_id.endswith("/models/x")
    with pytest.raises(DetectorError, match="absolute folder path"):
        parse_detector("local:models/x")
    with pytest.raises(DetectorError, match="needs a model folder"):
        parse_detector("local:")


def test_a_pipeline_without_roboflows_loader_says_the_full_profile_is_needed(
    package: Path,
) -> None:
    class StreamvisionPipeline:  # the light profile's class has no init(model_id=...)
        pass

    with pytest.raises(FullProfileRequiredError, match="Local models need the full profile"):
        init_roboflow_pipeline(StreamvisionPipeline, parse_detector(f"local:{package}"), None, {})


def test_worker_exits_2_naming_the_missing_file(package: Path, sample_video: Path) -> None:
    (package / "inference_config.json").unlink()
    done = run_worker_once(
        "--mqtt-port", "1", "--source", str(sample_video), "--detector", f"local:{package}"
    )
    assert done.returncode == 2, done.stderr
    lines = [line for line in done.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and "Traceback" not in done.stderr
    assert f"the model folder {package} has no inference_config.json" in lines[0]


# -- the full profile: Roboflow's loader, offline ------------------------------------------------


class NetworkGuard:
    """Refuses, and records, every connection that leaves this machine (loopback is allowed)."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.refused: list[object] = []
        real_connect = socket.socket.connect
        real_connect_ex = socket.socket.connect_ex
        real_getaddrinfo = socket.getaddrinfo

        def local(address: object) -> bool:
            if not isinstance(address, tuple):
                return True  # a Unix socket
            host = str(address[0])
            if host == "localhost":
                return True
            try:
                return ipaddress.ip_address(host).is_loopback
            except ValueError:
                return False

        def connect(sock: socket.socket, address: Any) -> None:
            if not local(address):
                self.refused.append(address)
                raise ConnectionRefusedError(f"the test refuses connections to {address}")
            real_connect(sock, address)

        def connect_ex(sock: socket.socket, address: Any) -> int:
            if not local(address):
                self.refused.append(address)
                return 111  # ECONNREFUSED
            return real_connect_ex(sock, address)

        def numeric(host: str) -> bool:
            try:
                ipaddress.ip_address(host)
            except ValueError:
                return False
            return True

        def getaddrinfo(host: Any, *args: Any, **kwargs: Any) -> Any:
            # A name would be a DNS query: only localhost may be resolved. An address is not
            # looked up (its connection is judged by `connect`).
            if host is not None and not (host == "localhost" or numeric(str(host))):
                self.refused.append(host)
                raise socket.gaierror(f"the test refuses to resolve {host}")
            return real_getaddrinfo(host, *args, **kwargs)

        monkeypatch.setattr(socket.socket, "connect", connect)
        monkeypatch.setattr(socket.socket, "connect_ex", connect_ex)
        monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)


@pytest.mark.full
def test_local_model_end_to_end_offline_on_mqtt(
    tmp_path: Path, socket_enabled: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    guard = NetworkGuard(monkeypatch)
    with pytest.raises(ConnectionRefusedError):  # before any packet (TEST-NET-1, never routed)
        socket.create_connection(("192.0.2.1", 443), timeout=1)
    assert guard.refused == [("192.0.2.1", 443)]
    guard.refused.clear()

    folder = write_model_package(tmp_path / "my-model")
    frames = 6
    video = write_sample_video(tmp_path / "clip.avi", frames=frames)
    spec = parse_detector(f"local:{folder}", confidence=0.5)
    check_setup([SourceConfig(0, str(video))], spec)  # the probe: loads it, no key asked

    with run_broker() as broker:
        watcher = Subscriber(broker, ["nvr/detections/#"], client_id="local-model-watcher")
        client = paho.Client(paho.CallbackAPIVersion.VERSION2, client_id="local-model-engine")
        client.connect(broker.host, broker.port)
        client.loop_start()
        gate = PauseGate([0])
        engine = Engine(
            [SourceConfig(0, str(video))],
            spec,
            FencedPublisher(
                gate, CallbackTransport(lambda topic, payload: client.publish(topic, payload))
            ),
            gate=gate,
        )
        try:
            engine.start()
            last = watcher.wait_for(
                lambda m: is_detection(0)(m) and m.json()["frame_id"] == frames, timeout=120
            )
            received = [m.json() for m in watcher.messages if is_detection(0)(m)]
        finally:
            engine.stop()
            client.disconnect()
            client.loop_stop()
            watcher.close()
    assert last.json()["frame_id"] == frames
    assert [m["frame_id"] for m in received] == list(range(1, frames + 1))
    ids = set()
    for message in received:
        assert message["model_id"] == str(folder)
        assert message["image"] == {"width": 640, "height": 480}
        (found,) = message["detections"]
        # Tracking is on by default: ByteTrack confirms a new track on its second sighting, so
        # the object's first frame carries no id yet and every later frame does, the same one.
        tracker_id = found.pop("tracker_id", None)
        if message["frame_id"] > 1:
            assert isinstance(tracker_id, int)
            ids.add(tracker_id)
        assert found == expected_detection(640, 480)
    assert len(ids) == 1, ids
    assert guard.refused == [], "something tried to reach the network"


@pytest.mark.full
def test_loader_errors_name_the_folder(tmp_path: Path) -> None:
    folder = write_model_package(tmp_path / "broken")
    (folder / "weights.onnx").write_bytes(b"this is not an ONNX graph" * 10)
    with pytest.raises(LocalModelError, match=f"cannot load the model in {folder}"):
        check_roboflow_model(parse_detector(f"local:{folder}"), None)
    (folder / "weights.onnx").unlink()
    with pytest.raises(LocalModelError, match=r"has no weights\.onnx"):
        check_roboflow_model(parse_detector(f"local:{folder}"), None)


@pytest.mark.full
def test_the_local_flag_is_set_only_while_loading(tmp_path: Path) -> None:
    import os

    from inference.core.registries import roboflow as registry

    from custom_components.nvr_inference.engine.detect.roboflow import (
        LOCAL_PACKAGES_FLAG,
        local_packages_allowed,
    )

    before = os.environ.get(LOCAL_PACKAGES_FLAG)
    assert registry.ALLOW_INFERENCE_MODELS_DIRECTLY_ACCESS_LOCAL_PACKAGES is False
    with local_packages_allowed():
        assert registry.ALLOW_INFERENCE_MODELS_DIRECTLY_ACCESS_LOCAL_PACKAGES is True
        assert os.environ[LOCAL_PACKAGES_FLAG] == "True"
    assert registry.ALLOW_INFERENCE_MODELS_DIRECTLY_ACCESS_LOCAL_PACKAGES is False
    assert os.environ.get(LOCAL_PACKAGES_FLAG) == before
    # ... so outside that block a path is refused, as inference does by default.
    with pytest.raises(ValueError, match="unsafe or ambiguous path segment"):
        registry.get_model_type(str(tmp_path), api_key=None)
