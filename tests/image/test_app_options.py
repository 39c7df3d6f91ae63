"""The app's run script turns the Supervisor's options and broker into the worker's YAML.

No container: nvr_inference_worker/run.py imported from its file, as the app's image runs it.
What the worker then does with that YAML is tests/image/test_app_image.py's (in containers).
"""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from ..worker.conftest import ROOT


def _load() -> ModuleType:
    spec = importlib.util.spec_from_file_location(
        "nvr_app_run", ROOT / "nvr_inference_worker" / "run.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


run = _load()
BROKER = {
    "host": "core-mosquitto",
    "port": 1883,
    "ssl": False,
    "username": "addons",
    "password": "pw",
}
OPTIONS: dict[str, Any] = {
    "cameras": [{"name": "Porch", "url": "rtsp://u:secret@cam/1"}, {"name": "Door", "url": "0"}],
    "detector": "person",
    "max_fps": 5,
    "api_key": "rf-key",
}


def test_the_options_and_the_broker_become_the_workers_yaml_and_environment() -> None:
    config, env = run.worker_config(OPTIONS, BROKER, {}, Path("/data"))
    assert config == {
        "mqtt_host": "core-mosquitto",
        "mqtt_port": 1883,
        "tls": False,
        "mqtt_username": "addons",
        "sources": [
            {"name": "Porch", "reference": "rtsp://u:secret@cam/1"},
            {"name": "Door", "reference": "0"},
        ],
        "detector": "person",
        "max_fps": 5,
        "name": "app",
        "state_file": "/data/nvr_worker_app.json",
    }
    # The secrets travel in the environment only (the worker refuses them in its YAML).
    assert env == {"NVR_MQTT_PASSWORD": "pw", "ROBOFLOW_API_KEY": "rf-key"}


def test_worker_yaml_adds_per_camera_settings_by_name_and_may_bring_its_own_broker() -> None:
    user = {
        "mqtt_host": "broker.lan",
        "base_topic": "garden",
        "sources": [{"name": "Door", "reference": "ignored", "zones": ["z: 0,0 1,0 1,1 | person"]}],
    }
    config, env = run.worker_config(OPTIONS, None, user, Path("/data"))
    assert config["mqtt_host"] == "broker.lan"
    assert "mqtt_username" not in config
    assert config["base_topic"] == "garden"
    assert config["sources"][1] == {
        "zones": ["z: 0,0 1,0 1,1 | person"],
        "name": "Door",
        "reference": "0",
    }
    assert env == {"ROBOFLOW_API_KEY": "rf-key"}


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[]", "must be a mapping"),
        ('{"cameras": [{"name": "A"}]}', "camera 1: give it a name and a url"),
        ('{"cameras": [{"name": " ", "url": "0"}]}', "camera 1: give it a name and a url"),
    ],
)
def test_options_the_schema_lets_through_are_still_checked(
    tmp_path: Path, text: str, message: str
) -> None:
    path = tmp_path / "options.json"
    path.write_text(text)
    with pytest.raises(run.AppError, match=message) as caught:
        run.read_options(path)
    assert caught.value.code == 2


def test_the_generated_yaml_is_private(tmp_path: Path) -> None:
    target = tmp_path / "runtime" / "worker.yaml"
    run.write_private(
        target, {"sources": [{"name": "Porch", "reference": "rtsp://u:secret@cam/1"}]}
    )
    assert target.stat().st_mode & 0o777 == 0o600
    assert target.parent.stat().st_mode & 0o777 == 0o700


def test_the_app_follows_the_supervisors_rules_and_installs_its_own_version() -> None:
    """No `image:` (the Supervisor builds the Dockerfile), both arches, the broker by service.

    The Dockerfile installs the release tagged v<version>: config.yaml's version, which is the
    package's own.
    """
    import re

    import yaml

    folder = ROOT / "nvr_inference_worker"
    config = yaml.safe_load((folder / "config.yaml").read_text())
    assert "image" not in config
    assert config["arch"] == ["amd64", "aarch64"]
    assert config["services"] == ["mqtt:need"]
    assert config["map"] == ["addon_config:rw"]
    assert config["video"] is True
    assert set(config["options"]) <= set(config["schema"])
    pyproject = (ROOT / "pyproject.toml").read_text()
    assert f'\nversion = "{config["version"]}"\n' in pyproject
    dockerfile = (folder / "Dockerfile").read_text()
    assert f"ARG NVR_VERSION={config['version']}\n" in dockerfile
    assert re.search(r"^FROM \$\{BUILD_FROM\} AS build$", dockerfile, re.MULTILINE)
    assert "ARG BUILD_FROM=debian:bookworm-slim\n" in dockerfile
    repository = yaml.safe_load((ROOT / "repository.yaml").read_text())
    assert set(repository) == {"name", "url", "maintainer"}
    for name in ("DOCS.md", "icon.png", "logo.png", "translations/en.yaml", "run.py"):
        assert (folder / name).is_file(), name
    labels = yaml.safe_load((folder / "translations" / "en.yaml").read_text())["configuration"]
    assert set(labels) == set(config["schema"])


def test_the_schema_accepts_every_built_in_detector_and_the_model_prefixes() -> None:
    """config.yaml's `detector` match() against the engine's registry: a new built-in is offered.

    The Supervisor checks an option against `match(REGEX)` as a whole-string match.
    """
    import re

    import yaml

    from custom_components.nvr_inference.engine.detect.spec import BUILTIN_DETECTORS

    schema = yaml.safe_load((ROOT / "nvr_inference_worker" / "config.yaml").read_text())["schema"]
    found = re.fullmatch(r"match\((.*)\)", schema["detector"])
    assert found is not None, schema["detector"]
    detector = re.compile(found[1])
    assert "objects" in BUILTIN_DETECTORS
    for name in (*BUILTIN_DETECTORS, "roboflow:my-model/3", "local:/config/my-yolov8"):
        assert detector.fullmatch(name), name
    for name in ("persons", "objects2", "local:relative/folder", "roboflow:", ""):
        assert not detector.fullmatch(name), name
