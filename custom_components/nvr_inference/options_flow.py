"""The options flow of nvr_inference: detection, tracking, zones, each camera's own (reloads).

Apart from the config flow because it asks different things of a different object: the
config flow tests cameras and credentials before an entry exists; this flow changes how an
existing entry's detections are filtered, tracked and counted, and tests nothing on the
wire. What both read from text fields is `form_fields.py`.

The steps keep each other consistent before saving: a class filter may not drop a class a
zone counts, and zones need tracking on (a zone counts tracked objects). A camera's own
settings (classes, confidence, rate, motion gating, object filters and masks, required zones;
`engine/config/camera.py`) are stored by source id beside its zones and checked
against them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from typing import Any, Final

from homeassistant.config_entries import ConfigFlowResult, OptionsFlowWithReload
from homeassistant.const import CONF_SOURCE
from homeassistant.core import callback
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
)
import voluptuous as vol

from .const import (
    CONF_CAMERAS,
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
    DEFAULT_DISCOVERY,
    DEFAULT_MAX_FPS,
    SOURCE_ID,
)
from .engine.config.camera import CameraSettings, validate_camera
from .engine.config.filter_text import combine_lines, format_filter_lines, format_mask_lines
from .engine.detect.spec import DetectorSpec, parse_detector
from .engine.errors import EngineError
from .engine.objects.tracking import TrackingError, TrackingOptions
from .engine.objects.zones import (
    ZoneError,
    format_zones,
    parse_zones,
    validate_zones,
    zones_from_dict,
)
from .engine.video.sources import SourceConfig
from .form_fields import detector_name, parse_classes

OPTIONS_SCHEMA: Final = vol.Schema(
    {
        vol.Required(CONF_CONFIDENCE, default=DEFAULT_CONFIDENCE): NumberSelector(
            NumberSelectorConfig(min=0, max=1, step=0.05, mode=NumberSelectorMode.SLIDER)
        ),
        vol.Required(CONF_MAX_FPS, default=DEFAULT_MAX_FPS): NumberSelector(
            NumberSelectorConfig(min=0.5, max=60, step=0.5, mode=NumberSelectorMode.BOX)
        ),
        vol.Optional(CONF_CLASSES): TextSelector(),
        vol.Required(CONF_DISCOVERY, default=DEFAULT_DISCOVERY): BooleanSelector(),
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


GATING_CHOICES: Final = ("default", "on", "off")
CAMERA_SCHEMA: Final = vol.Schema(
    {
        vol.Optional(CONF_CLASSES): TextSelector(),
        vol.Optional(CONF_CONFIDENCE): NumberSelector(
            NumberSelectorConfig(min=0, max=1, step=0.05, mode=NumberSelectorMode.BOX)
        ),
        vol.Optional(CONF_MAX_FPS): NumberSelector(
            NumberSelectorConfig(min=0, max=60, step=0.5, mode=NumberSelectorMode.BOX)
        ),
        vol.Required(CONF_MOTION_GATING, default="default"): SelectSelector(
            SelectSelectorConfig(options=list(GATING_CHOICES), translation_key="gating")
        ),
        vol.Optional("filters"): TextSelector(TextSelectorConfig(multiline=True)),
        vol.Optional("masks"): TextSelector(TextSelectorConfig(multiline=True)),
        vol.Optional("required_zones"): TextSelector(),
    }
)


class NvrInferenceOptionsFlow(OptionsFlowWithReload):
    """Options in three parts: detection, tracking and events, zones (saving reloads)."""

    def __init__(self) -> None:
        """Start with no source chosen for the zones step."""
        self._zone_source: int | None = None

    async def async_step_init(self, user_input: dict[str, Any] | None = None) -> ConfigFlowResult:
        """Choose what to change."""
        return self.async_show_menu(
            step_id="init", menu_options=["detection", "tracking", "zones", "cameras"]
        )

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
            CONF_DISCOVERY: options.get(CONF_DISCOVERY, DEFAULT_DISCOVERY),
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
        return await self._async_choose("zones", user_input)

    async def async_step_cameras(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Choose the camera whose own settings to change (skipped with one camera)."""
        return await self._async_choose("cameras", user_input)

    async def _async_choose(
        self, step_id: str, user_input: dict[str, Any] | None
    ) -> ConfigFlowResult:
        sources = self.config_entry.data[CONF_SOURCES]
        if user_input is not None or len(sources) == 1:
            chosen = user_input[CONF_SOURCE] if user_input else sources[0][SOURCE_ID]
            self._zone_source = int(chosen)
            if step_id == "cameras":
                return await self.async_step_camera_source()
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
        return self.async_show_form(step_id=step_id, data_schema=schema)

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
                validate_zones(zones, self._camera_spec(sid).reported_classes)
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

    async def async_step_camera_source(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """One camera's own settings over the entry's, checked with its zones before saving."""
        assert self._zone_source is not None
        sid = self._zone_source
        options = self.config_entry.options
        stored: dict[str, Any] = dict(options.get(CONF_CAMERAS) or {})
        errors: dict[str, str] = {}
        name = self._source_name(sid)
        placeholders = {CONF_SOURCE: name, "error": ""}
        if user_input is not None:
            try:
                camera = camera_from_form(user_input, name)
                zones = zones_from_dict((options.get(CONF_ZONES) or {}).get(str(sid)))
                validate_camera(camera, self._entry_spec(), zones, name)
            except EngineError as err:
                errors["base"], placeholders["error"] = "invalid_camera", str(err)
            else:
                if camera:
                    stored[str(sid)] = camera.as_dict()
                else:
                    stored.pop(str(sid), None)
                return self._async_save({CONF_CAMERAS: stored})
        current = CameraSettings.from_mapping(stored.get(str(sid)) or {}, name)
        suggested = user_input or camera_form(current)
        return self.async_show_form(
            step_id="camera_source",
            data_schema=self.add_suggested_values_to_schema(CAMERA_SCHEMA, suggested),
            errors=errors,
            description_placeholders=placeholders,
        )

    def _entry_spec(self, classes: Sequence[str] | None = None) -> DetectorSpec:
        """Return the entry's detector (with `classes` as the filter, if given)."""
        data, options = self.config_entry.data, self.config_entry.options
        name = detector_name(data[CONF_DETECTOR], data.get(CONF_MODEL_ID))
        wanted = options.get(CONF_CLASSES, []) if classes is None else classes
        return parse_detector(name, classes=wanted)

    def _camera_spec(self, sid: int) -> DetectorSpec:
        """Return one camera's detector: the entry's with the camera's own classes."""
        own = (self.config_entry.options.get(CONF_CAMERAS) or {}).get(str(sid)) or {}
        camera = CameraSettings.from_mapping(own, self._source_name(sid))
        return camera.detector_spec(self._entry_spec())

    def _source_name(self, source_id: int) -> str:
        for source in self.config_entry.data[CONF_SOURCES]:
            if source[SOURCE_ID] == source_id:
                return SourceConfig.from_dict(source).display_name
        return str(source_id)

    def _zones_against(self, classes: Sequence[str]) -> str | None:
        """Why a class filter cannot go with the zones drawn (or a camera's own), or None."""
        options = self.config_entry.options
        cameras = options.get(CONF_CAMERAS) or {}
        for sid, drawn in (options.get(CONF_ZONES) or {}).items():
            name = self._source_name(int(sid))
            camera = CameraSettings.from_mapping(cameras.get(sid) or {}, name)
            try:
                validate_camera(camera, self._entry_spec(classes), zones_from_dict(drawn), name)
            except EngineError as err:
                return str(err)
        return None


def camera_from_form(form: dict[str, Any], name: str) -> CameraSettings:
    """Read the camera step's fields (empty ones keep the entry's values)."""
    gating = form.get(CONF_MOTION_GATING, "default")
    written: dict[str, Any] = {
        "classes": parse_classes(form.get(CONF_CLASSES, "")) or None,
        "confidence": form.get(CONF_CONFIDENCE),
        "max_fps": form.get(CONF_MAX_FPS),
        "motion_gating": None if gating == "default" else gating == "on",
        "required_zones": form.get("required_zones") or None,
    }
    filters = combine_lines(form.get("filters", ""), form.get("masks", ""), name)
    return replace(CameraSettings.from_mapping(written, name), filters=filters)


def camera_form(camera: CameraSettings) -> dict[str, Any]:
    """Return the camera step's fields for what is stored (the form's suggested values)."""
    form: dict[str, Any] = {
        CONF_CLASSES: ", ".join(sorted(camera.classes or ())),
        CONF_MOTION_GATING: {None: "default", True: "on", False: "off"}[camera.motion_gating],
        "filters": format_filter_lines(camera.filters),
        "masks": format_mask_lines(camera.filters),
        "required_zones": ", ".join(camera.required_zones),
    }
    if camera.confidence is not None:
        form[CONF_CONFIDENCE] = camera.confidence
    if camera.max_fps is not None:
        form[CONF_MAX_FPS] = camera.max_fps
    return form


def tracking_options(tracking: TrackingOptions) -> dict[str, Any]:
    """Return the tracking settings the options flow stores (its form's fields)."""
    return {key: getattr(tracking, key) for key in TRACKING_FIELDS}
