"""The config flow's `local` step: your own model package folder, no API key asked."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from unittest.mock import AsyncMock, MagicMock, patch

from homeassistant.config_entries import SOURCE_USER
from homeassistant.const import CONF_API_KEY, CONF_NAME
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
import pytest

from custom_components.nvr_inference.config_flow import CONF_LOOP, INSTALL_HINT
from custom_components.nvr_inference.const import (
    CONF_BASE_TOPIC,
    CONF_DETECTOR,
    CONF_MODEL_ID,
    CONF_SOURCES,
    DETECTOR_LOCAL,
    DOMAIN,
    PROBE_TIMEOUT,
)
from custom_components.nvr_inference.engine.detect.spec import parse_detector
from custom_components.nvr_inference.engine.errors import (
    FullProfileRequiredError,
    LocalModelError,
    SourceUnavailableError,
)
from custom_components.nvr_inference.engine.video.sources import SourceConfig

from ..engine.onnx_package import write_model_package, write_package_metadata

FOLDER = "/config/models/my-detector"


def user_input(video: str = "/media/yard.mp4") -> dict[str, object]:
    return {
        CONF_NAME: "Yard",
        CONF_SOURCES: f"Yard = {video}",
        CONF_LOOP: False,
        CONF_DETECTOR: DETECTOR_LOCAL,
        CONF_BASE_TOPIC: "yard",
    }


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


async def _local_form(hass: HomeAssistant, video: str = "/media/yard.mp4") -> dict[str, object]:
    result = await hass.config_entries.flow.async_init(DOMAIN, context={"source": SOURCE_USER})
    result = await hass.config_entries.flow.async_configure(result["flow_id"], user_input(video))
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "local"
    return dict(result)


@pytest.mark.usefixtures("mock_setup_entry")
async def test_local_model_asks_for_the_folder_and_no_key(
    hass: HomeAssistant, mock_check_setup: MagicMock
) -> None:
    result = await _local_form(hass)
    assert result["errors"] == {}
    mock_check_setup.assert_not_called()

    done = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_MODEL_ID: f" {FOLDER} "}
    )

    assert done["type"] is FlowResultType.CREATE_ENTRY
    assert done["data"][CONF_DETECTOR] == DETECTOR_LOCAL
    assert done["data"][CONF_MODEL_ID] == FOLDER
    assert CONF_API_KEY not in done["data"]
    mock_check_setup.assert_called_once_with(
        [SourceConfig(0, "/media/yard.mp4", "Yard", False)],
        parse_detector(f"local:{FOLDER}"),
        None,
        PROBE_TIMEOUT,
    )


@pytest.mark.usefixtures("mock_setup_entry")
@pytest.mark.parametrize(
    ("side_effect", "errors", "placeholders"),
    [
        (
            LocalModelError(f"the model folder {FOLDER} has no weights.onnx"),
            {CONF_MODEL_ID: "invalid_local_model"},
            {"error": f"the model folder {FOLDER} has no weights.onnx"},
        ),
        (
            FullProfileRequiredError("Local models need the full profile"),
            {"base": "inference_missing"},
            {"install": INSTALL_HINT},
        ),
    ],
)
async def test_local_model_errors_stay_on_the_form(
    hass: HomeAssistant,
    mock_check_setup: MagicMock,
    side_effect: Exception,
    errors: dict[str, str],
    placeholders: dict[str, str],
) -> None:
    mock_check_setup.side_effect = side_effect
    result = await _local_form(hass)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_MODEL_ID: FOLDER}
    )
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "local"
    assert result["errors"] == errors
    assert result["description_placeholders"] == placeholders

    mock_check_setup.side_effect = None
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_MODEL_ID: FOLDER}
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY


async def test_local_model_source_error_returns_to_sources(
    hass: HomeAssistant, mock_check_setup: MagicMock
) -> None:
    mock_check_setup.side_effect = SourceUnavailableError("file not found: /media/yard.mp4")
    result = await _local_form(hass)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_MODEL_ID: FOLDER}
    )
    assert result["step_id"] == "user"
    assert result["errors"] == {"base": "cannot_connect"}


async def test_a_relative_folder_is_refused_before_any_probe(
    hass: HomeAssistant, mock_check_setup: MagicMock
) -> None:
    result = await _local_form(hass)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_MODEL_ID: "models/mine"}
    )
    assert result["errors"] == {"base": "invalid_detector"}
    placeholders = result["description_placeholders"]
    assert placeholders is not None
    assert "absolute folder path" in placeholders["error"]
    mock_check_setup.assert_not_called()


@pytest.mark.pipeline  # the sample video needs OpenCV
async def test_the_real_probe_names_the_missing_file(
    hass: HomeAssistant, tmp_path: Path, sample_video: Path
) -> None:
    folder = tmp_path / "mine"
    write_package_metadata(folder)  # no weights.onnx
    result = await _local_form(hass, str(sample_video))
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_MODEL_ID: str(folder)}
    )
    assert result["errors"] == {CONF_MODEL_ID: "invalid_local_model"}
    assert result["description_placeholders"] == {
        "error": f"the model folder {folder} has no weights.onnx"
    }


@pytest.mark.full  # loading the package takes `inference` (and `onnx` to build it)
@pytest.mark.usefixtures("mock_setup_entry")
async def test_the_real_probe_loads_a_real_package_offline(
    hass: HomeAssistant, tmp_path: Path, sample_video: Path
) -> None:
    folder = write_model_package(tmp_path / "mine")
    result = await _local_form(hass, str(sample_video))
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_MODEL_ID: str(folder)}
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["data"][CONF_MODEL_ID] == str(folder)
