"""An entry that can no longer start (Home Assistant upgraded past 2026.2): a repair, no traceback.

The hosting check is the boundary faked here (it looks for the packages on disk); everything
else is real: the entry's setup, the issue registry, Home Assistant's MQTT client on a real
broker, the translations. The last test starts the real pipeline, so it is marked `pipeline`.
"""

from __future__ import annotations

import logging
from pathlib import Path

from homeassistant.config_entries import ConfigEntryState
from homeassistant.const import CONF_API_KEY
from homeassistant.core import HomeAssistant
from homeassistant.helpers import issue_registry as ir
from homeassistant.helpers.translation import async_get_translations
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.nvr_inference.const import (
    CONF_DETECTOR,
    CONF_MODEL_ID,
    CONF_SOURCES,
    DOMAIN,
)

from ..mqtt_helpers import Broker
from .conftest import PIPELINE_GONE, hosting, make_nvr_entry

pytestmark = pytest.mark.usefixtures("enable_custom_integrations", "mqtt_entry")

CAMERA = "rtsp://cam:cam-secret@192.168.1.20:554/stream"


def _issue(issues: ir.IssueRegistry, entry: MockConfigEntry) -> ir.IssueEntry | None:
    return issues.async_get_issue(DOMAIN, f"pipeline_missing_{entry.entry_id}")


def _entry(hass: HomeAssistant, video: Path) -> MockConfigEntry:
    """The test entry with a second, password-protected camera and a Roboflow model."""
    entry = make_nvr_entry(hass, video)
    data = dict(entry.data)
    data[CONF_SOURCES] = [
        *data[CONF_SOURCES],
        {"source_id": 1, "reference": CAMERA, "name": "Porch", "loop": False},
    ]
    data |= {CONF_DETECTOR: "roboflow", CONF_MODEL_ID: "yolov8n-640", CONF_API_KEY: "rf-secret"}
    hass.config_entries.async_update_entry(entry, data=data)
    return entry


async def test_an_entry_that_cannot_start_raises_a_repair_with_the_worker_yaml(
    hass: HomeAssistant,
    issue_registry: ir.IssueRegistry,
    caplog: pytest.LogCaptureFixture,
    broker: Broker,
    tmp_path: Path,
) -> None:
    entry = _entry(hass, tmp_path / "yard.avi")
    caplog.set_level(logging.DEBUG)
    with hosting(PIPELINE_GONE):
        assert not await hass.config_entries.async_setup(entry.entry_id)
        await hass.async_block_till_done()

    # It fails cleanly, once: no retry is scheduled, and no traceback anywhere in the log.
    assert entry.state is ConfigEntryState.SETUP_ERROR
    assert "Traceback" not in caplog.text
    assert [r for r in caplog.records if r.exc_info] == []
    ours = [r for r in caplog.records if r.name.startswith("custom_components.nvr_inference")]
    errors = [r.getMessage() for r in ours if r.levelno >= logging.ERROR]
    assert errors == [
        "Test NVR cannot start: Roboflow's InferencePipeline cannot be imported in this Home "
        "Assistant (Python 3.14.2, musl); see the repair issue for the standalone worker's "
        "configuration"
    ]

    issue = _issue(issue_registry, entry)
    assert issue is not None
    assert issue.severity is ir.IssueSeverity.ERROR
    assert not issue.is_fixable
    assert issue.translation_key == "pipeline_missing"
    placeholders = issue.translation_placeholders or {}
    assert placeholders["entry"] == "Test NVR"
    assert placeholders["python_version"] == "3.14.2"
    assert placeholders["libc"] == "musl"
    # A Roboflow model: the full profile, and no person model to install.
    assert "/opt/nvr-inference/bin/pip install './nvr_inference[full]'" in placeholders["commands"]
    assert "pedestrian" not in placeholders["commands"]
    yaml_text = placeholders["yaml"]
    assert f"mqtt_host: {broker.host}" in yaml_text
    assert f"mqtt_port: {broker.port}" in yaml_text
    assert "detector: roboflow:yolov8n-640" in yaml_text
    assert "reference: rtsp://cam:PASSWORD@192.168.1.20:554/stream" in yaml_text
    assert f"reference: {tmp_path / 'yard.avi'}" in yaml_text
    assert "cam-secret" not in yaml_text
    assert "rf-secret" not in yaml_text
    assert "ROBOFLOW_API_KEY" in yaml_text  # the header says where the key goes

    # The description, as the user reads it, in both languages: why, how, and the YAML.
    for language in ("en", "es"):
        strings = await async_get_translations(hass, language, "issues", {DOMAIN})
        prefix = f"component.{DOMAIN}.issues.pipeline_missing"
        title = strings[f"{prefix}.title"].format(**placeholders)
        text = strings[f"{prefix}.description"].format(**placeholders)
        assert "Test NVR" in title
        assert "Python 3.14.2" in text
        assert "musl" in text
        assert f"```yaml\n{yaml_text}\n```" in text
        assert f"```\n{placeholders['commands']}\n```" in text
        assert placeholders["docs_url"] in text


async def test_removing_the_entry_removes_its_repair(
    hass: HomeAssistant, issue_registry: ir.IssueRegistry, tmp_path: Path
) -> None:
    entry = _entry(hass, tmp_path / "yard.avi")
    with hosting(PIPELINE_GONE):
        assert not await hass.config_entries.async_setup(entry.entry_id)
        await hass.async_block_till_done()
    assert _issue(issue_registry, entry) is not None

    await hass.config_entries.async_remove(entry.entry_id)
    await hass.async_block_till_done()

    assert _issue(issue_registry, entry) is None


@pytest.mark.pipeline
async def test_a_setup_that_succeeds_removes_the_repair(
    hass: HomeAssistant, issue_registry: ir.IssueRegistry, sample_video: Path
) -> None:
    """The packages came back (a Home Assistant Core on 3.13): the entry loads, the issue goes."""
    entry = make_nvr_entry(hass, sample_video)
    with hosting(PIPELINE_GONE):
        assert not await hass.config_entries.async_setup(entry.entry_id)
        await hass.async_block_till_done()
    assert _issue(issue_registry, entry) is not None

    assert await hass.config_entries.async_reload(entry.entry_id)
    await hass.async_block_till_done()

    assert entry.state is ConfigEntryState.LOADED
    assert _issue(issue_registry, entry) is None
    assert await hass.config_entries.async_unload(entry.entry_id)
