"""Tests for the nvr_inference config flow: user, roboflow, reconfigure, reauth and options."""

from __future__ import annotations

from collections.abc import Iterator
import json
from pathlib import Path
import re
from typing import Any
from unittest.mock import AsyncMock, MagicMock, patch

from homeassistant.config_entries import SOURCE_USER, ConfigFlowResult
from homeassistant.const import CONF_API_KEY, CONF_NAME
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
from homeassistant.helpers.translation import async_get_translations
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.nvr_inference.config_flow import CONF_LOOP, INSTALL_HINT
from custom_components.nvr_inference.const import (
    CONF_BASE_TOPIC,
    CONF_CLASSES,
    CONF_CONFIDENCE,
    CONF_DETECTOR,
    CONF_DISCOVERY,
    CONF_MAX_FPS,
    CONF_MODEL_ID,
    CONF_MOTION_GATING,
    CONF_SOURCES,
    CONF_TRACKING,
    CONF_ZONES,
    DEFAULT_CONFIDENCE,
    DEFAULT_MAX_FPS,
    DOMAIN,
    PROBE_TIMEOUT,
)
from custom_components.nvr_inference.engine.detect.spec import BUILTINS, DetectorSpec
from custom_components.nvr_inference.engine.errors import (
    DetectorError,
    FullProfileRequiredError,
    InvalidApiKeyError,
    ModelNotFoundError,
    PipelineMissingError,
    SourceUnavailableError,
)
from custom_components.nvr_inference.engine.objects.event_records import event_types
from custom_components.nvr_inference.engine.video.sources import SourceConfig
from custom_components.nvr_inference.form_fields import (
    format_sources,
    parse_classes,
    parse_sources,
    valid_topic,
)

from .conftest import PIPELINE_GONE, hosting

PACKAGE = Path(__file__).resolve().parents[2] / "custom_components" / DOMAIN

DEFAULT_OPTIONS = {
    CONF_CONFIDENCE: DEFAULT_CONFIDENCE,
    CONF_MAX_FPS: DEFAULT_MAX_FPS,
    CONF_CLASSES: [],
    CONF_DISCOVERY: False,  # embedded: the native entities are there already (issue 21)
}
USER_INPUT = {
    CONF_NAME: "Garden",
    CONF_SOURCES: "# the garden\nFront door = rtsp://user:pw@cam.local/stream?ch=1\n\n/media/yard.mp4\n0\n",
    CONF_LOOP: True,
    CONF_DETECTOR: "motion",
    CONF_BASE_TOPIC: "garden",
}
SOURCES = [
    {
        "source_id": 0,
        "reference": "rtsp://user:pw@cam.local/stream?ch=1",
        "name": "Front door",
        "loop": True,
    },
    {"source_id": 1, "reference": "/media/yard.mp4", "name": None, "loop": True},
    {"source_id": 2, "reference": "0", "name": None, "loop": True},
]
ROBOFLOW_INPUT = {CONF_MODEL_ID: " yolov8n-640 ", CONF_API_KEY: " secret-key "}


@pytest.fixture(autouse=True)
def auto_enable(enable_custom_integrations: None, pipeline_here: MagicMock) -> None:
    """Load the integration from custom_components; the pipeline's packages are here."""


@pytest.fixture
def mock_setup_entry() -> Iterator[AsyncMock]:
    """Keep entry setup out of config flow tests."""
    with patch(
        "custom_components.nvr_inference.async_setup_entry",
        new_callable=AsyncMock,
        return_value=True,
        create=True,
    ) as mock:
        yield mock


@pytest.fixture
def mock_check_setup() -> Iterator[MagicMock]:
    """Fake the probe (the boundary to pipeline, detector and cameras)."""
    with patch("custom_components.nvr_inference.config_flow.check_setup", autospec=True) as mock:
        yield mock


@pytest.fixture
def mock_config_entry() -> MockConfigEntry:
    """An entry with two file sources and the motion detector."""
    return MockConfigEntry(
        domain=DOMAIN,
        title="NVR",
        unique_id="nvr",
        data={
            CONF_NAME: "NVR",
            CONF_BASE_TOPIC: "nvr",
            CONF_SOURCES: [
                {"source_id": 0, "reference": "a.mp4", "name": None, "loop": False},
                {"source_id": 1, "reference": "b.mp4", "name": None, "loop": False},
            ],
            CONF_DETECTOR: "motion",
        },
        options=DEFAULT_OPTIONS,
    )


@pytest.fixture
def mock_roboflow_entry() -> MockConfigEntry:
    """An entry running a Roboflow model."""
    return MockConfigEntry(
        domain=DOMAIN,
        title="Yard",
        unique_id="yard",
        data={
            CONF_NAME: "Yard",
            CONF_BASE_TOPIC: "yard",
            CONF_SOURCES: [{"source_id": 3, "reference": "0", "name": "USB", "loop": False}],
            CONF_DETECTOR: "roboflow",
            CONF_MODEL_ID: "yolov8n-640",
            CONF_API_KEY: "old-key",
        },
        options=DEFAULT_OPTIONS,
    )


def _source_configs(sources: list[dict[str, Any]]) -> list[SourceConfig]:
    return [SourceConfig(**source) for source in sources]


def _suggested(result: ConfigFlowResult) -> dict[str, Any]:
    """Return the values a form shows prefilled."""
    schema = result["data_schema"]
    assert schema is not None
    return {str(key): key.description["suggested_value"] for key in schema.schema}


@pytest.mark.usefixtures("mock_setup_entry")
async def test_user_flow_motion(hass: HomeAssistant, mock_check_setup: MagicMock) -> None:
    """A built-in detector is tested and the entry created from the first form."""
    result = await hass.config_entries.flow.async_init(DOMAIN, context={"source": SOURCE_USER})
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "user"
    assert result["errors"] == {}

    result = await hass.config_entries.flow.async_configure(result["flow_id"], USER_INPUT)

    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["title"] == "Garden"
    assert result["data"] == {
        CONF_NAME: "Garden",
        CONF_BASE_TOPIC: "garden",
        CONF_SOURCES: SOURCES,
        CONF_DETECTOR: "motion",
    }
    assert result["options"] == DEFAULT_OPTIONS
    assert result["result"].unique_id == "garden"
    mock_check_setup.assert_called_once_with(
        _source_configs(SOURCES), DetectorSpec("motion", "motion"), None, PROBE_TIMEOUT
    )


@pytest.mark.usefixtures("mock_setup_entry")
async def test_user_flow_defaults(hass: HomeAssistant, mock_check_setup: MagicMock) -> None:
    """Only sources are required: name, loop, detector and topic have defaults."""
    result = await hass.config_entries.flow.async_init(DOMAIN, context={"source": SOURCE_USER})
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_SOURCES: "a.mp4"}
    )

    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["title"] == "NVR"
    assert result["data"] == {
        CONF_NAME: "NVR",
        CONF_BASE_TOPIC: "nvr",
        CONF_SOURCES: [{"source_id": 0, "reference": "a.mp4", "name": None, "loop": False}],
        CONF_DETECTOR: "motion",
    }
    assert result["result"].unique_id == "nvr"
    mock_check_setup.assert_called_once()


@pytest.mark.usefixtures("mock_setup_entry")
async def test_user_flow_roboflow(hass: HomeAssistant, mock_check_setup: MagicMock) -> None:
    """A Roboflow detector asks for the model and key on a second form."""
    result = await hass.config_entries.flow.async_init(DOMAIN, context={"source": SOURCE_USER})
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {**USER_INPUT, CONF_DETECTOR: "roboflow"}
    )
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "roboflow"
    assert result["errors"] == {}
    mock_check_setup.assert_not_called()

    result = await hass.config_entries.flow.async_configure(result["flow_id"], ROBOFLOW_INPUT)

    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["title"] == "Garden"
    assert result["data"] == {
        CONF_NAME: "Garden",
        CONF_BASE_TOPIC: "garden",
        CONF_SOURCES: SOURCES,
        CONF_DETECTOR: "roboflow",
        CONF_MODEL_ID: "yolov8n-640",
        CONF_API_KEY: "secret-key",
    }
    assert result["options"] == DEFAULT_OPTIONS
    mock_check_setup.assert_called_once_with(
        _source_configs(SOURCES),
        DetectorSpec("roboflow", "yolov8n-640"),
        "secret-key",
        PROBE_TIMEOUT,
    )


@pytest.mark.usefixtures("mock_setup_entry")
@pytest.mark.parametrize(
    ("side_effect", "error", "placeholders"),
    [
        (
            SourceUnavailableError("cannot open rtsp://***@cam.local/stream"),
            "cannot_connect",
            {"error": "cannot open rtsp://***@cam.local/stream"},
        ),
        (FullProfileRequiredError("light"), "inference_missing", {"install": INSTALL_HINT}),
        (DetectorError("no face model"), "invalid_detector", {"error": "no face model"}),
        (RuntimeError("boom"), "unknown", {}),
    ],
)
async def test_user_flow_errors(
    hass: HomeAssistant,
    mock_check_setup: MagicMock,
    side_effect: Exception,
    error: str,
    placeholders: dict[str, str],
) -> None:
    """A failed test shows the form again with the input kept; a retry succeeds."""
    mock_check_setup.side_effect = side_effect
    result = await hass.config_entries.flow.async_init(DOMAIN, context={"source": SOURCE_USER})
    result = await hass.config_entries.flow.async_configure(result["flow_id"], USER_INPUT)

    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "user"
    assert result["errors"] == {"base": error}
    assert result["description_placeholders"] == placeholders
    assert _suggested(result) == USER_INPUT

    mock_check_setup.side_effect = None
    result = await hass.config_entries.flow.async_configure(result["flow_id"], USER_INPUT)

    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["data"][CONF_SOURCES] == SOURCES
    assert mock_check_setup.call_count == 2


@pytest.mark.usefixtures("mock_setup_entry")
@pytest.mark.parametrize(
    ("side_effect", "errors", "placeholders"),
    [
        (InvalidApiKeyError("refused"), {CONF_API_KEY: "invalid_auth"}, {}),
        (
            ModelNotFoundError("Roboflow has no model 'x'"),
            {CONF_MODEL_ID: "model_not_found"},
            {"error": "Roboflow has no model 'x'"},
        ),
        (
            FullProfileRequiredError("light"),
            {"base": "inference_missing"},
            {"install": INSTALL_HINT},
        ),
        (DetectorError("bad"), {"base": "invalid_detector"}, {"error": "bad"}),
        (ValueError("boom"), {"base": "unknown"}, {}),
    ],
)
async def test_roboflow_errors(
    hass: HomeAssistant,
    mock_check_setup: MagicMock,
    side_effect: Exception,
    errors: dict[str, str],
    placeholders: dict[str, str],
) -> None:
    """Detector errors stay on the Roboflow form with the input kept; a retry succeeds."""
    mock_check_setup.side_effect = side_effect
    result = await hass.config_entries.flow.async_init(DOMAIN, context={"source": SOURCE_USER})
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {**USER_INPUT, CONF_DETECTOR: "roboflow"}
    )
    result = await hass.config_entries.flow.async_configure(result["flow_id"], ROBOFLOW_INPUT)

    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "roboflow"
    assert result["errors"] == errors
    assert result["description_placeholders"] == placeholders
    assert _suggested(result) == ROBOFLOW_INPUT

    mock_check_setup.side_effect = None
    result = await hass.config_entries.flow.async_configure(result["flow_id"], ROBOFLOW_INPUT)

    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["data"][CONF_API_KEY] == "secret-key"


REPOSITORY = "https://github.com/nvr-inference/nvr_inference"


async def _assert_pipeline_missing(
    hass: HomeAssistant, result: ConfigFlowResult, python_version: str, libc: str
) -> None:
    """The flow aborted with why (this Python, its C library) and how (commands, link)."""
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "pipeline_missing"
    placeholders = result["description_placeholders"]
    assert placeholders is not None
    assert placeholders["python_version"] == python_version
    assert placeholders["libc"] == libc
    assert placeholders["docs_url"] == f"{REPOSITORY}/blob/HEAD/docs/worker.md"
    commands = placeholders["commands"].splitlines()
    assert commands[0] == f"git clone {REPOSITORY}"
    assert "/opt/nvr-inference/bin/pip install './nvr_inference[light]'" in commands
    assert commands[-1].endswith("/opt/nvr-inference/bin/nvr-inference worker --config worker.yaml")
    for language in ("en", "es"):
        strings = await async_get_translations(hass, language, "config", {DOMAIN})
        text = strings[f"component.{DOMAIN}.config.abort.pipeline_missing"].format(**placeholders)
        assert f"Python {python_version}" in text
        assert libc in text
        assert placeholders["commands"] in text
        assert placeholders["docs_url"] in text


async def test_user_flow_aborts_first_when_the_pipeline_cannot_live_here(
    hass: HomeAssistant, mock_check_setup: MagicMock
) -> None:
    """Before any form: the packages are missing, so say why and how, and stop (no loop)."""
    with hosting(PIPELINE_GONE) as check:
        result = await hass.config_entries.flow.async_init(DOMAIN, context={"source": SOURCE_USER})

    await _assert_pipeline_missing(hass, result, "3.14.2", "musl")
    check.assert_called_once_with()
    mock_check_setup.assert_not_called()
    assert hass.config_entries.flow.async_progress() == []


async def test_reconfigure_and_reauth_abort_first_when_the_pipeline_cannot_live_here(
    hass: HomeAssistant,
    mock_check_setup: MagicMock,
    mock_config_entry: MockConfigEntry,
    mock_roboflow_entry: MockConfigEntry,
) -> None:
    """The steps that would probe abort before their form too; nothing is saved."""
    mock_config_entry.add_to_hass(hass)
    mock_roboflow_entry.add_to_hass(hass)
    with hosting(PIPELINE_GONE):
        reconfigure = await mock_config_entry.start_reconfigure_flow(hass)
        reauth = await mock_roboflow_entry.start_reauth_flow(hass)

    await _assert_pipeline_missing(hass, reconfigure, "3.14.2", "musl")
    await _assert_pipeline_missing(hass, reauth, "3.14.2", "musl")
    mock_check_setup.assert_not_called()
    assert mock_roboflow_entry.data[CONF_API_KEY] == "old-key"


@pytest.mark.usefixtures("mock_setup_entry")
async def test_a_pipeline_found_but_not_importable_aborts_too(
    hass: HomeAssistant, mock_check_setup: MagicMock
) -> None:
    """Found on disk but broken at import (the probe says so): abort, never a form loop."""
    mock_check_setup.side_effect = PipelineMissingError("streamvision: libGL.so.1 missing")
    result = await hass.config_entries.flow.async_init(DOMAIN, context={"source": SOURCE_USER})
    assert result["type"] is FlowResultType.FORM

    result = await hass.config_entries.flow.async_configure(result["flow_id"], USER_INPUT)

    await _assert_pipeline_missing(hass, result, "3.13.5", "glibc 2.36")
    assert hass.config_entries.async_entries(DOMAIN) == []


async def test_roboflow_blank_model_id(hass: HomeAssistant, mock_check_setup: MagicMock) -> None:
    """A model id of only spaces is refused before anything is probed."""
    result = await hass.config_entries.flow.async_init(DOMAIN, context={"source": SOURCE_USER})
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {**USER_INPUT, CONF_DETECTOR: "roboflow"}
    )
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_MODEL_ID: "  ", CONF_API_KEY: "key"}
    )

    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {"base": "invalid_detector"}
    placeholders = result["description_placeholders"]
    assert placeholders is not None
    assert "model id" in placeholders["error"]
    mock_check_setup.assert_not_called()


@pytest.mark.usefixtures("mock_setup_entry")
async def test_roboflow_source_error_returns_to_sources(
    hass: HomeAssistant, mock_check_setup: MagicMock
) -> None:
    """A source error on the Roboflow step goes back to the form that has the sources."""
    user_input = {**USER_INPUT, CONF_DETECTOR: "roboflow"}
    mock_check_setup.side_effect = SourceUnavailableError("cannot open /media/yard.mp4")
    result = await hass.config_entries.flow.async_init(DOMAIN, context={"source": SOURCE_USER})
    result = await hass.config_entries.flow.async_configure(result["flow_id"], user_input)
    result = await hass.config_entries.flow.async_configure(result["flow_id"], ROBOFLOW_INPUT)

    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "user"
    assert result["errors"] == {"base": "cannot_connect"}
    assert result["description_placeholders"] == {"error": "cannot open /media/yard.mp4"}
    assert _suggested(result) == user_input

    mock_check_setup.side_effect = None
    fixed = {**user_input, CONF_SOURCES: "/media/garden.mp4"}
    result = await hass.config_entries.flow.async_configure(result["flow_id"], fixed)
    assert result["step_id"] == "roboflow"
    assert _suggested(result) == ROBOFLOW_INPUT

    result = await hass.config_entries.flow.async_configure(result["flow_id"], ROBOFLOW_INPUT)

    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["data"][CONF_SOURCES] == [
        {"source_id": 0, "reference": "/media/garden.mp4", "name": None, "loop": True}
    ]


@pytest.mark.usefixtures("mock_setup_entry")
@pytest.mark.parametrize("sources", ["", "  \n\n", "# only a comment\n  # another"])
async def test_no_sources(hass: HomeAssistant, mock_check_setup: MagicMock, sources: str) -> None:
    """No source lines is an error on the sources field; nothing is probed."""
    result = await hass.config_entries.flow.async_init(DOMAIN, context={"source": SOURCE_USER})
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {**USER_INPUT, CONF_SOURCES: sources}
    )

    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {CONF_SOURCES: "no_sources"}
    mock_check_setup.assert_not_called()

    result = await hass.config_entries.flow.async_configure(result["flow_id"], USER_INPUT)

    assert result["type"] is FlowResultType.CREATE_ENTRY


@pytest.mark.usefixtures("mock_setup_entry")
@pytest.mark.parametrize("topic", ["", "   ", "nvr/#", "nvr/+/x", "/nvr", "nvr/", "my nvr"])
async def test_invalid_topic(hass: HomeAssistant, mock_check_setup: MagicMock, topic: str) -> None:
    """A base topic that cannot be published under is an error on its field."""
    result = await hass.config_entries.flow.async_init(DOMAIN, context={"source": SOURCE_USER})
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {**USER_INPUT, CONF_BASE_TOPIC: topic}
    )

    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {CONF_BASE_TOPIC: "invalid_topic"}
    mock_check_setup.assert_not_called()

    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {**USER_INPUT, CONF_BASE_TOPIC: " home/nvr "}
    )

    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["data"][CONF_BASE_TOPIC] == "home/nvr"


async def test_already_configured(
    hass: HomeAssistant, mock_check_setup: MagicMock, mock_config_entry: MockConfigEntry
) -> None:
    """A second entry on the same base topic is refused before probing."""
    mock_config_entry.add_to_hass(hass)
    result = await hass.config_entries.flow.async_init(DOMAIN, context={"source": SOURCE_USER})
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {**USER_INPUT, CONF_BASE_TOPIC: "nvr"}
    )

    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "already_configured"
    mock_check_setup.assert_not_called()


@pytest.mark.usefixtures("mock_setup_entry")
async def test_reconfigure(
    hass: HomeAssistant, mock_check_setup: MagicMock, mock_config_entry: MockConfigEntry
) -> None:
    """Sources that stay keep their ids; new ones get ids after the highest."""
    mock_config_entry.add_to_hass(hass)
    result = await mock_config_entry.start_reconfigure_flow(hass)
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "reconfigure"
    assert result["description_placeholders"] == {CONF_NAME: "NVR"}
    assert _suggested(result) == {
        CONF_SOURCES: "a.mp4\nb.mp4",
        CONF_LOOP: False,
    }

    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_SOURCES: "b.mp4\nc.mp4", CONF_LOOP: True}
    )
    await hass.async_block_till_done()

    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "reconfigure_successful"
    sources = [
        {"source_id": 1, "reference": "b.mp4", "name": None, "loop": True},
        {"source_id": 2, "reference": "c.mp4", "name": None, "loop": True},
    ]
    assert mock_config_entry.data[CONF_SOURCES] == sources
    assert mock_config_entry.data[CONF_DETECTOR] == "motion"
    mock_check_setup.assert_called_once_with(
        _source_configs(sources), DetectorSpec("motion", "motion"), None, PROBE_TIMEOUT
    )


@pytest.mark.usefixtures("mock_setup_entry")
async def test_reconfigure_never_shows_a_saved_password(
    hass: HomeAssistant, mock_check_setup: MagicMock
) -> None:
    """The form shows `***@host`; left as it is, the saved URL stays; a new one is taken."""
    entry = MockConfigEntry(
        domain=DOMAIN,
        title="NVR",
        unique_id="nvr",
        data={
            CONF_NAME: "NVR",
            CONF_BASE_TOPIC: "nvr",
            CONF_SOURCES: [
                {
                    "source_id": 0,
                    "reference": "rtsp://admin:hunter2@cam.local/live",
                    "name": "Porch",
                    "loop": False,
                },
                {
                    "source_id": 1,
                    "reference": "rtsp://viewer:s3cret@gate.local/live",
                    "name": "Gate",
                    "loop": False,
                },
            ],
            CONF_DETECTOR: "motion",
        },
        options=DEFAULT_OPTIONS,
    )
    entry.add_to_hass(hass)
    result = await entry.start_reconfigure_flow(hass)
    shown = _suggested(result)[CONF_SOURCES]
    assert shown == "Porch = rtsp://***@cam.local/live\nGate = rtsp://***@gate.local/live"
    assert "hunter2" not in str(result) and "s3cret" not in str(result)

    result = await hass.config_entries.flow.async_configure(
        result["flow_id"],
        {CONF_SOURCES: f"{shown.splitlines()[0]}\nGate = rtsp://viewer:n3w@gate.local/live"},
    )
    assert result["reason"] == "reconfigure_successful"
    assert [s["reference"] for s in entry.data[CONF_SOURCES]] == [
        "rtsp://admin:hunter2@cam.local/live",
        "rtsp://viewer:n3w@gate.local/live",
    ]
    assert [s["source_id"] for s in entry.data[CONF_SOURCES]] == [0, 1]


@pytest.mark.usefixtures("mock_setup_entry")
async def test_reconfigure_roboflow_uses_entry_key(
    hass: HomeAssistant, mock_check_setup: MagicMock, mock_roboflow_entry: MockConfigEntry
) -> None:
    """Reconfigure tests the new sources with the entry's model and key."""
    mock_roboflow_entry.add_to_hass(hass)
    result = await mock_roboflow_entry.start_reconfigure_flow(hass)
    assert _suggested(result) == {
        CONF_SOURCES: "USB = 0",
        CONF_LOOP: False,
    }

    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_SOURCES: "Webcam = 0\nUSB = 1", CONF_LOOP: False}
    )
    await hass.async_block_till_done()

    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "reconfigure_successful"
    sources = [
        {"source_id": 3, "reference": "0", "name": "Webcam", "loop": False},
        {"source_id": 4, "reference": "1", "name": "USB", "loop": False},
    ]
    assert mock_roboflow_entry.data[CONF_SOURCES] == sources
    mock_check_setup.assert_called_once_with(
        _source_configs(sources), DetectorSpec("roboflow", "yolov8n-640"), "old-key", PROBE_TIMEOUT
    )


@pytest.mark.usefixtures("mock_setup_entry")
async def test_reconfigure_errors(
    hass: HomeAssistant, mock_check_setup: MagicMock, mock_config_entry: MockConfigEntry
) -> None:
    """Reconfigure errors keep the input and recover on retry."""
    mock_config_entry.add_to_hass(hass)
    result = await mock_config_entry.start_reconfigure_flow(hass)

    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_SOURCES: "# nothing", CONF_LOOP: False}
    )
    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {CONF_SOURCES: "no_sources"}
    mock_check_setup.assert_not_called()

    mock_check_setup.side_effect = SourceUnavailableError("cannot open c.mp4")
    user_input = {CONF_SOURCES: "a.mp4\nc.mp4", CONF_LOOP: True}
    result = await hass.config_entries.flow.async_configure(result["flow_id"], user_input)
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "reconfigure"
    assert result["errors"] == {"base": "cannot_connect"}
    assert result["description_placeholders"] == {
        CONF_NAME: "NVR",
        "error": "cannot open c.mp4",
    }
    assert _suggested(result) == user_input
    assert mock_config_entry.data[CONF_SOURCES][1]["reference"] == "b.mp4"

    mock_check_setup.side_effect = None
    result = await hass.config_entries.flow.async_configure(result["flow_id"], user_input)
    await hass.async_block_till_done()

    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "reconfigure_successful"
    assert mock_config_entry.data[CONF_SOURCES] == [
        {"source_id": 0, "reference": "a.mp4", "name": None, "loop": True},
        {"source_id": 2, "reference": "c.mp4", "name": None, "loop": True},
    ]


@pytest.mark.usefixtures("mock_setup_entry")
async def test_reauth(
    hass: HomeAssistant, mock_check_setup: MagicMock, mock_roboflow_entry: MockConfigEntry
) -> None:
    """A new API key is tested against the model only, then saved."""
    mock_roboflow_entry.add_to_hass(hass)
    result = await mock_roboflow_entry.start_reauth_flow(hass)
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "reauth_confirm"
    assert result["description_placeholders"] == {CONF_NAME: "Yard"}

    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_API_KEY: " new-key "}
    )
    await hass.async_block_till_done()

    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "reauth_successful"
    assert mock_roboflow_entry.data[CONF_API_KEY] == "new-key"
    assert mock_roboflow_entry.data[CONF_MODEL_ID] == "yolov8n-640"
    mock_check_setup.assert_called_once_with(
        [], DetectorSpec("roboflow", "yolov8n-640"), "new-key", PROBE_TIMEOUT
    )


@pytest.mark.usefixtures("mock_setup_entry")
@pytest.mark.parametrize(
    ("side_effect", "errors", "placeholders"),
    [
        (InvalidApiKeyError("refused"), {CONF_API_KEY: "invalid_auth"}, {CONF_NAME: "Yard"}),
        (
            ModelNotFoundError("offline"),
            {"base": "model_not_found"},
            {CONF_NAME: "Yard", "error": "offline"},
        ),
        (
            FullProfileRequiredError("light"),
            {"base": "inference_missing"},
            {CONF_NAME: "Yard", "install": INSTALL_HINT},
        ),
        (OSError("boom"), {"base": "unknown"}, {CONF_NAME: "Yard"}),
    ],
)
async def test_reauth_errors(
    hass: HomeAssistant,
    mock_check_setup: MagicMock,
    mock_roboflow_entry: MockConfigEntry,
    side_effect: Exception,
    errors: dict[str, str],
    placeholders: dict[str, str],
) -> None:
    """A refused key keeps the form; a retry with a good key succeeds."""
    mock_roboflow_entry.add_to_hass(hass)
    mock_check_setup.side_effect = side_effect
    result = await mock_roboflow_entry.start_reauth_flow(hass)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_API_KEY: "bad-key"}
    )

    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "reauth_confirm"
    assert result["errors"] == errors
    assert result["description_placeholders"] == placeholders
    assert _suggested(result) == {CONF_API_KEY: "bad-key"}
    assert mock_roboflow_entry.data[CONF_API_KEY] == "old-key"

    mock_check_setup.side_effect = None
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_API_KEY: "good-key"}
    )
    await hass.async_block_till_done()

    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "reauth_successful"
    assert mock_roboflow_entry.data[CONF_API_KEY] == "good-key"


async def _options_step(hass: HomeAssistant, entry: MockConfigEntry, step: str) -> Any:
    result = await hass.config_entries.options.async_init(entry.entry_id)
    assert result["type"] is FlowResultType.MENU
    assert result["menu_options"] == ["detection", "tracking", "zones", "cameras"]
    return await hass.config_entries.options.async_configure(
        result["flow_id"], {"next_step_id": step}
    )


async def test_options_flow(hass: HomeAssistant, mock_config_entry: MockConfigEntry) -> None:
    """Options are shown with their current values and saved normalised."""
    mock_config_entry.add_to_hass(hass)
    result = await _options_step(hass, mock_config_entry, "detection")
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "detection"
    assert _suggested(result) == {
        CONF_CONFIDENCE: DEFAULT_CONFIDENCE,
        CONF_MAX_FPS: DEFAULT_MAX_FPS,
        CONF_CLASSES: "",
        CONF_DISCOVERY: False,
        CONF_MOTION_GATING: True,
    }

    result = await hass.config_entries.options.async_configure(
        result["flow_id"],
        {
            CONF_CONFIDENCE: 0.65,
            CONF_MAX_FPS: 12,
            CONF_CLASSES: " person, car,, person ,",
            CONF_DISCOVERY: True,
            CONF_MOTION_GATING: False,
        },
    )

    assert result["type"] is FlowResultType.CREATE_ENTRY
    options = {
        CONF_CONFIDENCE: 0.65,
        CONF_MAX_FPS: 12.0,
        CONF_CLASSES: ["person", "car"],
        CONF_DISCOVERY: True,
        CONF_MOTION_GATING: False,
    }
    assert result["data"] == options
    assert mock_config_entry.options == options

    result = await _options_step(hass, mock_config_entry, "detection")
    assert _suggested(result)[CONF_CLASSES] == "person, car"
    result = await hass.config_entries.options.async_configure(
        result["flow_id"], {CONF_CONFIDENCE: 0.5, CONF_MAX_FPS: 5, CONF_DISCOVERY: True}
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert mock_config_entry.options[CONF_CLASSES] == []


async def test_options_tracking(hass: HomeAssistant, mock_config_entry: MockConfigEntry) -> None:
    """Tracking settings are shown with their defaults, checked, and kept beside the rest."""
    mock_config_entry.add_to_hass(hass)
    result = await _options_step(hass, mock_config_entry, "tracking")
    assert result["step_id"] == "tracking"
    defaults = _suggested(result)
    assert defaults == {
        "enabled": True,
        "min_frames": 3,
        "end_after": 5.0,
        "activation_threshold": 0.25,
        "lost_track_buffer": 30,
        "matching_threshold": 0.8,
    }
    result = await hass.config_entries.options.async_configure(
        result["flow_id"], defaults | {"min_frames": 2.5}
    )
    assert result["errors"] == {"base": "invalid_tracking"}
    assert "min_frames must be a whole number" in result["description_placeholders"]["error"]
    assert mock_config_entry.options == DEFAULT_OPTIONS  # nothing changed
    result = await hass.config_entries.options.async_configure(
        result["flow_id"], defaults | {"min_frames": 5, "end_after": 8}
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert mock_config_entry.options == DEFAULT_OPTIONS | {
        CONF_TRACKING: defaults | {"min_frames": 5, "end_after": 8.0}
    }


async def test_options_zones(hass: HomeAssistant, mock_config_entry: MockConfigEntry) -> None:
    """Zones per camera: checked with precise errors, saved normalised, kept per source."""
    mock_config_entry.add_to_hass(hass)
    result = await _options_step(hass, mock_config_entry, "zones")
    assert result["step_id"] == "zones"  # two cameras: choose one
    result = await hass.config_entries.options.async_configure(result["flow_id"], {"source": "1"})
    assert result["step_id"] == "zones_source"
    assert result["description_placeholders"]["source"] == "Source 1"
    for text, message in (
        ("drive: 0,0 1,0", "needs at least 3 points"),
        ("drive: 0,0 1,0 1,1 | person", "unknown class 'person'; the detector reports motion"),
        ("drive: 0,0 1,1 1,0 0,1", "cross"),
    ):
        result = await hass.config_entries.options.async_configure(
            result["flow_id"], {CONF_ZONES: text}
        )
        assert result["errors"] == {CONF_ZONES: "invalid_zones"}
        assert message in result["description_placeholders"]["error"]
    assert mock_config_entry.options == DEFAULT_OPTIONS
    result = await hass.config_entries.options.async_configure(
        result["flow_id"],
        {CONF_ZONES: "drive: 0,0.5 1,0.5 1,1 0,1\nline gate: 0.2,0.5 0.8,0.5 | motion"},
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert mock_config_entry.options[CONF_ZONES] == {
        "1": {
            "zones": [
                {"name": "drive", "points": [[0, 0.5], [1, 0.5], [1, 1], [0, 1]], "classes": []}
            ],
            "lines": [
                {"name": "gate", "start": [0.2, 0.5], "end": [0.8, 0.5], "classes": ["motion"]}
            ],
        }
    }
    # Shown again as written; emptied, the source's zones go.
    result = await _options_step(hass, mock_config_entry, "zones")
    result = await hass.config_entries.options.async_configure(result["flow_id"], {"source": "1"})
    shown = _suggested(result)[CONF_ZONES]
    assert shown == "drive: 0,0.5 1,0.5 1,1 0,1\nline gate: 0.2,0.5 0.8,0.5 | motion"
    # Tracking cannot be turned off while zones exist, and a class filter cannot drop theirs.
    tracking = await _options_step(hass, mock_config_entry, "tracking")
    off = _suggested(tracking) | {"enabled": False}
    tracking = await hass.config_entries.options.async_configure(tracking["flow_id"], off)
    assert tracking["errors"] == {"base": "zones_need_tracking"}
    detection = await _options_step(hass, mock_config_entry, "detection")
    detection = await hass.config_entries.options.async_configure(
        detection["flow_id"],
        {CONF_CONFIDENCE: 0.5, CONF_MAX_FPS: 5, CONF_CLASSES: "face", CONF_DISCOVERY: True},
    )
    assert detection["errors"] == {CONF_CLASSES: "classes_used_by_zones"}
    result = await hass.config_entries.options.async_configure(result["flow_id"], {CONF_ZONES: ""})
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert mock_config_entry.options[CONF_ZONES] == {}


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("a.mp4", [(0, "a.mp4", None)]),
        ("Front = rtsp://u:p@h/s?a=b&c=d", [(0, "rtsp://u:p@h/s?a=b&c=d", "Front")]),
        ("rtsp://h/s?a=b", [(0, "rtsp://h/s?a=b", None)]),
        ("/media/x=y.mp4", [(0, "/media/x=y.mp4", None)]),
        ("C:\\videos\\x=y.mp4", [(0, "C:\\videos\\x=y.mp4", None)]),
        ("Cam=1", [(0, "1", "Cam")]),
        ("= a.mp4\nb.mp4 =", [(0, "= a.mp4", None), (1, "b.mp4 =", None)]),
        ("  # off\n\n 2 \n#3", [(0, "2", None)]),
    ],
)
def test_parse_sources(text: str, expected: list[tuple[int, str, str | None]]) -> None:
    """Lines are references or `Name = reference`; comments and blanks are skipped."""
    sources = parse_sources(text, loop=False)
    assert [(s["source_id"], s["reference"], s["name"]) for s in sources] == expected
    assert parse_sources(format_sources(sources), loop=False, existing=sources) == sources


def test_parse_sources_keeps_ids() -> None:
    """Name and reference match first, then reference only; the rest get new ids."""
    existing = [
        {"source_id": 0, "reference": "0", "name": "Porch", "loop": False},
        {"source_id": 5, "reference": "0", "name": "Hall", "loop": False},
        {"source_id": 2, "reference": "a.mp4", "name": None, "loop": False},
    ]
    text = "Kitchen = 0\nHall = 0\na.mp4\na.mp4\nnew.mp4"
    sources = parse_sources(text, loop=True, existing=existing)
    assert [(s["source_id"], s["reference"], s["name"], s["loop"]) for s in sources] == [
        (0, "0", "Kitchen", True),
        (5, "0", "Hall", True),
        (2, "a.mp4", None, True),
        (6, "a.mp4", None, True),
        (7, "new.mp4", None, True),
    ]


@pytest.mark.parametrize(
    ("topic", "valid"),
    [
        ("nvr", True),
        ("home/nvr/1", True),
        ("", False),
        ("a/#", False),
        ("a/+/b", False),
        ("/a", False),
        ("a/", False),
        ("a b", False),
        ("a\tb", False),
        ("a\0b", False),
    ],
)
def test_valid_topic(topic: str, valid: bool) -> None:
    """Base topics must be publishable and keep `<base>/...` well formed."""
    assert valid_topic(topic) is valid


def test_parse_classes() -> None:
    """Classes are comma-separated, stripped, without blanks or repeats."""
    assert parse_classes("") == []
    assert parse_classes(" person ,car,,person, ") == ["person", "car"]


def _resolve(value: Any, strings: dict[str, Any], common: dict[str, Any]) -> Any:
    if isinstance(value, dict):
        return {key: _resolve(item, strings, common) for key, item in value.items()}
    if not (match := re.fullmatch(r"\[%key:(.+)%\]", value)):
        return value
    node: Any = common
    parts = match.group(1).split("::")
    if parts[0] != "common":
        assert parts[:2] == ["component", DOMAIN]
        node, parts = strings, parts[2:]
    for part in parts:
        node = node[part]
    return _resolve(node, strings, common)


def _leaves(value: Any, path: str = "") -> dict[str, set[str]]:
    if isinstance(value, dict):
        found: dict[str, set[str]] = {}
        for key, item in value.items():
            found |= _leaves(item, f"{path}/{key}")
        return found
    return {path: set(re.findall(r"\{(\w+)\}", value))}


CURRENT_COMMON = Path(__file__).resolve().parents[2] / "scripts" / "common_strings_current.json"
"""Common strings Home Assistant reworded after 2026.2 (as in 2026.10.4 and 2026.11.0). en.json
follows the current wording: the ha-latest lane checks it against that release's own strings;
on 2026.2.3 these keys are taken as the current wording (scripts/translations does the same)."""


def test_translations_match_strings() -> None:
    """en.json is strings.json resolved; es.json has every key with the same placeholders."""
    import homeassistant
    from homeassistant.const import __version__ as ha_version
    from packaging.version import Version

    strings = json.loads((PACKAGE / "strings.json").read_text(encoding="utf-8"))
    common = json.loads(
        (Path(homeassistant.__file__).parent / "strings.json").read_text(encoding="utf-8")
    )
    if Version(ha_version) < Version("2026.10"):
        current = json.loads(CURRENT_COMMON.read_text(encoding="utf-8"))
        for section, groups in current.items():
            if section.startswith("_"):
                continue
            for group, keys in groups.items():
                common["common"][section][group].update(keys)
    english = json.loads((PACKAGE / "translations" / "en.json").read_text(encoding="utf-8"))
    spanish = json.loads((PACKAGE / "translations" / "es.json").read_text(encoding="utf-8"))

    assert english == _resolve(strings, strings, common)
    assert _leaves(spanish) == _leaves(english)


def test_every_builtin_event_type_has_a_name_in_the_activity_list() -> None:
    """Each built-in's default classes and `object`: `<class>_<kind>` is translated, no other.

    The event entity's Activity entries show the translated event type ("Person seen",
    "Person gone"); an untranslated one shows as `person_new`.
    """
    strings = json.loads((PACKAGE / "strings.json").read_text(encoding="utf-8"))
    named = strings["entity"]["event"]["object_events"]["state_attributes"]["event_type"]
    classes = {c for builtin in BUILTINS.values() for c in builtin.default_classes}
    expected = set(event_types(sorted(classes))) | set(event_types(()))
    assert set(named["state"]) == expected
