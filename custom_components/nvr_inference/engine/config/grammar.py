"""The worker configuration's written forms: the YAML file, a source's text, each value's type.

What `nvr-inference worker` accepts as written, before anything is merged: the config file's
keys (dashes or underscores, no secret among them), `[ID:][NAME=]REFERENCE` for a source, a
source's zones and lines, and the coercions that turn a written value into an int, a number,
a boolean or a string with one error line that names the key. Secrets come from a file or the
environment, never from the file or a flag. `config.resolve_config` merges these into the
worker's settings; argparse is the command line's business (`parser`), not this module's.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
import re
from typing import Any

from ..objects.zones import LineConfig, SourceZones, ZoneConfig, parse_zone_line, zones_from_dict
from ..video.sources import SourceConfig, redact_text
from .camera import CAMERA_KEYS

PASSWORD_ENV = "NVR_MQTT_PASSWORD"
API_KEY_ENV = "ROBOFLOW_API_KEY"
LOG_LEVELS = ("debug", "info", "warning", "error")
TLS_VERSIONS = ("1.2", "1.3")
"""The oldest TLS version a worker may be told to accept (`tls_min_version`)."""


class ConfigError(Exception):
    """A flag, the config file or a secret file is wrong; the message says how."""


_KEYS = {
    "mqtt_host",
    "mqtt_port",
    "mqtt_username",
    "mqtt_password_file",
    "tls",
    "tls_ca",
    "tls_insecure",
    "tls_cert",
    "tls_key",
    "tls_min_version",
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


Entry = tuple[int | None, str | None, str, bool, str | None, Any]
"""One source as written: id, name, reference, loop, area, and its zones, lines and own
settings (`camera.CAMERA_KEYS`) as written."""


def _source_entry(item: Any, default_loop: bool) -> Entry:
    if isinstance(item, str | int) and not isinstance(item, bool):
        return (*parse_source_text(str(item)), default_loop, None, None)
    if isinstance(item, dict):
        allowed = {"reference", "name", "source_id", "id", "loop", "area", "zones", "lines"}
        extra = sorted(set(item) - allowed - set(CAMERA_KEYS))
        ref = item.get("reference")
        if extra or ref is None:
            raise ConfigError(
                "a source in the config file is a string or a mapping with reference and "
                f"optionally name, source_id, loop, area, zones, lines, {', '.join(CAMERA_KEYS)}"
                + (f"; unknown: {', '.join(extra)}" if extra else "")
            )
        raw_id = item.get("source_id", item.get("id"))
        source_id = as_int(raw_id, "source_id") if raw_id is not None else None
        if source_id is not None and source_id < 0:
            raise ConfigError("source_id must be >= 0")
        loop = as_bool(item.get("loop", default_loop), "loop")
        label = item.get("name")
        where = f"source {label}" if label else f"source {redact_text(str(ref))}"
        area = _area(item.get("area"), where) if "area" in item else None
        drawn = {k: item[k] for k in ("zones", "lines", *CAMERA_KEYS) if item.get(k) is not None}
        return source_id, str(label) if label else None, str(ref), loop, area, drawn or None
    raise ConfigError(f"cannot read source {item!r}: use [ID:][NAME=]REFERENCE")


def _area(value: Any, where: str) -> str:
    """Return a camera's area: the name of a Home Assistant area, so a non-empty string."""
    if not isinstance(value, str) or not value.strip():
        raise ConfigError(
            f"{where}: area must be the name of an area (a non-empty string), got {value!r}"
        )
    return value.strip()


def build_sources(items: Iterable[Any], default_loop: bool) -> tuple[SourceConfig, ...]:
    """Build source configs; ids given explicitly are kept, the others get the lowest free."""
    return build_sources_with_zones(items, default_loop)[0]


def build_sources_with_zones(
    items: Iterable[Any], default_loop: bool
) -> tuple[tuple[SourceConfig, ...], dict[int, Any]]:
    """Build source configs, and each source's zones and lines as written, by source id."""
    entries = [_source_entry(item, default_loop) for item in items]
    explicit = [e[0] for e in entries if e[0] is not None]
    duplicated = sorted({i for i in explicit if explicit.count(i) > 1})
    if duplicated:
        raise ConfigError(f"source id(s) {duplicated} given more than once")
    taken = set(explicit)
    next_id = 0
    sources = []
    drawn: dict[int, Any] = {}
    for given, name, reference, loop, area, zones in entries:
        source_id = given
        if source_id is None:
            while next_id in taken:
                next_id += 1
            source_id = next_id
            taken.add(source_id)
        sources.append(SourceConfig(source_id, reference, name, loop, area))
        if zones:
            drawn[source_id] = zones
    return tuple(sources), drawn


def zones_of(written: Any, where: str) -> SourceZones:
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


def as_int(value: Any, key: str) -> int:
    """Return `value` as an int (YAML may give a string), or say which key is wrong."""
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise ConfigError(f"{key} must be an integer, got {value!r}")
    try:
        return int(value)
    except ValueError:
        raise ConfigError(f"{key} must be an integer, got {value!r}") from None


def as_float(value: Any, key: str) -> float:
    """Return `value` as a float, or say which key is wrong."""
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise ConfigError(f"{key} must be a number, got {value!r}")
    try:
        return float(value)
    except ValueError:
        raise ConfigError(f"{key} must be a number, got {value!r}") from None


def as_bool(value: Any, key: str) -> bool:
    """Return `value` if it is a boolean: `"no"` or `1` are refused, not guessed."""
    if isinstance(value, bool):
        return value
    raise ConfigError(f"{key} must be true or false, got {value!r}")


def as_str(value: Any, key: str) -> str:
    """Return `value` as a string (a YAML number reads as one), or say which key is wrong."""
    if isinstance(value, str | int | float) and not isinstance(value, bool):
        return str(value)
    raise ConfigError(f"{key} must be a string, got {value!r}")


def read_secret(path: str, what: str) -> str:
    """Return a secret kept in a file (its trailing newline dropped); empty is an error."""
    try:
        secret = Path(path).read_text(encoding="utf-8").rstrip("\r\n")
    except (OSError, UnicodeDecodeError) as err:
        reason = getattr(err, "strerror", None) or type(err).__name__
        raise ConfigError(f"cannot read the {what} file {path}: {reason}") from None
    if not secret:
        raise ConfigError(f"the {what} file {path} is empty")
    return secret


def validate_topic(value: str, key: str) -> str:
    """Return `value` if it is a topic prefix a subscription can be built on."""
    if not value or any(c in value for c in "+#\0") or value.startswith("/") or value.endswith("/"):
        raise ConfigError(f"{key} {value!r} must be a plain topic (no +, #, leading or trailing /)")
    return value
