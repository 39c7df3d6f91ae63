"""`nvr-inference`: the standalone worker and the sample video, from the command line.

    nvr-inference worker --mqtt-host broker.lan --source "Porch=rtsp://..." --detector face
    nvr-inference worker --config /etc/nvr-inference.yaml
    nvr-inference worker --source /dev/video0 --detector local:/srv/models/my-yolov8  # offline
    nvr-inference worker --remove --name porch-pi           # clear its discovery config
    nvr-inference sample-video /tmp/sample.avi --frames 260
    nvr-inference sample-video /tmp/person.avi --scene person --photo astronaut.png

Secrets never go on the command line (anything there shows up in `ps`): the MQTT password comes
from `NVR_MQTT_PASSWORD` or `--mqtt-password-file`, a Roboflow API key from `ROBOFLOW_API_KEY`
or `--api-key-file`. They are kept out of every log line and payload.

Exit codes: 0 done (also after SIGTERM/SIGINT), 2 something to fix in the configuration (a
source that cannot be read, an unknown detector, a missing pipeline, a bad flag), 3 the broker
cannot be reached or refused us. Each failure is one line on stderr, no traceback.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
import gc
import logging
import os
from pathlib import Path
import re
import signal
import socket
import sys
import threading
from types import FrameType
from typing import Any, NoReturn

from ..detect.spec import DetectorSpec, parse_detector
from ..errors import EngineError
from ..video.sources import SourceConfig, redact_text
from ..objects.tracking import TrackingError, TrackingOptions
from .service import MqttSettings, WorkerSettings
from ..objects.zones import (
    LineConfig,
    SourceZones,
    ZoneConfig,
    ZoneError,
    parse_zone_line,
    validate_zones,
    zones_from_dict,
)

_LOGGER = logging.getLogger(__name__)

PASSWORD_ENV = "NVR_MQTT_PASSWORD"
API_KEY_ENV = "ROBOFLOW_API_KEY"
EXIT_CONFIG = 2
EXIT_BROKER = 3
LOG_LEVELS = ("debug", "info", "warning", "error")


class ConfigError(Exception):
    """A flag, the config file or a secret file is wrong; the message says how."""


# -- argument parsing -----------------------------------------------------------------------------


class _Parser(argparse.ArgumentParser):
    """argparse, but a usage error is one line on stderr (exit 2), like every other error."""

    def error(self, message: str) -> NoReturn:
        """Print one line and exit 2."""
        self.exit(EXIT_CONFIG, f"{self.prog}: error: {message} (see --help)\n")


def build_parser() -> argparse.ArgumentParser:
    """Return the `nvr-inference` argument parser."""
    parser = _Parser(
        prog="nvr-inference",
        allow_abbrev=False,
        description="Object detection on camera streams, detections on MQTT, a pause you can "
        "trust.",
    )
    commands = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)

    worker = commands.add_parser(
        "worker",
        allow_abbrev=False,  # or `--mqtt-password x` would pass for --mqtt-password-file
        help="run the standalone worker (MQTT client, same contract as the integration)",
        description="Run sources through a detector and publish detections on MQTT; pause and "
        "resume through <base>/control/commands or the discovered Home Assistant switches. "
        f"The MQTT password comes from ${PASSWORD_ENV} or --mqtt-password-file, a Roboflow "
        f"API key from ${API_KEY_ENV} or --api-key-file. Flags override --config.",
    )
    mqtt = worker.add_argument_group("MQTT")
    mqtt.add_argument("--mqtt-host", help="broker host (default 127.0.0.1)")
    mqtt.add_argument("--mqtt-port", type=int, help="broker port (default 1883, 8883 with TLS)")
    mqtt.add_argument("--mqtt-username", help="user name")
    mqtt.add_argument(
        "--mqtt-password-file",
        help=f"file holding the password (or set ${PASSWORD_ENV}); never a flag value",
    )
    mqtt.add_argument("--tls", action=argparse.BooleanOptionalAction, default=None, help="TLS")
    mqtt.add_argument("--tls-ca", help="CA certificate file (implies --tls)")
    mqtt.add_argument(
        "--tls-insecure",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="do not verify the broker's certificate (implies --tls)",
    )
    mqtt.add_argument("--base-topic", help="topic prefix (default nvr)")
    mqtt.add_argument("--discovery-prefix", help="Home Assistant discovery (default homeassistant)")
    mqtt.add_argument(
        "--name",
        help="this worker's name (default: the host name): discovery node nvr_worker_<name>, "
        "device name, client id",
    )

    detect = worker.add_argument_group("sources and detector")
    detect.add_argument(
        "--source",
        action="append",
        dest="sources",
        metavar="[ID:][NAME=]REFERENCE",
        help="a file, rtsp:// or http(s):// URL, or device number; repeat for more sources "
        "(ids 0, 1, ... in order unless given)",
    )
    detect.add_argument(
        "--loop",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="replay file sources forever, like cameras",
    )
    detect.add_argument(
        "--detector",
        help="motion, face, person (offline built-ins), roboflow:<model_id> (needs an API "
        "key), or local:<folder>: your own model package (model_config.json, weights.onnx, "
        "class_names.txt, inference_config.json) in an absolute folder, loaded by Roboflow's "
        "loader offline with no API key (both need the full profile)",
    )
    detect.add_argument(
        "--api-key-file", help=f"file holding the Roboflow API key (or ${API_KEY_ENV})"
    )
    detect.add_argument("--max-fps", type=float, help="frames per second per source (0: all)")
    detect.add_argument("--confidence", type=float, help="minimum confidence (default 0.5)")
    detect.add_argument(
        "--motion-gating",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="run the heavy detectors (face, person) only on frames, and regions, where the "
        "picture changed; still frames repeat the last detections (default on)",
    )
    detect.add_argument(
        "--full-frame-interval",
        type=float,
        metavar="SECONDS",
        help="with motion gating, also run on the whole frame this often (default 10)",
    )
    detect.add_argument("--classes", help="comma-separated classes to keep (default: all)")

    events = worker.add_argument_group("tracking, events and zones")
    events.add_argument(
        "--tracking",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="track objects and publish events on <base>/events (default on)",
    )
    events.add_argument(
        "--event-min-frames", type=int, help="frames an object is seen in before its event (3)"
    )
    events.add_argument(
        "--event-end-after", type=float, help="seconds unseen before an event ends (5)"
    )
    events.add_argument(
        "--tracker-activation", type=float, help="ByteTrack activation threshold (0.25)"
    )
    events.add_argument(
        "--tracker-lost-buffer", type=int, help="ByteTrack lost-track buffer, frames (30)"
    )
    events.add_argument("--tracker-matching", type=float, help="ByteTrack matching threshold (0.8)")
    events.add_argument(
        "--zone",
        action="append",
        dest="zones",
        metavar="SOURCE=ZONE",
        help="a zone or line of a source (its id or name), e.g. 'Porch=driveway: 0.1,0.6 "
        "0.5,0.6 0.5,1 0.1,1 | person' or 'Porch=line gate: 0.2,0.5 0.8,0.5'; repeat for more",
    )

    general = worker.add_argument_group("general")
    general.add_argument("--config", help="YAML file with the same keys (mqtt_host, sources, ...)")
    general.add_argument(
        "--remove",
        action="store_true",
        help="remove this worker's discovery config (retained, empty) and mark it offline; exit",
    )
    general.add_argument(
        "--state-file",
        help="where the pause is kept across restarts (default "
        "$XDG_STATE_HOME/nvr-inference/nvr_worker_<name>.json, ~/.local/state when unset)",
    )
    general.add_argument("--log-level", type=str.lower, choices=LOG_LEVELS, help="default info")
    worker.set_defaults(run=_run_worker)

    sample = commands.add_parser(
        "sample-video",
        allow_abbrev=False,
        help="write a deterministic sample video",
        description="Write a sample scene to PATH (10 fps, MJPG in AVI). `faces`: two drawn "
        "faces, a sliding box, an empty tail (130 frames). `person`: a person cut out of a "
        "photograph walks into a still room, stands, and walks out (200 frames, still 90%% of "
        "the time); the photo is scikit-image's astronaut.png, which scripts/setup extracts.",
    )
    sample.add_argument("path", help="output file (.avi)")
    sample.add_argument(
        "--scene", choices=("faces", "person"), default="faces", help="which scene (default faces)"
    )
    sample.add_argument(
        "--photo",
        default=None,
        help="the person scene's photo (default: astronaut.png from scripts/setup's cache, "
        "or from $NVR_PHOTO_DIR)",
    )
    sample.add_argument(
        "--frames", type=int, default=None, help="number of frames (default: one loop)"
    )
    sample.add_argument("--size", default=None, help="WIDTHxHEIGHT (default 640x480)")
    sample.set_defaults(run=_run_sample_video)
    return parser


# -- configuration ---------------------------------------------------------------------------------

_KEYS = {
    "mqtt_host",
    "mqtt_port",
    "mqtt_username",
    "mqtt_password_file",
    "tls",
    "tls_ca",
    "tls_insecure",
    "base_topic",
    "discovery_prefix",
    "name",
    "sources",
    "loop",
    "detector",
    "api_key_file",
    "max_fps",
    "confidence",
    "classes",
    "motion_gating",
    "full_frame_interval",
    "log_level",
    "state_file",
    "tracking",
    "zones",
}
_SECRET_KEYS = {"mqtt_password", "password", "api_key", "roboflow_api_key"}


@dataclass(frozen=True, slots=True)
class CliConfig:
    """What the worker command resolved: settings for `Worker`, and how to log."""

    settings: WorkerSettings
    log_level: str
    remove: bool


def load_config_file(path: str) -> dict[str, Any]:
    """Read the YAML config; keys may use dashes or underscores."""
    import yaml  # type: ignore[import-untyped]  # noqa: PLC0415 - no stubs installed

    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as err:
        raise ConfigError(f"cannot read config file {path}: {err.strerror or err}") from None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as err:
        where = getattr(err, "problem_mark", None)
        line = f" (line {where.line + 1})" if where is not None else ""
        raise ConfigError(f"config file {path} is not valid YAML{line}") from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ConfigError(f"config file {path} must be a mapping of keys to values")
    config = {str(k).replace("-", "_"): v for k, v in data.items()}
    if "source" in config and "sources" not in config:
        config["sources"] = config.pop("source")
    secrets = sorted(_SECRET_KEYS & set(config))
    if secrets:
        raise ConfigError(
            f"config file {path}: {', '.join(secrets)} may not be written in it; use "
            f"${PASSWORD_ENV} or mqtt_password_file, ${API_KEY_ENV} or api_key_file"
        )
    unknown = sorted(set(config) - _KEYS)
    if unknown:
        raise ConfigError(
            f"config file {path}: unknown key(s) {', '.join(unknown)}; known: "
            f"{', '.join(sorted(_KEYS))}"
        )
    return config


_SOURCE_ID = re.compile(r"^(?P<id>\d+):(?!//)(?P<rest>.+)$")
_SOURCE_NAME = re.compile(r"^(?P<name>[^=/\\]+?)\s*=\s*(?P<ref>.+)$")


def parse_source_text(text: str) -> tuple[int | None, str | None, str]:
    """Parse `[ID:][NAME=]REFERENCE` into (id, name, reference).

    A name stops at the first `=` and holds no slash, so `rtsp://cam/x?a=1` and `/v/a=b.avi`
    are plain references; `5:Porch=rtsp://...` is source 5 named Porch.
    """
    rest = text.strip()
    source_id: int | None = None
    match = _SOURCE_ID.match(rest)
    if match:
        source_id, rest = int(match["id"]), match["rest"].strip()
    name: str | None = None
    match = _SOURCE_NAME.match(rest)
    if match:
        name, rest = match["name"].strip(), match["ref"].strip()
    if not rest:
        raise ConfigError(f"source {redact_text(text)!r} has no reference")
    return source_id, name or None, rest


Entry = tuple[int | None, str | None, str, bool, Any]
"""One source as written: id, name, reference, loop, and its zones/lines as written."""


def _source_entry(item: Any, default_loop: bool) -> Entry:
    if isinstance(item, str | int) and not isinstance(item, bool):
        return (*parse_source_text(str(item)), default_loop, None)
    if isinstance(item, dict):
        allowed = {"reference", "name", "source_id", "id", "loop", "zones", "lines"}
        extra = sorted(set(item) - allowed)
        ref = item.get("reference")
        if extra or ref is None:
            raise ConfigError(
                "a source in the config file is a string or a mapping with reference and "
                "optionally name, source_id, loop, zones, lines"
            )
        raw_id = item.get("source_id", item.get("id"))
        source_id = _as_int(raw_id, "source_id") if raw_id is not None else None
        if source_id is not None and source_id < 0:
            raise ConfigError("source_id must be >= 0")
        loop = _as_bool(item.get("loop", default_loop), "loop")
        label = item.get("name")
        zones, lines = item.get("zones") or [], item.get("lines") or []
        drawn = {"zones": zones, "lines": lines} if zones or lines else None
        return source_id, str(label) if label else None, str(ref), loop, drawn
    raise ConfigError(f"cannot read source {item!r}: use [ID:][NAME=]REFERENCE")


def build_sources(items: Iterable[Any], default_loop: bool) -> tuple[SourceConfig, ...]:
    """Build source configs; ids given explicitly are kept, the others get the lowest free."""
    return _build_sources(items, default_loop)[0]


def _build_sources(
    items: Iterable[Any], default_loop: bool
) -> tuple[tuple[SourceConfig, ...], dict[int, Any]]:
    entries = [_source_entry(item, default_loop) for item in items]
    explicit = [e[0] for e in entries if e[0] is not None]
    duplicated = sorted({i for i in explicit if explicit.count(i) > 1})
    if duplicated:
        raise ConfigError(f"source id(s) {duplicated} given more than once")
    taken = set(explicit)
    next_id = 0
    sources = []
    drawn: dict[int, Any] = {}
    for given, name, reference, loop, zones in entries:
        source_id = given
        if source_id is None:
            while next_id in taken:
                next_id += 1
            source_id = next_id
            taken.add(source_id)
        sources.append(SourceConfig(source_id, reference, name, loop))
        if zones:
            drawn[source_id] = zones
    return tuple(sources), drawn


def _zones_of(written: Any, where: str) -> SourceZones:
    """Zones and lines of one source from YAML: lines of text, or mappings."""
    zones: list[ZoneConfig] = []
    lines: list[LineConfig] = []
    for key in ("zones", "lines"):
        items = written.get(key) or []
        if not isinstance(items, list):
            raise ConfigError(f"{where}: {key} must be a list")
        for item in items:
            if isinstance(item, str):
                parsed = parse_zone_line(("line " if key == "lines" else "") + item)
            elif isinstance(item, dict):
                parsed_all = zones_from_dict({key: [item]})
                parsed = (parsed_all.zones or parsed_all.lines)[0]
            else:
                raise ConfigError(f"{where}: cannot read {key[:-1]} {item!r}")
            if isinstance(parsed, LineConfig):
                lines.append(parsed)
            else:
                zones.append(parsed)
    return SourceZones(tuple(zones), tuple(lines))


def _as_int(value: Any, key: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise ConfigError(f"{key} must be an integer, got {value!r}")
    try:
        return int(value)
    except ValueError:
        raise ConfigError(f"{key} must be an integer, got {value!r}") from None


def _as_float(value: Any, key: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise ConfigError(f"{key} must be a number, got {value!r}")
    try:
        return float(value)
    except ValueError:
        raise ConfigError(f"{key} must be a number, got {value!r}") from None


def _as_bool(value: Any, key: str) -> bool:
    if isinstance(value, bool):
        return value
    raise ConfigError(f"{key} must be true or false, got {value!r}")


def _as_str(value: Any, key: str) -> str:
    if isinstance(value, str | int | float) and not isinstance(value, bool):
        return str(value)
    raise ConfigError(f"{key} must be a string, got {value!r}")


def _read_secret(path: str, what: str) -> str:
    try:
        secret = Path(path).read_text(encoding="utf-8").rstrip("\r\n")
    except (OSError, UnicodeDecodeError) as err:
        reason = getattr(err, "strerror", None) or type(err).__name__
        raise ConfigError(f"cannot read the {what} file {path}: {reason}") from None
    if not secret:
        raise ConfigError(f"the {what} file {path} is empty")
    return secret


def _validate_topic(value: str, key: str) -> str:
    if not value or any(c in value for c in "+#\0") or value.startswith("/") or value.endswith("/"):
        raise ConfigError(f"{key} {value!r} must be a plain topic (no +, #, leading or trailing /)")
    return value


Pick = Callable[..., Any]


def _mqtt_settings(pick: Pick, env: Mapping[str, str]) -> MqttSettings:
    tls_ca = pick("tls_ca")
    tls_insecure = _as_bool(pick("tls_insecure", False), "tls_insecure")
    tls = _as_bool(pick("tls", False), "tls") or bool(tls_ca) or tls_insecure
    port = _as_int(pick("mqtt_port", 8883 if tls else 1883), "mqtt_port")
    if not 0 < port < 65536:
        raise ConfigError(f"mqtt_port must be between 1 and 65535, got {port}")
    username = pick("mqtt_username")
    password_file = pick("mqtt_password_file")
    password = (
        _read_secret(str(password_file), "MQTT password")
        if password_file
        else env.get(PASSWORD_ENV) or None
    )
    if password and not username:
        raise ConfigError("an MQTT password needs a user name (--mqtt-username)")
    if tls_ca and not Path(str(tls_ca)).is_file():
        raise ConfigError(f"the TLS CA file {tls_ca} does not exist")
    return MqttSettings(
        host=_as_str(pick("mqtt_host", "127.0.0.1"), "mqtt_host"),
        port=port,
        username=_as_str(username, "mqtt_username") if username is not None else None,
        password=password,
        tls=tls,
        tls_ca=str(tls_ca) if tls_ca else None,
        tls_insecure=tls_insecure,
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
        _as_str(detector_name, "detector"),
        confidence=_as_float(pick("confidence", 0.5), "confidence"),
        classes=[str(c) for c in classes],
        motion_gating=_as_bool(pick("motion_gating", True), "motion_gating"),
        full_frame_interval=_as_float(pick("full_frame_interval", 10.0), "full_frame_interval"),
    )
    if not spec.needs_api_key:
        return spec, None
    key_file = pick("api_key_file")
    api_key = _read_secret(str(key_file), "API key") if key_file else env.get(API_KEY_ENV)
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
    return _build_sources(raw_sources, _as_bool(pick("loop", False), "loop"))


_TRACKING_FLAGS = {
    "event_min_frames": "min_frames",
    "event_end_after": "end_after",
    "tracker_activation": "activation_threshold",
    "tracker_lost_buffer": "lost_track_buffer",
    "tracker_matching": "matching_threshold",
}


def _tracking(args: argparse.Namespace, file_config: Mapping[str, Any]) -> TrackingOptions:
    """`tracking:` from the YAML, each flag over it."""
    written = file_config.get("tracking") or {}
    if not isinstance(written, dict):
        raise ConfigError("tracking must be a mapping (enabled, min_frames, end_after, ...)")
    values = dict(written)
    if getattr(args, "tracking", None) is not None:
        values["enabled"] = args.tracking
    for flag, key in _TRACKING_FLAGS.items():
        if getattr(args, flag, None) is not None:
            values[key] = getattr(args, flag)
    return TrackingOptions.from_mapping(values)


def _zones(
    args: argparse.Namespace,
    sources: tuple[SourceConfig, ...],
    written: Mapping[int, Any],
    spec: DetectorSpec,
    tracking: TrackingOptions,
) -> dict[int, SourceZones]:
    """Every source's zones (YAML per source, then --zone flags), validated."""
    by_id = {s.source_id: s for s in sources}
    by_name = {s.name.lower(): s for s in sources if s.name}
    zones: dict[int, SourceZones] = {
        sid: _zones_of(drawn, f"source {by_id[sid].display_name}") for sid, drawn in written.items()
    }
    for text in getattr(args, "zones", None) or []:
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
    for sid, drawn in zones.items():
        if drawn and not tracking.enabled:
            raise ConfigError("zones and lines need tracking: drop --no-tracking")
        try:
            validate_zones(drawn, spec.reported_classes)
        except ZoneError as err:
            raise ConfigError(f"source {by_id[sid].display_name}: {err}") from None
    return zones


def resolve_config(args: argparse.Namespace, env: Mapping[str, str]) -> CliConfig:
    """Merge flags over the config file over defaults; read secrets; validate everything."""
    file_config = load_config_file(args.config) if args.config else {}

    def pick(key: str, default: Any = None) -> Any:
        value = getattr(args, key, None)
        if value is None:
            value = file_config.get(key)
        return default if value is None else value

    mqtt = _mqtt_settings(pick, env)
    name = _as_str(pick("name", socket.gethostname()), "name").strip()
    if not name:
        raise ConfigError("name must not be empty")
    base_topic = _validate_topic(_as_str(pick("base_topic", "nvr"), "base_topic"), "base_topic")
    prefix = _validate_topic(
        _as_str(pick("discovery_prefix", "homeassistant"), "discovery_prefix"), "discovery_prefix"
    )
    log_level = _as_str(pick("log_level", "info"), "log_level").lower()
    if log_level not in LOG_LEVELS:
        raise ConfigError(f"log_level must be one of {', '.join(LOG_LEVELS)}, got {log_level!r}")
    if args.remove:
        settings = WorkerSettings(
            name=name, mqtt=mqtt, base_topic=base_topic, discovery_prefix=prefix
        )
        return CliConfig(settings, log_level, remove=True)
    sources, drawn = _sources(pick)
    spec, api_key = _detector(pick, env)
    try:
        tracking = _tracking(args, file_config)
        zones = _zones(args, sources, drawn, spec, tracking)
    except (TrackingError, ZoneError) as err:
        raise ConfigError(str(err)) from None
    max_fps = _as_float(pick("max_fps", 0.0), "max_fps")
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
        state_file=Path(_as_str(state_file, "state_file")).expanduser() if state_file else None,
        tracking=tracking,
        zones=zones,
    )
    return CliConfig(settings, log_level, remove=False)


# -- logging ---------------------------------------------------------------------------------------


class RedactSecrets(logging.Filter):
    """Replace known secrets and URL credentials in every record a handler emits."""

    def __init__(self, secrets: Iterable[str | None]) -> None:
        """Remember the secrets to hide (empty ones are ignored)."""
        super().__init__()
        self._secrets = sorted({s for s in secrets if s}, key=len, reverse=True)

    def clean(self, text: str) -> str:
        """Return `text` without secrets."""
        for secret in self._secrets:
            text = text.replace(secret, "***")
        return redact_text(text)

    def filter(self, record: logging.LogRecord) -> bool:
        """Rewrite the record's message (and traceback) if they hold a secret."""
        try:
            message = record.getMessage()
        except (TypeError, ValueError):
            message = str(record.msg)
        cleaned = self.clean(message)
        if cleaned != message:
            record.msg, record.args = cleaned, None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = self.clean(record.exc_text)
        return True


def configure_logging(level: str, secrets: Iterable[str | None]) -> RedactSecrets:
    """Log to stderr through the secret filter; route warnings and thread crashes there too."""
    redact = RedactSecrets(secrets)
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    handler.addFilter(redact)
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    logging.captureWarnings(True)

    def _thread_crash(args: threading.ExceptHookArgs) -> None:
        name = args.thread.name if args.thread else "?"
        if args.exc_value is not None:
            _LOGGER.error(
                "Unhandled error in thread %s",
                name,
                exc_info=(args.exc_type, args.exc_value, args.exc_traceback),
            )

    threading.excepthook = _thread_crash
    return redact


def protect_all_handlers(redact: RedactSecrets) -> None:
    """Put the filter on handlers that libraries attached to their own loggers."""
    loggers = [logging.getLogger(), *logging.Logger.manager.loggerDict.values()]
    for logger in loggers:
        for handler in getattr(logger, "handlers", ()):
            if redact not in handler.filters:
                handler.addFilter(redact)


# -- commands --------------------------------------------------------------------------------------


def _fail(code: int, message: str, redact: RedactSecrets | None = None) -> int:
    text = redact.clean(message) if redact else redact_text(message)
    print(f"nvr-inference: error: {text}", file=sys.stderr)  # noqa: T201 - the one line
    return code


def _run_worker(args: argparse.Namespace) -> int:
    from .service import BrokerUnavailableError, remove_worker  # noqa: PLC0415

    try:
        config = resolve_config(args, os.environ)
    except (ConfigError, EngineError) as err:
        return _fail(EXIT_CONFIG, str(err))
    settings = config.settings
    redact = configure_logging(config.log_level, [settings.mqtt.password, settings.api_key])
    if config.log_level != "debug":
        # OpenCV and FFmpeg write to stderr directly (not through logging, so not through the
        # secret filter), and a failed probe would add lines to the one-line error.
        os.environ.setdefault("OPENCV_LOG_LEVEL", "ERROR")
        os.environ.setdefault("OPENCV_FFMPEG_LOGLEVEL", "8")  # AV_LOG_FATAL
    if not config.remove:
        return _serve(settings, redact)
    try:
        remove_worker(settings)
    except BrokerUnavailableError as err:
        return _fail(EXIT_BROKER, str(err), redact)
    except EngineError as err:
        return _fail(EXIT_CONFIG, str(err), redact)
    return 0


def _install_signal_handlers(stop: threading.Event) -> None:
    def _on_signal(signum: int, _frame: FrameType | None) -> None:
        if stop.is_set():
            _LOGGER.warning("Second %s: exiting now", signal.Signals(signum).name)
            os._exit(128 + signum)
        _LOGGER.info("%s received: stopping", signal.Signals(signum).name)
        stop.set()

    signal.signal(signal.SIGTERM, _on_signal)
    signal.signal(signal.SIGINT, _on_signal)


def _serve(settings: WorkerSettings, redact: RedactSecrets) -> int:
    """Probe, connect, run until SIGTERM/SIGINT, stop."""
    from .service import BrokerUnavailableError, Worker, describe_settings  # noqa: PLC0415

    stop = threading.Event()
    _install_signal_handlers(stop)
    for line in describe_settings(settings):  # debug: a failed start stays one line
        _LOGGER.debug("%s", line)
    worker = Worker(settings)
    try:
        worker.check()
        protect_all_handlers(redact)  # the pipeline's packages are imported by now
        if stop.is_set():
            return 0
        worker.connect()
        worker.restore_pause()
    except BrokerUnavailableError as err:
        return _fail(EXIT_BROKER, str(err), redact)
    except EngineError as err:
        return _fail(EXIT_CONFIG, str(err), redact)
    try:
        worker.start()
        worker.run(stop)
    except EngineError as err:
        return _fail(EXIT_CONFIG, str(err), redact)
    finally:
        worker.stop()  # the pipeline's threads are not daemons: never leave them running
        # Stopped: the broker acknowledged the final status and `offline` (or 3 s passed for
        # each), every thread is joined. What is left is the interpreter's teardown, whose
        # cyclic garbage collections walk the ~80,000 objects the pipeline's imports made
        # (scipy, numpy, OpenCV, supervision): 0.1 s of CPU, several times that in wall time
        # on a busy machine. Frozen objects are skipped by those collections; atexit handlers
        # (logging's flush) and module teardown still run as usual.
        gc.freeze()
    return 0


def _run_sample_video(args: argparse.Namespace) -> int:
    from ..samples.person_scene import (  # noqa: PLC0415 - OpenCV only for this command
        PERSON_FRAMES,
        PERSON_PHOTO,
        write_person_video,
    )
    from ..samples.photos import photo_path  # noqa: PLC0415
    from ..samples.sample_video import (  # noqa: PLC0415
        SAMPLE_FRAMES,
        SAMPLE_SIZE,
        write_sample_video,
    )

    size = SAMPLE_SIZE
    if args.size:
        match = re.fullmatch(r"\s*(\d+)\s*[xX]\s*(\d+)\s*", args.size)
        if not match or int(match[1]) < 16 or int(match[2]) < 16:
            return _fail(
                EXIT_CONFIG, f"--size must be WIDTHxHEIGHT (at least 16x16), got {args.size!r}"
            )
        size = (int(match[1]), int(match[2]))
    person = args.scene == "person"
    if args.photo and not person:
        return _fail(EXIT_CONFIG, "--photo is for --scene person")
    frames = (PERSON_FRAMES if person else SAMPLE_FRAMES) if args.frames is None else args.frames
    if frames < 1:
        return _fail(EXIT_CONFIG, f"--frames must be at least 1, got {frames}")
    try:
        if person:
            photo = Path(args.photo) if args.photo else photo_path(PERSON_PHOTO)
            if not photo.is_file():
                return _fail(EXIT_CONFIG, f"the photo {photo} does not exist")
            path = write_person_video(args.path, photo, size=size, frames=frames)
        else:
            path = write_sample_video(args.path, size=size, frames=frames)
    except OSError as err:
        return _fail(EXIT_CONFIG, str(err))
    print(path)  # noqa: T201 - the command's output
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Run `nvr-inference`; return the exit code."""
    args = build_parser().parse_args(argv)
    code: int = args.run(args)
    return code


if __name__ == "__main__":
    sys.exit(main())
