"""An entry exported as a worker YAML: the worker's own parser reads back the same settings,
and a real worker started with it runs the same sources.

The entry has two cameras (the sample video, and an RTSP URL with a password), a detector with
options, tracking options and a zone and a line on the camera with the password. Secrets are
left out of the YAML; the user writes the camera's password in, and that is the only edit.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
import signal
import subprocess

from homeassistant.const import CONF_NAME
from homeassistant.core import HomeAssistant
from homeassistant.helpers import area_registry as ar, device_registry as dr
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.nvr_inference.const import (
    CONF_BASE_TOPIC,
    CONF_CLASSES,
    CONF_CONFIDENCE,
    CONF_DETECTOR,
    CONF_DISCOVERY,
    CONF_MAX_FPS,
    CONF_MOTION_GATING,
    CONF_SOURCES,
    CONF_TRACKING,
    CONF_ZONES,
    DOMAIN,
)
from custom_components.nvr_inference.engine.config.resolve import resolve_config
from custom_components.nvr_inference.engine.config.worker_settings import (
    MqttSettings,
    WorkerSettings,
)
from custom_components.nvr_inference.engine.config.yaml_export import PASSWORD_PLACEHOLDER
from custom_components.nvr_inference.engine.detect.spec import DetectorSpec
from custom_components.nvr_inference.engine.objects.tracking import TrackingOptions
from custom_components.nvr_inference.engine.objects.zones import LineConfig, SourceZones, ZoneConfig
from custom_components.nvr_inference.engine.video.sources import SourceConfig
from custom_components.nvr_inference.engine.worker.parser import build_parser
from custom_components.nvr_inference.worker_handoff import (
    entry_worker_yaml,
    worker_settings_from_entry,
)

from ..mqtt_helpers import Broker, Subscriber, free_port
from ..rtsp_camera import rtsp_camera
from ..worker.conftest import ROOT, WORKER, detection_of, retained, status_of, worker_env

pytestmark = pytest.mark.usefixtures("enable_custom_integrations")

CAMERA_PASSWORD = "cam-secret"
MQTT_PASSWORD = "mqtt-secret"
DRIVEWAY = ((0.1, 0.6), (0.55, 0.6), (0.55, 1.0), (0.1, 1.0))
OPTIONS = {
    CONF_CONFIDENCE: 0.4,
    CONF_MAX_FPS: 5.0,
    CONF_CLASSES: ["motion"],
    CONF_DISCOVERY: True,
    CONF_MOTION_GATING: False,
    CONF_TRACKING: {
        "enabled": True,
        "min_frames": 2,
        "end_after": 3.5,
        "activation_threshold": 0.3,
        "lost_track_buffer": 20,
        "matching_threshold": 0.7,
    },
    CONF_ZONES: {
        "3": {
            "zones": [{"name": "driveway", "points": [list(p) for p in DRIVEWAY], "classes": []}],
            "lines": [
                {"name": "gate", "start": [0.2, 0.5], "end": [0.8, 0.5], "classes": ["motion"]}
            ],
        }
    },
}


def _camera(port: int, password: str = CAMERA_PASSWORD) -> str:
    return f"rtsp://cam:{password}@127.0.0.1:{port}/cam"


def _entries(
    hass: HomeAssistant, video: Path, camera: str, mqtt: dict[str, object]
) -> MockConfigEntry:
    """Home Assistant's MQTT entry (as the integration reads the broker) and ours."""
    MockConfigEntry(domain="mqtt", data=mqtt).add_to_hass(hass)
    entry = MockConfigEntry(
        domain=DOMAIN,
        title="Garden",
        unique_id="garden",
        data={
            CONF_NAME: "Garden",
            CONF_BASE_TOPIC: "garden",
            CONF_DETECTOR: "motion",
            CONF_SOURCES: [
                {"source_id": 0, "reference": str(video), "name": "Yard", "loop": True},
                {"source_id": 3, "reference": camera, "name": "Porch", "loop": False},
            ],
        },
        options=OPTIONS,
    )
    entry.add_to_hass(hass)
    return entry


def _read_back(path: Path, text: str) -> WorkerSettings:
    """Parse the file as `nvr-inference worker --config <path>` does (no secret in the env)."""
    path.write_text(text, encoding="utf-8")
    args = build_parser().parse_args(["worker", "--config", str(path)])
    return resolve_config(vars(args), {}).settings


async def test_the_exported_yaml_reads_back_as_the_same_worker(
    hass: HomeAssistant, tmp_path: Path
) -> None:
    video = tmp_path / "yard.avi"
    entry = _entries(
        hass,
        video,
        _camera(8554),
        {"broker": "mqtt.lan", "port": 1884, "username": "nvr", "password": MQTT_PASSWORD},
    )

    # The porch camera's device is in an area here: the worker's camera device goes there too.
    devices = dr.async_get(hass)
    porch = devices.async_get_or_create(
        config_entry_id=entry.entry_id, identifiers={(DOMAIN, f"{entry.entry_id}_3")}
    )
    front = ar.async_get(hass).async_create("Front door")
    devices.async_update_device(porch.id, area_id=front.id)

    text = entry_worker_yaml(hass, entry)
    settings = _read_back(tmp_path / "worker.yaml", text)

    assert MQTT_PASSWORD not in text
    assert CAMERA_PASSWORD not in text
    assert settings.name == "Garden"
    assert settings.mqtt == MqttSettings(host="mqtt.lan", port=1884, username="nvr")
    assert settings.base_topic == "garden"
    assert settings.sources == (
        SourceConfig(0, str(video), "Yard", loop=True),
        SourceConfig(
            3, _camera(8554, PASSWORD_PLACEHOLDER), "Porch", loop=False, area="Front door"
        ),
    )
    assert settings.detector == DetectorSpec(
        "motion", "motion", confidence=0.4, classes=frozenset({"motion"}), motion_gating=False
    )
    assert settings.api_key is None
    assert settings.max_fps == 5.0
    assert settings.tracking == TrackingOptions(
        min_frames=2,
        end_after=3.5,
        activation_threshold=0.3,
        lost_track_buffer=20,
        matching_threshold=0.7,
    )
    assert settings.zones == {
        3: SourceZones(
            (ZoneConfig("driveway", DRIVEWAY),),
            (LineConfig("gate", (0.2, 0.5), (0.8, 0.5), frozenset({"motion"})),),
        )
    }
    # What the entry itself would run (the controller's mapping), but the camera's password.
    from_entry = worker_settings_from_entry(hass, entry)
    assert settings == replace(from_entry, sources=settings.sources)
    # Writing the password in, the one edit the header asks for, gives the entry's own cameras.
    edited = text.replace(f"cam:{PASSWORD_PLACEHOLDER}@", f"cam:{CAMERA_PASSWORD}@")
    assert _read_back(tmp_path / "edited.yaml", edited) == from_entry


@pytest.mark.pipeline
async def test_a_worker_started_with_the_exported_yaml_runs_the_same_sources(
    hass: HomeAssistant, broker: Broker, sample_video: Path, tmp_path: Path
) -> None:
    port = free_port()
    entry = _entries(
        hass, sample_video, _camera(port), {"broker": broker.host, "port": broker.port}
    )
    config = tmp_path / "worker.yaml"
    text = entry_worker_yaml(hass, entry)
    config.write_text(text.replace(f"cam:{PASSWORD_PLACEHOLDER}@", f"cam:{CAMERA_PASSWORD}@"))

    # A subprocess, a camera and a broker client: blocking work, off the event loop.
    await hass.async_add_executor_job(_run_worker, broker, config, port, tmp_path)


def _run_worker(broker: Broker, config: Path, camera_port: int, tmp_path: Path) -> None:
    """Start `nvr-inference worker --config`: both sources run; SIGTERM stops it cleanly."""
    subscriber = Subscriber(broker, ["garden/#"])
    out, err = tmp_path / "worker.out", tmp_path / "worker.err"
    try:
        with (
            rtsp_camera(camera_port),
            out.open("wb") as stdout,
            err.open("wb") as stderr,
        ):
            worker = subprocess.Popen(
                [*WORKER, "--config", str(config)],
                cwd=ROOT,
                env=worker_env({"XDG_STATE_HOME": str(tmp_path / "state")}),
                stdout=stdout,
                stderr=stderr,
            )
            try:
                subscriber.wait_for(
                    status_of(
                        "garden",
                        lambda s: {sid: src["state"] for sid, src in s["sources"].items()}
                        == {"0": "running", "3": "running"},
                    ),
                    60,
                )
                status = retained(broker, ["garden/control/status"])["garden/control/status"]
                sources = status.json()["sources"]
                assert {sid: src["name"] for sid, src in sources.items()} == {
                    "0": "Yard",
                    "3": "Porch",
                }
                assert all(src["state"] == "running" for src in sources.values())
                subscriber.wait_for(detection_of("garden", 0), 30)
                porch = subscriber.wait_for(detection_of("garden", 3), 30).json()
                assert porch["model_id"] == "motion"
            finally:
                worker.send_signal(signal.SIGTERM)
                code = worker.wait(30)
        log = out.read_text(errors="replace") + err.read_text(errors="replace")
        assert code == 0, log
        assert CAMERA_PASSWORD not in log
        final = retained(broker, ["garden/control/status"])["garden/control/status"].json()
        assert final["state"] == "stopped"
    finally:
        subscriber.close()
