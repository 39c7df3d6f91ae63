"""The app's entrypoint: the Supervisor's options and broker in, an `nvr-inference worker` out.

The Supervisor writes the user's options to /data/options.json (already checked against
config.yaml's schema) and answers `GET http://supervisor/services/mqtt` with the broker the
Mosquitto app provides, for the token it puts in $SUPERVISOR_TOKEN. This script turns both
into a worker YAML and replaces itself with the worker (exec: the worker gets the signals, its
exit code is the app's). It checks only what the schema cannot say (at least one camera,
unique names); everything else is the worker's own validation, with its own one-line errors.

An optional /config/worker.yaml (the app's config folder, `addon_config`) holds what the
options do not: zones, lines, tracking, a base topic. Its sources are matched to the cameras
by name, so a camera's zones live there; the options decide which cameras run. When it sets
`mqtt_host`, its broker settings win over the Supervisor's (an external broker).

Secrets never reach a file or the log: the broker password and the Roboflow API key travel in
the worker's environment ($NVR_MQTT_PASSWORD, $ROBOFLOW_API_KEY); camera URLs (which may carry
a password) go only into the generated YAML under /tmp, readable by this user alone, and the
log names cameras, never their URLs. A problem is one line and a non-zero exit, no traceback.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
import sys
from typing import Any, NoReturn
import urllib.error
import urllib.request

import yaml  # type: ignore[import-untyped]  # no stubs installed

SUPERVISOR_URL_ENV = "NVR_SUPERVISOR_URL"
"""Where the Supervisor's API is (tests point it at a stand-in on 127.0.0.1)."""
DATA = Path(os.environ.get("NVR_APP_DATA", "/data"))
CONFIG = Path(os.environ.get("NVR_APP_CONFIG", "/config"))
GENERATED = Path(os.environ.get("NVR_APP_RUNTIME", "/tmp/nvr-app")) / "worker.yaml"
WORKER_NAME = "app"
"""The worker's default name (discovery node `nvr_worker_app`); worker.yaml may set another."""
EXIT_OPTIONS = 2
EXIT_SUPERVISOR = 3


class AppError(Exception):
    """Something the user (or the Supervisor) must fix; the message is the one line shown."""

    def __init__(self, message: str, code: int = EXIT_OPTIONS) -> None:
        """Keep the exit code beside the message."""
        super().__init__(message)
        self.code = code


def read_options(path: Path) -> dict[str, Any]:
    """Read the Supervisor's options file and check what its schema cannot."""
    try:
        options = json.loads(path.read_text(encoding="utf-8"))
    except OSError as err:
        raise AppError(f"cannot read the app's options ({path}): {err.strerror or err}") from None
    except ValueError:
        raise AppError(f"the app's options ({path}) are not valid JSON") from None
    if not isinstance(options, dict):
        raise AppError(f"the app's options ({path}) must be a mapping")
    cameras = options.get("cameras")
    if not isinstance(cameras, list) or not cameras:
        raise AppError("no camera: add at least one under cameras (a name and a url)")
    names: set[str] = set()
    for index, camera in enumerate(cameras, 1):
        if not isinstance(camera, dict) or not all(
            isinstance(camera.get(k), str) and camera[k].strip() for k in ("name", "url")
        ):
            raise AppError(f"camera {index}: give it a name and a url (both text)")
        name = camera["name"].strip()
        if name in names:
            raise AppError(f"camera {index}: the name {name!r} is used twice")
        names.add(name)
    return options


def mqtt_service(env: dict[str, str]) -> dict[str, Any]:
    """Ask the Supervisor for the broker (`services: [mqtt:need]` in config.yaml)."""
    base = env.get(SUPERVISOR_URL_ENV, "http://supervisor").rstrip("/")
    token = env.get("SUPERVISOR_TOKEN")
    if not token:
        raise AppError("no SUPERVISOR_TOKEN: run this as a Home Assistant app", EXIT_SUPERVISOR)
    request = urllib.request.Request(
        f"{base}/services/mqtt", headers={"Authorization": f"Bearer {token}"}
    )
    try:
        with urllib.request.urlopen(request, timeout=15) as response:
            body = json.load(response)
    except urllib.error.HTTPError as err:
        raise AppError(
            f"the Supervisor has no MQTT broker for this app (HTTP {err.code}): install and "
            "start the Mosquitto broker app",
            EXIT_SUPERVISOR,
        ) from None
    except (OSError, ValueError) as err:
        reason = getattr(err, "reason", None) or err
        raise AppError(
            f"cannot ask the Supervisor for the MQTT broker: {reason}", EXIT_SUPERVISOR
        ) from None
    data = body.get("data") if isinstance(body, dict) else None
    if not isinstance(data, dict) or not data.get("host"):
        raise AppError("the Supervisor's MQTT service gave no broker host", EXIT_SUPERVISOR)
    return data


def read_user_config(path: Path) -> dict[str, Any]:
    """Read the optional worker.yaml in the app's config folder (the worker checks its keys)."""
    if not path.is_file():
        return {}
    try:
        loaded = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError):
        raise AppError(f"{path} cannot be read as YAML") from None
    if loaded is None:
        return {}
    if not isinstance(loaded, dict):
        raise AppError(f"{path} must be a mapping of keys to values")
    return {str(k).replace("-", "_"): v for k, v in loaded.items()}


def _sources(cameras: list[dict[str, str]], user: dict[str, Any]) -> list[dict[str, Any]]:
    """Return the cameras as the worker's sources, each with its worker.yaml entry's extras."""
    written = user.get("sources") or []
    by_name = {str(s["name"]).strip(): s for s in written if isinstance(s, dict) and s.get("name")}
    sources = []
    for camera in cameras:
        name = camera["name"].strip()
        entry = {k: v for k, v in by_name.get(name, {}).items() if k != "reference"}
        sources.append({**entry, "name": name, "reference": camera["url"].strip()})
    return sources


def worker_config(
    options: dict[str, Any], broker: dict[str, Any] | None, user: dict[str, Any], data: Path
) -> tuple[dict[str, Any], dict[str, str]]:
    """Return the worker's YAML (as a dict) and the secrets for its environment."""
    config = dict(user)
    env: dict[str, str] = {}
    if broker is not None and "mqtt_host" not in user:
        config["mqtt_host"] = str(broker["host"])
        port = broker.get("port") or (8883 if broker.get("ssl") else 1883)
        if not str(port).isdigit():
            raise AppError(
                f"the Supervisor's MQTT service gave a bad port {port!r}", EXIT_SUPERVISOR
            )
        config["mqtt_port"] = int(port)
        config["tls"] = bool(broker.get("ssl"))
        if broker.get("username"):
            config["mqtt_username"] = str(broker["username"])
        if broker.get("password"):
            env["NVR_MQTT_PASSWORD"] = str(broker["password"])
    config["sources"] = _sources(options["cameras"], user)
    config["detector"] = options.get("detector", "person")
    if options.get("max_fps") is not None:
        config["max_fps"] = options["max_fps"]
    if options.get("log_level"):
        config["log_level"] = options["log_level"]
    config.setdefault("name", WORKER_NAME)
    config.setdefault("state_file", str(data / f"nvr_worker_{config['name']}.json"))
    if options.get("api_key"):
        env["ROBOFLOW_API_KEY"] = str(options["api_key"])
    return config, env


def write_private(path: Path, config: dict[str, Any]) -> None:
    """Write the YAML readable by this user only (camera URLs may carry passwords)."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as file:
        yaml.safe_dump(config, file, sort_keys=False)


def prepare(env: dict[str, str]) -> tuple[list[str], dict[str, str], str]:
    """Return the worker's command, its extra environment and a line for the log."""
    options = read_options(DATA / "options.json")
    user = read_user_config(CONFIG / "worker.yaml")
    broker = None if "mqtt_host" in user else mqtt_service(env)
    config, secrets = worker_config(options, broker, user, DATA)
    try:
        write_private(GENERATED, config)
    except OSError as err:
        raise AppError(f"cannot write {GENERATED}: {err.strerror or err}") from None
    names = ", ".join(s["name"] for s in config["sources"])
    where = "worker.yaml's broker" if broker is None else "the Supervisor's broker"
    extra = " and /config/worker.yaml" if user else ""
    line = f"starting the worker: {config['detector']} on {names}, {where}{extra}"
    return ["nvr-inference", "worker", "--config", str(GENERATED)], secrets, line


def fail(error: AppError) -> NoReturn:
    """One line on stderr, then exit with the error's code."""
    sys.stderr.write(f"nvr-inference app: error: {error}\n")
    sys.exit(error.code)


def main() -> None:
    """Prepare, then become the worker."""
    env = dict(os.environ)
    try:
        command, secrets, line = prepare(env)
    except AppError as err:
        fail(err)
    sys.stderr.write(f"nvr-inference app: {line}\n")
    sys.stderr.flush()
    os.execvpe(command[0], command, {**env, **secrets})


if __name__ == "__main__":
    main()
