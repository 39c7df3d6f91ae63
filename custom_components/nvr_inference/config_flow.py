"""Config flow for nvr_inference: user, roboflow, local, reconfigure and reauth.

First, before any form: can the pipeline live in this Home Assistant at all? Where its
packages are missing (Home Assistant 2026.3+ on Python 3.14, musl) the flow aborts with
`pipeline_missing`, saying why and how to run the standalone worker instead; asking for
cameras first and refusing them after would only loop.

Every step that changes sources or credentials tests them before saving: the engine's
`check_setup` (blocking, so in the executor) imports the pipeline, builds the detector and
reads one frame of every source. Its errors become form errors the user can act on, except
a pipeline that is found but cannot be imported: that aborts the same way.

The options flow (detection, tracking, zones) is `options_flow.py`; what the text fields
mean (the sources, one per line; the base topic) is `form_fields.py`, shared by both.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Final

from homeassistant.config_entries import ConfigEntry, ConfigFlow, ConfigFlowResult
from homeassistant.const import CONF_API_KEY, CONF_NAME
from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers.selector import (
    BooleanSelector,
    SelectSelector,
    SelectSelectorConfig,
    SelectSelectorMode,
    TextSelector,
    TextSelectorConfig,
    TextSelectorType,
)
import voluptuous as vol

from .const import (
    CONF_BASE_TOPIC,
    CONF_CLASSES,
    CONF_CONFIDENCE,
    CONF_DETECTOR,
    CONF_DISCOVERY,
    CONF_MAX_FPS,
    CONF_MODEL_ID,
    CONF_SOURCES,
    DEFAULT_BASE_TOPIC,
    DEFAULT_CONFIDENCE,
    DEFAULT_DISCOVERY,
    DEFAULT_MAX_FPS,
    DETECTOR_LOCAL,
    DETECTOR_MOTION,
    DETECTOR_ROBOFLOW,
    DETECTORS,
    DOMAIN,
    LOGGER,
    PROBE_TIMEOUT,
    SOURCE_LOOP,
)
from .engine.contract.host import HostInfo, HostKind
from .engine.detect.spec import parse_detector
from .engine.errors import (
    DetectorError,
    FullProfileRequiredError,
    InvalidApiKeyError,
    LocalModelError,
    ModelNotFoundError,
    PipelineMissingError,
    SourceUnavailableError,
)
from .engine.pipeline.hosting import HostingReport
from .engine.video.probe import check_setup
from .engine.video.sources import SourceConfig
from .form_fields import detector_name, format_sources, parse_sources, valid_topic
from .hass_mqtt import async_check_base_topic
from .options_flow import NvrInferenceOptionsFlow
from .worker_handoff import async_guidance, async_hosting_report

CONF_LOOP: Final = "loop"
PIPELINE_MISSING: Final = "pipeline_missing"
"""Abort reason (not a form error): nothing the user enters here can fix it."""
DEFAULT_NAME: Final = "NVR"
NEW_ENTRY_HOST: Final = HostInfo("ha:new-entry", HostKind.INTEGRATION, "new entry")
"""Who a new entry would be: any live host already on the base topic is another one."""

INSTALL_HINT: Final = (
    "Install the pipeline packages into Home Assistant's Python (docs/embedded.md) "
    "or run the standalone worker: nvr-inference worker"
)

SOURCES_SELECTOR: Final = TextSelector(TextSelectorConfig(multiline=True))
PASSWORD_SELECTOR: Final = TextSelector(TextSelectorConfig(type=TextSelectorType.PASSWORD))

USER_SCHEMA: Final = vol.Schema(
    {
        vol.Required(CONF_NAME, default=DEFAULT_NAME): TextSelector(),
        vol.Required(CONF_SOURCES): SOURCES_SELECTOR,
        vol.Required(CONF_LOOP, default=False): BooleanSelector(),
        vol.Required(CONF_DETECTOR, default=DETECTOR_MOTION): SelectSelector(
            SelectSelectorConfig(
                options=list(DETECTORS),
                translation_key=CONF_DETECTOR,
                mode=SelectSelectorMode.LIST,
            )
        ),
        vol.Required(CONF_BASE_TOPIC, default=DEFAULT_BASE_TOPIC): TextSelector(),
    }
)
ROBOFLOW_SCHEMA: Final = vol.Schema(
    {
        vol.Required(CONF_MODEL_ID): TextSelector(),
        vol.Required(CONF_API_KEY): PASSWORD_SELECTOR,
    }
)
LOCAL_SCHEMA: Final = vol.Schema({vol.Required(CONF_MODEL_ID): TextSelector()})
RECONFIGURE_SCHEMA: Final = vol.Schema(
    {
        vol.Required(CONF_SOURCES): SOURCES_SELECTOR,
        vol.Required(CONF_LOOP, default=False): BooleanSelector(),
    }
)
REAUTH_SCHEMA: Final = vol.Schema({vol.Required(CONF_API_KEY): PASSWORD_SELECTOR})

# Probe errors that belong to one field of the roboflow, local and reauth forms.
_ERROR_FIELDS: Final = {
    "invalid_auth": CONF_API_KEY,
    "model_not_found": CONF_MODEL_ID,
    "invalid_local_model": CONF_MODEL_ID,
}


async def async_check_setup(
    hass: HomeAssistant,
    sources: Sequence[Mapping[str, Any]],
    detector: str,
    model_id: str | None = None,
    api_key: str | None = None,
) -> tuple[str | None, dict[str, str]]:
    """Test sources and detector; return a form error key (None when fine) and placeholders."""
    error: str | None = None
    placeholders: dict[str, str] = {}
    try:
        spec = parse_detector(detector_name(detector, model_id))
        configs = [SourceConfig.from_dict(source) for source in sources]
        await hass.async_add_executor_job(check_setup, configs, spec, api_key, PROBE_TIMEOUT)
    except PipelineMissingError:
        error = PIPELINE_MISSING
    except FullProfileRequiredError:
        error, placeholders = "inference_missing", {"install": INSTALL_HINT}
    except SourceUnavailableError as err:
        # Engine messages are credential-free: URLs are redacted before they get here.
        error, placeholders = "cannot_connect", {"error": str(err)}
    except InvalidApiKeyError:
        error = "invalid_auth"
    except ModelNotFoundError as err:
        error, placeholders = "model_not_found", {"error": str(err)}
    except LocalModelError as err:
        error, placeholders = "invalid_local_model", {"error": str(err)}
    except DetectorError as err:
        error, placeholders = "invalid_detector", {"error": str(err)}
    except Exception:  # noqa: BLE001
        LOGGER.exception("Unexpected error while testing the setup")
        error = "unknown"
    return error, placeholders


class NvrInferenceConfigFlow(ConfigFlow, domain=DOMAIN):
    """Handle a config flow for nvr_inference."""

    VERSION = 1

    def __init__(self) -> None:
        """Start with nothing entered."""
        self._data: dict[str, Any] = {}
        self._user_input: dict[str, Any] = {}
        self._roboflow_input: dict[str, Any] = {}
        self._local_input: dict[str, Any] = {}

    @staticmethod
    @callback
    def async_get_options_flow(config_entry: ConfigEntry) -> NvrInferenceOptionsFlow:
        """Return the options flow."""
        return NvrInferenceOptionsFlow()

    async def async_step_user(self, user_input: dict[str, Any] | None = None) -> ConfigFlowResult:
        """Ask for the name, sources, detector and base topic (once the pipeline can live here)."""
        errors: dict[str, str] = {}
        placeholders: dict[str, str] = {}
        if user_input is None and (aborted := await self._async_abort_without_pipeline()):
            return aborted
        if user_input is not None:
            sources = parse_sources(user_input[CONF_SOURCES], loop=user_input[CONF_LOOP])
            base_topic = user_input[CONF_BASE_TOPIC].strip()
            if not sources:
                errors[CONF_SOURCES] = "no_sources"
            if not valid_topic(base_topic):
                errors[CONF_BASE_TOPIC] = "invalid_topic"
            if not errors:
                await self.async_set_unique_id(base_topic)
                self._abort_if_unique_id_configured()
                check = await async_check_base_topic(self.hass, base_topic, NEW_ENTRY_HOST)
                foreign = None if check is None else check.verdict(NEW_ENTRY_HOST)
                if foreign is not None:
                    errors[CONF_BASE_TOPIC] = "base_topic_in_use"
                    placeholders = {"owner": f"{foreign.name} ({foreign.kind})"}
            if not errors:
                self._user_input = user_input
                self._data = {
                    CONF_NAME: user_input[CONF_NAME].strip() or DEFAULT_NAME,
                    CONF_BASE_TOPIC: base_topic,
                    CONF_SOURCES: sources,
                    CONF_DETECTOR: user_input[CONF_DETECTOR],
                }
                if self._data[CONF_DETECTOR] == DETECTOR_ROBOFLOW:
                    return await self.async_step_roboflow()
                if self._data[CONF_DETECTOR] == DETECTOR_LOCAL:
                    return await self.async_step_local()
                error, placeholders = await async_check_setup(
                    self.hass, sources, self._data[CONF_DETECTOR]
                )
                if error is None:
                    return self._async_create_entry(self._data)
                if error == PIPELINE_MISSING:
                    return await self._async_abort_pipeline_missing()
                errors["base"] = error
        return self._async_show_user_form(user_input, errors, placeholders)

    async def async_step_roboflow(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Ask for the Roboflow model and API key, then test everything."""
        errors: dict[str, str] = {}
        placeholders: dict[str, str] = {}
        if user_input is not None:
            self._roboflow_input = user_input
            model_id = user_input[CONF_MODEL_ID].strip()
            api_key = user_input[CONF_API_KEY].strip()
            error, placeholders = await async_check_setup(
                self.hass, self._data[CONF_SOURCES], DETECTOR_ROBOFLOW, model_id, api_key
            )
            if error is None:
                return self._async_create_entry(
                    {**self._data, CONF_MODEL_ID: model_id, CONF_API_KEY: api_key}
                )
            if error == PIPELINE_MISSING:
                return await self._async_abort_pipeline_missing()
            if error == "cannot_connect":
                # The sources are on the first form: go back there to fix them.
                return self._async_show_user_form(self._user_input, {"base": error}, placeholders)
            errors[_ERROR_FIELDS.get(error, "base")] = error
        return self.async_show_form(
            step_id="roboflow",
            data_schema=self.add_suggested_values_to_schema(ROBOFLOW_SCHEMA, self._roboflow_input),
            errors=errors,
            description_placeholders=placeholders,
        )

    async def async_step_local(self, user_input: dict[str, Any] | None = None) -> ConfigFlowResult:
        """Ask for the folder of your own model package; no API key: it loads offline."""
        errors: dict[str, str] = {}
        placeholders: dict[str, str] = {}
        if user_input is not None:
            self._local_input = user_input
            folder = user_input[CONF_MODEL_ID].strip()
            error, placeholders = await async_check_setup(
                self.hass, self._data[CONF_SOURCES], DETECTOR_LOCAL, folder
            )
            if error is None:
                return self._async_create_entry({**self._data, CONF_MODEL_ID: folder})
            if error == PIPELINE_MISSING:
                return await self._async_abort_pipeline_missing()
            if error == "cannot_connect":
                return self._async_show_user_form(self._user_input, {"base": error}, placeholders)
            errors[_ERROR_FIELDS.get(error, "base")] = error
        return self.async_show_form(
            step_id="local",
            data_schema=self.add_suggested_values_to_schema(LOCAL_SCHEMA, self._local_input),
            errors=errors,
            description_placeholders=placeholders,
        )

    async def async_step_reconfigure(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Change the sources; sources that stay keep their ids (and so their topics)."""
        entry = self._get_reconfigure_entry()
        existing: list[dict[str, Any]] = entry.data[CONF_SOURCES]
        errors: dict[str, str] = {}
        placeholders: dict[str, str] = {}
        if user_input is None and (aborted := await self._async_abort_without_pipeline()):
            return aborted
        if user_input is not None:
            sources = parse_sources(
                user_input[CONF_SOURCES], loop=user_input[CONF_LOOP], existing=existing
            )
            if not sources:
                errors[CONF_SOURCES] = "no_sources"
            else:
                error, placeholders = await async_check_setup(
                    self.hass,
                    sources,
                    entry.data[CONF_DETECTOR],
                    entry.data.get(CONF_MODEL_ID),
                    entry.data.get(CONF_API_KEY),
                )
                if error is None:
                    return self.async_update_reload_and_abort(
                        entry, data_updates={CONF_SOURCES: sources}
                    )
                if error == PIPELINE_MISSING:
                    return await self._async_abort_pipeline_missing()
                errors["base"] = error
        else:
            user_input = {
                CONF_SOURCES: format_sources(existing),
                CONF_LOOP: any(source[SOURCE_LOOP] for source in existing),
            }
        return self.async_show_form(
            step_id="reconfigure",
            data_schema=self.add_suggested_values_to_schema(RECONFIGURE_SCHEMA, user_input),
            errors=errors,
            description_placeholders={CONF_NAME: entry.title, **placeholders},
        )

    async def async_step_reauth(self, entry_data: Mapping[str, Any]) -> ConfigFlowResult:
        """Start re-authentication when Roboflow refuses the API key."""
        return await self.async_step_reauth_confirm()

    async def async_step_reauth_confirm(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Ask for a new API key and test it (the detector only; sources are not read)."""
        entry = self._get_reauth_entry()
        errors: dict[str, str] = {}
        placeholders: dict[str, str] = {}
        if user_input is None and (aborted := await self._async_abort_without_pipeline()):
            return aborted
        if user_input is not None:
            api_key = user_input[CONF_API_KEY].strip()
            error, placeholders = await async_check_setup(
                self.hass, [], entry.data[CONF_DETECTOR], entry.data.get(CONF_MODEL_ID), api_key
            )
            if error is None:
                return self.async_update_reload_and_abort(
                    entry, data_updates={CONF_API_KEY: api_key}
                )
            if error == PIPELINE_MISSING:
                return await self._async_abort_pipeline_missing()
            errors[CONF_API_KEY if error == "invalid_auth" else "base"] = error
        return self.async_show_form(
            step_id="reauth_confirm",
            data_schema=self.add_suggested_values_to_schema(REAUTH_SCHEMA, user_input),
            errors=errors,
            description_placeholders={CONF_NAME: entry.title, **placeholders},
        )

    async def _async_abort_without_pipeline(self) -> ConfigFlowResult | None:
        """Abort when the pipeline's packages are not here (found, not imported); else None."""
        report = await async_hosting_report(self.hass)
        return None if report.installed else await self._async_abort_pipeline_missing(report)

    async def _async_abort_pipeline_missing(
        self, report: HostingReport | None = None
    ) -> ConfigFlowResult:
        """Abort with why the pipeline cannot live here and how to run the worker instead.

        Without a `report`: the packages were found but their import failed (a broken install).
        """
        report = report or await async_hosting_report(self.hass)
        return self.async_abort(
            reason=PIPELINE_MISSING,
            description_placeholders=await async_guidance(self.hass, report),
        )

    @callback
    def _async_show_user_form(
        self,
        user_input: Mapping[str, Any] | None,
        errors: dict[str, str],
        placeholders: dict[str, str],
    ) -> ConfigFlowResult:
        """Show the user form, keeping what was entered."""
        return self.async_show_form(
            step_id="user",
            data_schema=self.add_suggested_values_to_schema(USER_SCHEMA, user_input),
            errors=errors,
            description_placeholders=placeholders,
        )

    @callback
    def _async_create_entry(self, data: dict[str, Any]) -> ConfigFlowResult:
        """Create the entry with default options."""
        return self.async_create_entry(
            title=data[CONF_NAME],
            data=data,
            options={
                CONF_CONFIDENCE: DEFAULT_CONFIDENCE,
                CONF_MAX_FPS: DEFAULT_MAX_FPS,
                CONF_CLASSES: [],
                CONF_DISCOVERY: DEFAULT_DISCOVERY,
            },
        )
