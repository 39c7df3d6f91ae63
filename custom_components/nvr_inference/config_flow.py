"""Config flow for nvr_inference: user, roboflow, local, reconfigure, reauth and options.

First, before any form: can the pipeline live in this Home Assistant at all? Where its
packages are missing (Home Assistant 2026.3+ on Python 3.14, musl) the flow aborts with
`pipeline_missing`, saying why and how to run the standalone worker instead; asking for
cameras first and refusing them after would only loop.

Every step that changes sources or credentials tests them before saving: the engine's
`check_setup` (blocking, so in the executor) imports the pipeline, builds the detector and
reads one frame of every source. Its errors become form errors the user can act on, except
a pipeline that is found but cannot be imported: that aborts the same way.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Final

from homeassistant.config_entries import (
    ConfigEntry,
    ConfigFlow,
    ConfigFlowResult,
    OptionsFlowWithReload,
)
from homeassistant.const import CONF_API_KEY, CONF_NAME, CONF_SOURCE
from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers.selector import (
    BooleanSelector,
    NumberSelector,
    NumberSelectorConfig,
    NumberSelectorMode,
    SelectOptionDict,
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
    CONF_MOTION_GATING,
    CONF_SOURCES,
    CONF_TRACKING,
    CONF_ZONES,
    DEFAULT_BASE_TOPIC,
    DEFAULT_CONFIDENCE,
    DEFAULT_MAX_FPS,
    DETECTOR_LOCAL,
    DETECTOR_MOTION,
    DETECTOR_ROBOFLOW,
    DETECTORS,
    DOMAIN,
    LOGGER,
    PROBE_TIMEOUT,
    SOURCE_ID,
    SOURCE_LOOP,
    SOURCE_NAME,
    SOURCE_REFERENCE,
)
from .engine.detect.spec import ROBOFLOW_PREFIX, parse_detector
from .engine.errors import (
    DetectorError,
    FullProfileRequiredError,
    InvalidApiKeyError,
    LocalModelError,
    ModelNotFoundError,
    PipelineMissingError,
    SourceUnavailableError,
)
from .engine.contract.host import HostInfo, HostKind
from .engine.video.hosting import HostingReport
from .engine.detect.local_model import LOCAL_PREFIX
from .engine.video.probe import check_setup
from .engine.video.sources import SourceConfig, redact_url
from .engine.objects.tracking import TrackingError, TrackingOptions
from .engine.objects.zones import ZoneError, format_zones, parse_zones, validate_zones, zones_from_dict
from .hass_mqtt import async_check_base_topic
from .worker_handoff import async_guidance, async_hosting_report

CONF_LOOP: Final = "loop"
PIPELINE_MISSING: Final = "pipeline_missing"
"""Abort reason (not a form error): nothing the user enters here can fix it."""
DEFAULT_NAME: Final = "NVR"
NEW_ENTRY_HOST: Final = HostInfo("ha:new-entry", HostKind.INTEGRATION, "new entry")
"""Who a new entry would be: any live host already on the base topic is another one."""

INSTALL_HINT: Final = (
    "Install the pipeline packages into Home Assistant's Python (README, 'Embedded mode') "
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
OPTIONS_SCHEMA: Final = vol.Schema(
    {
        vol.Required(CONF_CONFIDENCE, default=DEFAULT_CONFIDENCE): NumberSelector(
            NumberSelectorConfig(min=0, max=1, step=0.05, mode=NumberSelectorMode.SLIDER)
        ),
        vol.Required(CONF_MAX_FPS, default=DEFAULT_MAX_FPS): NumberSelector(
            NumberSelectorConfig(min=0.5, max=60, step=0.5, mode=NumberSelectorMode.BOX)
        ),
        vol.Optional(CONF_CLASSES): TextSelector(),
        vol.Required(CONF_DISCOVERY, default=True): BooleanSelector(),
        vol.Required(CONF_MOTION_GATING, default=True): BooleanSelector(),
    }
)

TRACKING_FIELDS: Final = (
    "enabled",
    "min_frames",
    "end_after",
    "activation_threshold",
    "lost_track_buffer",
    "matching_threshold",
)
TRACKING_SCHEMA: Final = vol.Schema(
    {
        vol.Required("enabled"): BooleanSelector(),
        vol.Required("min_frames"): NumberSelector(
            NumberSelectorConfig(min=1, max=100, step=1, mode=NumberSelectorMode.BOX)
        ),
        vol.Required("end_after"): NumberSelector(
            NumberSelectorConfig(
                min=0.5, max=600, step=0.5, mode=NumberSelectorMode.BOX, unit_of_measurement="s"
            )
        ),
        vol.Required("activation_threshold"): NumberSelector(
            NumberSelectorConfig(min=0.05, max=1, step=0.05, mode=NumberSelectorMode.SLIDER)
        ),
        vol.Required("lost_track_buffer"): NumberSelector(
            NumberSelectorConfig(min=1, max=600, step=1, mode=NumberSelectorMode.BOX)
        ),
        vol.Required("matching_threshold"): NumberSelector(
            NumberSelectorConfig(min=0.05, max=0.95, step=0.05, mode=NumberSelectorMode.SLIDER)
        ),
    }
)
ZONES_SCHEMA: Final = vol.Schema(
    {vol.Optional(CONF_ZONES): TextSelector(TextSelectorConfig(multiline=True))}
)

# Probe errors that belong to one field of the roboflow, local and reauth forms.
_ERROR_FIELDS: Final = {
    "invalid_auth": CONF_API_KEY,
    "model_not_found": CONF_MODEL_ID,
    "invalid_local_model": CONF_MODEL_ID,
}
_PREFIXES: Final = {DETECTOR_ROBOFLOW: ROBOFLOW_PREFIX, DETECTOR_LOCAL: LOCAL_PREFIX}


def _split_line(line: str) -> tuple[str | None, str]:
    """Split `Name = reference` into its parts; a bare reference has no name.

    The `=` only names a source when what is before it cannot be part of a reference (no
    scheme, no path separator), so URLs with query strings and paths with `=` stay whole.
    """
    name, sep, reference = (part.strip() for part in line.partition("="))
    if sep and name and reference and not any(mark in name for mark in ("://", "/", "\\")):
        return name, reference
    return None, line


def parse_sources(
    text: str, *, loop: bool, existing: Sequence[Mapping[str, Any]] = ()
) -> list[dict[str, Any]]:
    """Parse one source per line into source dicts, keeping the ids of `existing` sources.

    A line that matches an existing source by name and reference, or else by reference only,
    keeps that source's id; other lines get new ids after the highest existing one.
    """
    lines = [
        _split_line(stripped)
        for raw in text.splitlines()
        if (stripped := raw.strip()) and not stripped.startswith("#")
    ]
    ids: list[int | None] = [None] * len(lines)
    unused = list(existing)
    # Name and reference first, then reference only, then name and the same URL with other
    # credentials (a changed password keeps the camera's id). The form shows a saved URL
    # without its password; that form, unchanged, means "keep the saved one".
    for match_name, any_credentials in ((True, False), (False, False), (True, True)):
        for index, (name, reference) in enumerate(lines):
            if ids[index] is not None:
                continue
            for source in unused:
                stored = str(source[SOURCE_REFERENCE])
                same = reference in (stored, redact_url(stored)) or (
                    any_credentials and redact_url(reference) == redact_url(stored)
                )
                if same and (not match_name or source[SOURCE_NAME] == name):
                    ids[index] = source[SOURCE_ID]
                    if reference == redact_url(stored):
                        lines[index] = (name, stored)
                    unused.remove(source)
                    break
    next_id = max((int(source[SOURCE_ID]) for source in existing), default=-1) + 1
    sources = []
    for (name, reference), known_id in zip(lines, ids, strict=True):
        if known_id is None:
            source_id, next_id = next_id, next_id + 1
        else:
            source_id = known_id
        sources.append(
            {
                SOURCE_ID: source_id,
                SOURCE_REFERENCE: reference,
                SOURCE_NAME: name,
                SOURCE_LOOP: loop,
            }
        )
    return sources


def format_sources(sources: Sequence[Mapping[str, Any]]) -> str:
    """Write source dicts back as the lines `parse_sources` reads, passwords left out.

    A saved RTSP password is never sent back to the browser: the line shows `***@host`, and
    `parse_sources` reads an unchanged line as "keep the saved URL".
    """
    lines = []
    for source in sources:
        reference = redact_url(str(source[SOURCE_REFERENCE]))
        lines.append(f"{source[SOURCE_NAME]} = {reference}" if source[SOURCE_NAME] else reference)
    return "\n".join(lines)


def valid_topic(topic: str) -> bool:
    """Return True for an MQTT topic fit to publish under (no wildcards, no edge slashes)."""
    return (
        bool(topic)
        and not any(char in "+#\0" or char.isspace() for char in topic)
        and not topic.startswith("/")
        and not topic.endswith("/")
    )


def parse_classes(text: str) -> list[str]:
    """Split comma-separated class names, dropping blanks and repeats."""
    return list(dict.fromkeys(name for part in text.split(",") if (name := part.strip())))


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
        prefix = _PREFIXES.get(detector)
        spec = parse_detector(f"{prefix}{model_id}" if prefix else detector)
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
                foreign = await async_check_base_topic(self.hass, base_topic, NEW_ENTRY_HOST)
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
                CONF_DISCOVERY: True,
            },
        )


class NvrInferenceOptionsFlow(OptionsFlowWithReload):
    """Options in three parts: detection, tracking and events, zones (saving reloads)."""

    def __init__(self) -> None:
        """Start with no source chosen for the zones step."""
        self._zone_source: int | None = None

    async def async_step_init(self, user_input: dict[str, Any] | None = None) -> ConfigFlowResult:
        """Choose what to change."""
        return self.async_show_menu(step_id="init", menu_options=["detection", "tracking", "zones"])

    @callback
    def _async_save(self, changes: dict[str, Any]) -> ConfigFlowResult:
        """Save the options with `changes` (the entry reloads)."""
        return self.async_create_entry(data={**self.config_entry.options, **changes})

    async def async_step_detection(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Confidence, rate, class filter and MQTT discovery."""
        options = self.config_entry.options
        errors: dict[str, str] = {}
        placeholders: dict[str, str] = {}
        if user_input is not None:
            classes = parse_classes(user_input.get(CONF_CLASSES, ""))
            error = self._zones_against(classes)
            if error is None:
                return self._async_save(
                    {
                        CONF_CONFIDENCE: float(user_input[CONF_CONFIDENCE]),
                        CONF_MAX_FPS: float(user_input[CONF_MAX_FPS]),
                        CONF_CLASSES: classes,
                        CONF_DISCOVERY: user_input[CONF_DISCOVERY],
                        CONF_MOTION_GATING: user_input[CONF_MOTION_GATING],
                    }
                )
            errors[CONF_CLASSES], placeholders["error"] = "classes_used_by_zones", error
        suggested = user_input or {
            CONF_CONFIDENCE: options.get(CONF_CONFIDENCE, DEFAULT_CONFIDENCE),
            CONF_MAX_FPS: options.get(CONF_MAX_FPS, DEFAULT_MAX_FPS),
            CONF_CLASSES: ", ".join(options.get(CONF_CLASSES, [])),
            CONF_DISCOVERY: options.get(CONF_DISCOVERY, True),
            CONF_MOTION_GATING: options.get(CONF_MOTION_GATING, True),
        }
        return self.async_show_form(
            step_id="detection",
            data_schema=self.add_suggested_values_to_schema(OPTIONS_SCHEMA, suggested),
            errors=errors,
            description_placeholders=placeholders,
        )

    async def async_step_tracking(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Object tracking and when tracked objects become events."""
        errors: dict[str, str] = {}
        placeholders: dict[str, str] = {}
        stored = self.config_entry.options.get(CONF_TRACKING) or {}
        if user_input is not None:
            try:
                tracking = TrackingOptions.from_mapping(user_input)
            except TrackingError as err:
                errors["base"], placeholders["error"] = "invalid_tracking", str(err)
            else:
                if not tracking.enabled and self.config_entry.options.get(CONF_ZONES):
                    errors["base"] = "zones_need_tracking"
                else:
                    return self._async_save({CONF_TRACKING: tracking_options(tracking)})
        suggested = user_input or tracking_options(TrackingOptions.from_mapping(stored))
        return self.async_show_form(
            step_id="tracking",
            data_schema=self.add_suggested_values_to_schema(TRACKING_SCHEMA, suggested),
            errors=errors,
            description_placeholders=placeholders,
        )

    async def async_step_zones(self, user_input: dict[str, Any] | None = None) -> ConfigFlowResult:
        """Choose the camera whose zones to draw (skipped with one camera)."""
        sources = self.config_entry.data[CONF_SOURCES]
        if user_input is not None or len(sources) == 1:
            chosen = user_input[CONF_SOURCE] if user_input else sources[0][SOURCE_ID]
            self._zone_source = int(chosen)
            return await self.async_step_zones_source()
        names = [
            SelectOptionDict(value=str(s[SOURCE_ID]), label=SourceConfig.from_dict(s).display_name)
            for s in sources
        ]
        schema = vol.Schema(
            {
                vol.Required(CONF_SOURCE): SelectSelector(
                    SelectSelectorConfig(options=names, mode=SelectSelectorMode.DROPDOWN)
                )
            }
        )
        return self.async_show_form(step_id="zones", data_schema=schema)

    async def async_step_zones_source(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """One camera's zones and lines, one per line, checked before they are saved."""
        assert self._zone_source is not None
        sid = self._zone_source
        options = self.config_entry.options
        stored: dict[str, Any] = dict(options.get(CONF_ZONES) or {})
        errors: dict[str, str] = {}
        placeholders = {CONF_SOURCE: self._source_name(sid), "error": ""}
        if user_input is not None:
            text = user_input.get(CONF_ZONES, "")
            try:
                zones = parse_zones(text)
                validate_zones(zones, self._classes())
            except ZoneError as err:
                errors[CONF_ZONES], placeholders["error"] = "invalid_zones", str(err)
            else:
                tracking = TrackingOptions.from_mapping(options.get(CONF_TRACKING) or {})
                if zones and not tracking.enabled:
                    errors["base"] = "zones_need_tracking"
                else:
                    if zones:
                        stored[str(sid)] = zones.as_dict()
                    else:
                        stored.pop(str(sid), None)
                    return self._async_save({CONF_ZONES: stored})
        current = zones_from_dict(stored.get(str(sid)))
        suggested = user_input or {CONF_ZONES: format_zones(current)}
        return self.async_show_form(
            step_id="zones_source",
            data_schema=self.add_suggested_values_to_schema(ZONES_SCHEMA, suggested),
            errors=errors,
            description_placeholders=placeholders,
        )

    def _source_name(self, source_id: int) -> str:
        for source in self.config_entry.data[CONF_SOURCES]:
            if source[SOURCE_ID] == source_id:
                return SourceConfig.from_dict(source).display_name
        return str(source_id)

    def _classes(self, classes: Sequence[str] | None = None) -> tuple[str, ...]:
        """Return the classes the entry's detector reports (with `classes` as the filter)."""
        data = self.config_entry.data
        name = data[CONF_DETECTOR]
        if name in _PREFIXES:
            name = f"{_PREFIXES[name]}{data[CONF_MODEL_ID]}"
        wanted = self.config_entry.options.get(CONF_CLASSES, []) if classes is None else classes
        return parse_detector(name, classes=wanted).reported_classes

    def _zones_against(self, classes: Sequence[str]) -> str | None:
        """Why a class filter cannot go with the zones drawn, or None."""
        for sid, drawn in (self.config_entry.options.get(CONF_ZONES) or {}).items():
            try:
                validate_zones(zones_from_dict(drawn), self._classes(classes))
            except ZoneError as err:
                return f"{self._source_name(int(sid))}: {err}"
        return None


def tracking_options(tracking: TrackingOptions) -> dict[str, Any]:
    """Return the tracking settings the options flow stores (its form's fields)."""
    return {key: getattr(tracking, key) for key in TRACKING_FIELDS}
