"""The worker's configuration: flags over the config file over defaults, validated to settings.

`resolve_config` takes the flag values as a plain mapping (the command line hands over its
parsed arguments; a test or another front end may write one by hand), reads the config file
and the secrets, and returns the `WorkerSettings` the worker runs on, or raises `ConfigError`
with one line a person can act on. The written forms themselves (keys, source text, zones,
each value's type) are `grammar`'s; nothing here knows argparse.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
import socket
from typing import Any

from ..detect.spec import DetectorSpec, parse_detector
from ..objects.tracking import TrackingError, TrackingOptions
from ..objects.zones import LineConfig, SourceZones, ZoneError, parse_zone_line
from ..video.sources import SourceConfig
from .camera import (
    DEFAULT_MAX_FPS,
    CameraSettings,
    CameraSettingsError,
    validate_camera,
)
from .grammar import (
    API_KEY_ENV,
    LOG_LEVELS,
    PASSWORD_ENV,
    TLS_VERSIONS,
    ConfigError,
    as_bool,
    as_float,
    as_int,
    as_str,
    build_sources_with_zones,
    load_config_file,
    read_secret,
    validate_topic,
    zones_of,
)
from .worker_settings import MqttSettings, WorkerSettings

Options = Mapping[str, Any]
"""Flag values by key (`mqtt_host`, `sources`, ...); None or absent: not given."""


@dataclass(frozen=True, slots=True)
class CliConfig:
    """What the worker command resolved: settings for `Worker`, and how to log."""

    settings: WorkerSettings
    log_level: str
    remove: bool


Pick = Callable[..., Any]


def _existing_file(value: Any, key: str, what: str) -> str | None:
    """Return a configured path as a string if the file exists; None when not configured."""
    if value is None or value == "":
        return None
    path = as_str(value, key)
    if not Path(path).expanduser().is_file():
        raise ConfigError(f"the {what} file {path} ({key}) does not exist")
    return str(Path(path).expanduser())


def _mqtt_settings(pick: Pick, env: Mapping[str, str]) -> MqttSettings:
    tls_ca = _existing_file(pick("tls_ca"), "tls_ca", "TLS CA")
    tls_cert = _existing_file(pick("tls_cert"), "tls_cert", "TLS client certificate")
    tls_key = _existing_file(pick("tls_key"), "tls_key", "TLS client key")
    if tls_key and not tls_cert:
        raise ConfigError("tls_key needs tls_cert: the client certificate it belongs to")
    tls_min_version = pick("tls_min_version")
    if tls_min_version is not None:
        tls_min_version = as_str(tls_min_version, "tls_min_version")
        if tls_min_version not in TLS_VERSIONS:
            raise ConfigError(
                f"tls_min_version must be one of {', '.join(TLS_VERSIONS)}, got {tls_min_version!r}"
            )
    tls_insecure = as_bool(pick("tls_insecure", False), "tls_insecure")
    tls = (
        as_bool(pick("tls", False), "tls")
        or bool(tls_ca or tls_cert or tls_min_version)
        or tls_insecure
    )
    port = as_int(pick("mqtt_port", 8883 if tls else 1883), "mqtt_port")
    if not 0 < port < 65536:
        raise ConfigError(f"mqtt_port must be between 1 and 65535, got {port}")
    username = pick("mqtt_username")
    password_file = pick("mqtt_password_file")
    password = (
        read_secret(str(password_file), "MQTT password")
        if password_file
        else env.get(PASSWORD_ENV) or None
    )
    if password and not username:
        raise ConfigError("an MQTT password needs a user name (--mqtt-username)")
    return MqttSettings(
        host=as_str(pick("mqtt_host", "127.0.0.1"), "mqtt_host"),
        port=port,
        username=as_str(username, "mqtt_username") if username is not None else None,
        password=password,
        tls=tls,
        tls_ca=tls_ca,
        tls_insecure=tls_insecure,
        tls_cert=tls_cert,
        tls_key=tls_key,
        tls_min_version=tls_min_version,
    )


def _detector(pick: Pick, env: Mapping[str, str]) -> tuple[DetectorSpec, str | None]:
    detector_name = pick("detector")
    if detector_name is None:
        raise ConfigError(
            "no detector: give --detector motion, face, person, roboflow:<model_id> or "
            "local:<folder>"
        )
    classes = pick("classes", [])
    if isinstance(classes, str):
        classes = [c for c in classes.split(",") if c.strip()]
    if not isinstance(classes, list):
        raise ConfigError(f"classes must be a comma-separated string or a list, got {classes!r}")
    spec = parse_detector(
        as_str(detector_name, "detector"),
        confidence=as_float(pick("confidence", 0.5), "confidence"),
        classes=[str(c) for c in classes],
        motion_gating=as_bool(pick("motion_gating", True), "motion_gating"),
        full_frame_interval=as_float(pick("full_frame_interval", 10.0), "full_frame_interval"),
    )
    if not spec.needs_api_key:
        return spec, None
    key_file = pick("api_key_file")
    api_key = read_secret(str(key_file), "API key") if key_file else env.get(API_KEY_ENV)
    if not api_key:
        raise ConfigError(
            f"a Roboflow model needs an API key: set ${API_KEY_ENV} or --api-key-file"
        )
    return spec, api_key


def _sources(pick: Pick) -> tuple[tuple[SourceConfig, ...], dict[int, Any]]:
    raw_sources = pick("sources", [])
    if isinstance(raw_sources, str | int | dict):
        raw_sources = [raw_sources]
    if not isinstance(raw_sources, list) or not raw_sources:
        raise ConfigError("no source: give at least one --source (or sources: in --config)")
    return build_sources_with_zones(raw_sources, as_bool(pick("loop", False), "loop"))


_TRACKING_FLAGS = {
    "event_min_frames": "min_frames",
    "event_end_after": "end_after",
    "tracker_activation": "activation_threshold",
    "tracker_lost_buffer": "lost_track_buffer",
    "tracker_matching": "matching_threshold",
}


def _tracking(options: Options, file_config: Mapping[str, Any]) -> TrackingOptions:
    """`tracking:` from the YAML, each flag over it."""
    written = file_config.get("tracking") or {}
    if not isinstance(written, dict):
        raise ConfigError("tracking must be a mapping (enabled, min_frames, end_after, ...)")
    values = dict(written)
    if options.get("tracking") is not None:
        values["enabled"] = options["tracking"]
    for flag, key in _TRACKING_FLAGS.items():
        if options.get(flag) is not None:
            values[key] = options[flag]
    return TrackingOptions.from_mapping(values)


def _zones(
    options: Options,
    sources: tuple[SourceConfig, ...],
    written: Mapping[int, Any],
    spec: DetectorSpec,
    tracking: TrackingOptions,
) -> dict[int, SourceZones]:
    """Every source's zones (YAML per source, then --zone flags), validated."""
    by_id = {s.source_id: s for s in sources}
    by_name = {s.name.lower(): s for s in sources if s.name}
    zones: dict[int, SourceZones] = {}
    for sid, drawn in written.items():
        if own := zones_of(drawn, f"source {by_id[sid].display_name}"):
            zones[sid] = own
    for text in options.get("zones") or []:
        target, sep, definition = text.partition("=")
        source = by_name.get(target.strip().lower()) or (
            by_id.get(int(target)) if target.strip().isdigit() else None
        )
        if not sep or source is None:
            raise ConfigError(
                f"--zone {text!r}: start with a source id or name and '=', e.g. "
                "'Porch=driveway: 0.1,0.6 0.5,0.6 0.5,1 0.1,1'"
            )
        parsed = parse_zone_line(definition)
        current = zones.get(source.source_id, SourceZones())
        if isinstance(parsed, LineConfig):
            zones[source.source_id] = SourceZones(current.zones, (*current.lines, parsed))
        else:
            zones[source.source_id] = SourceZones((*current.zones, parsed), current.lines)
    if zones and not tracking.enabled:
        raise ConfigError("zones and lines need tracking: drop --no-tracking")
    return zones


def _cameras(
    sources: tuple[SourceConfig, ...],
    written: Mapping[int, Any],
    spec: DetectorSpec,
    zones: Mapping[int, SourceZones],
) -> dict[int, CameraSettings]:
    """Every source's own settings (YAML, beside its zones), checked with its zones."""
    cameras: dict[int, CameraSettings] = {}
    for source in sources:
        sid, where = source.source_id, f"source {source.display_name}"
        camera = CameraSettings.from_mapping(written.get(sid) or {}, where)
        validate_camera(camera, spec, zones.get(sid, SourceZones()), where)
        if camera:
            cameras[sid] = camera
    return cameras


def resolve_config(options: Options, env: Mapping[str, str]) -> CliConfig:
    """Merge flags over the config file over defaults; read secrets; validate everything.

    `options`: the flag values by their keys (`config`, `remove`, `mqtt_host`, `sources`,
    `zones`, ...; None or absent: not given), e.g. `vars()` of the parsed command line. `env`:
    where `$NVR_MQTT_PASSWORD` and `$ROBOFLOW_API_KEY` are looked up.
    """
    config_path = options.get("config")
    file_config = load_config_file(config_path) if config_path else {}

    def pick(key: str, default: Any = None) -> Any:
        value = options.get(key)
        if value is None:
            value = file_config.get(key)
        return default if value is None else value

    mqtt = _mqtt_settings(pick, env)
    name = as_str(pick("name", socket.gethostname()), "name").strip()
    if not name:
        raise ConfigError("name must not be empty")
    base_topic = validate_topic(as_str(pick("base_topic", "nvr"), "base_topic"), "base_topic")
    prefix = validate_topic(
        as_str(pick("discovery_prefix", "homeassistant"), "discovery_prefix"), "discovery_prefix"
    )
    log_level = as_str(pick("log_level", "info"), "log_level").lower()
    if log_level not in LOG_LEVELS:
        raise ConfigError(f"log_level must be one of {', '.join(LOG_LEVELS)}, got {log_level!r}")
    if options.get("remove"):
        settings = WorkerSettings(
            name=name, mqtt=mqtt, base_topic=base_topic, discovery_prefix=prefix
        )
        return CliConfig(settings, log_level, remove=True)
    sources, drawn = _sources(pick)
    spec, api_key = _detector(pick, env)
    try:
        tracking = _tracking(options, file_config)
        zones = _zones(options, sources, drawn, spec, tracking)
        cameras = _cameras(sources, drawn, spec, zones)
    except (TrackingError, ZoneError, CameraSettingsError) as err:
        raise ConfigError(str(err)) from None
    max_fps = as_float(pick("max_fps", DEFAULT_MAX_FPS), "max_fps")
    if max_fps < 0:
        raise ConfigError(f"max_fps must be >= 0, got {max_fps:g}")
    state_file = pick("state_file")
    settings = WorkerSettings(
        name=name,
        mqtt=mqtt,
        base_topic=base_topic,
        discovery_prefix=prefix,
        sources=sources,
        detector=spec,
        api_key=api_key,
        max_fps=max_fps or None,
        state_file=Path(as_str(state_file, "state_file")).expanduser() if state_file else None,
        tracking=tracking,
        zones=zones,
        cameras=cameras,
    )
    return CliConfig(settings, log_level, remove=False)
