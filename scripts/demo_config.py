"""The demo's Home Assistant side: prepare a config dir, onboard, and add the integrations.

Used by scripts/demo (run with .venv/bin/python) and imported by tests/demo. Everything goes
through what a person would use: the onboarding and login REST endpoints the frontend calls,
and the config-flow REST API behind *Settings -> Devices & services -> Add integration*.

    demo_config.py prepare DEMO_DIR --http-port P --mqtt-port P [--no-nvr]
    demo_config.py configure DEMO_DIR --url URL --mqtt-port P [--hass-pid PID] [--resume] [--no-nvr]
    demo_config.py summary FILE SECONDS
    demo_config.py port-in-use PORT      (exit 0 when something listens on 127.0.0.1:PORT)

`--no-nvr` leaves NVR Inference out (onboarding and MQTT only: a Home Assistant that discovers a
worker, as tests/hass_process.py starts it). Works with Home Assistant 2026.2.3 and 2026.10.4.
Only the standard library, so it also runs before Home Assistant is importable.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable, Mapping
from dataclasses import dataclass
import json
import os
from pathlib import Path
import socket
import sys
import time
from typing import Any
import urllib.error
import urllib.parse
import urllib.request

REPO = Path(__file__).resolve().parents[1]
PACKAGE = REPO / "custom_components" / "nvr_inference"

# A demo credential for a Home Assistant that listens on 127.0.0.1 only. Not a secret.
DEMO_NAME = "Demo"
DEMO_USERNAME = "demo"
DEMO_PASSWORD = "demo-nvr-1234"

NVR_TITLE = "NVR"
NVR_BASE_TOPIC = "nvr"
NVR_DETECTOR = "objects"
"""COCO on LiteRT, offline: it reports the scene's person and cat (its default classes)."""
SOURCE_NAME = "Sample"
MARKER = ".nvr-demo"
"""A file in the demo dir: `--fresh` only deletes a dir that has it (or an empty one)."""

READY_TIMEOUT = 300.0
"""Seconds Home Assistant gets to answer and finish starting (the first start is the slowest)."""


class DemoError(Exception):
    """A step of the demo failed; the message says which and why."""


# ---------------------------------------------------------------------------------------------
# prepare: files only, no Home Assistant running


def configuration_yaml(http_port: int) -> str:
    """Return configuration.yaml: what the UI and the integration need, nothing that downloads.

    No `default_config:`: several of its integrations pip-install packages or reach the
    internet at start-up. What is listed here needs only what is installed in .venv.
    """
    return f"""\
# Written by scripts/demo at every run (ports come from NVR_DEMO_HTTP_PORT / NVR_DEMO_MQTT_PORT).
homeassistant:
  name: NVR demo
  unit_system: metric
  time_zone: UTC
  country: US
  currency: USD
  language: en

http:
  server_host: 127.0.0.1
  server_port: {http_port}

frontend:
config:
api:
auth:
onboarding:
person:
history:
logbook:
system_health:

logger:
  default: warning
  logs:
    custom_components.nvr_inference: info
    homeassistant.components.mqtt: info
    homeassistant.setup: info
"""


def mosquitto_conf(mqtt_port: int) -> str:
    """Return mosquitto.conf: loopback only, anonymous, TCP_NODELAY (see docs/benchmarks.md)."""
    return (
        f"# Written by scripts/demo at every run.\n"
        f"listener {mqtt_port} 127.0.0.1\n"
        "allow_anonymous true\n"
        "persistence false\n"
        "set_tcp_nodelay true\n"
        "log_dest stderr\n"
        "log_type error\nlog_type warning\nlog_type notice\n"
        "connection_messages true\n"
    )


def onboarding_store() -> str:
    """Return .storage/onboarding with only the `core_config` step marked done.

    That step's endpoint also starts the config flows of met, radio_browser, google_translate
    and shopping_list, which pip-install packages and call web services: nothing a demo on
    127.0.0.1 should do. The location is in configuration.yaml instead. The user, analytics
    and integration steps run through the REST API, as the onboarding page does.
    """
    return json.dumps(
        {"version": 4, "minor_version": 1, "key": "onboarding", "data": {"done": ["core_config"]}},
        indent=2,
    )


def video_path(demo_dir: Path) -> Path:
    """Where the demo keeps its sample video: the objects scene (samples/objects_scene.py)."""
    return demo_dir / "media" / "objects.avi"


def prepare(demo_dir: Path, http_port: int, mqtt_port: int, *, nvr: bool = True) -> None:
    """Write the config dir, mosquitto.conf and the sample video (kept when already there).

    Without `nvr`: no link to the integration, no sample video (and so no OpenCV needed). The
    video is the objects scene (a person, a motorcycle and a cat come into a room, stay and
    leave), made from scikit-image's photos that scripts/setup extracted into .cache/photos; the
    objects detector's model is the one scripts/setup fetched into .cache/models.
    """
    demo_dir.mkdir(parents=True, exist_ok=True)
    (demo_dir / MARKER).write_text("scripts/demo owns this directory (scripts/demo --fresh)\n")
    config = demo_dir / "config"
    for sub in (config / "custom_components", config / ".storage", demo_dir / "logs"):
        sub.mkdir(parents=True, exist_ok=True)
    (demo_dir / "run").mkdir(exist_ok=True)
    (config / "configuration.yaml").write_text(configuration_yaml(http_port))
    (demo_dir / "mosquitto.conf").write_text(mosquitto_conf(mqtt_port))
    onboarding = config / ".storage" / "onboarding"
    if not onboarding.exists():
        onboarding.write_text(onboarding_store())
    if nvr:
        _add_nvr_files(demo_dir, config)


def _add_nvr_files(demo_dir: Path, config: Path) -> None:
    """Link the integration into the config dir; write the sample video."""
    link = config / "custom_components" / "nvr_inference"
    if link.is_symlink() and link.resolve() != PACKAGE.resolve():
        link.unlink()
    if not link.is_symlink():
        if link.exists():
            raise DemoError(f"{link} exists and is not the demo's symlink: run with --fresh")
        link.symlink_to(PACKAGE, target_is_directory=True)

    video = video_path(demo_dir)
    if not video.exists():
        # Run as a script, this file's directory is on sys.path, not the repository's.
        if str(REPO) not in sys.path:
            sys.path.insert(0, str(REPO))
        from custom_components.nvr_inference.engine.samples.objects_scene import (  # noqa: PLC0415
            CUTOUTS,
            write_objects_video,
        )
        from custom_components.nvr_inference.engine.samples.photos import (  # noqa: PLC0415
            photo_path,
        )

        try:
            photos = [photo_path(cutout.photo) for cutout in CUTOUTS.values()]
        except FileNotFoundError as err:
            raise DemoError(str(err)) from None
        video.parent.mkdir(exist_ok=True)
        partial = video.with_suffix(".partial.avi")
        write_objects_video(partial, photos[0].parent)
        partial.replace(video)


# ---------------------------------------------------------------------------------------------
# configure: talk to the running Home Assistant


@dataclass
class Response:
    """An HTTP answer: status and decoded body (JSON when it is JSON)."""

    status: int
    body: Any
    text: str


class HomeAssistantApi:
    """The REST API of one Home Assistant, as the frontend uses it."""

    def __init__(self, url: str, token: str | None = None) -> None:
        """Talk to `url` (http://127.0.0.1:PORT), with a bearer token once there is one."""
        self.url = url.rstrip("/")
        self.token = token

    @property
    def client_id(self) -> str:
        """The client id the frontend uses: the address it was loaded from."""
        return f"{self.url}/"

    @property
    def redirect_uri(self) -> str:
        """Where the frontend's login returns to."""
        return f"{self.url}/?auth_callback=1"

    def request(
        self,
        method: str,
        path: str,
        json_body: Any = None,
        form: Mapping[str, str] | None = None,
        timeout: float = 60,
    ) -> Response:
        """Send one request; HTTP errors come back as a Response, not an exception."""
        headers = {}
        data = None
        if json_body is not None:
            data = json.dumps(json_body).encode()
            headers["Content-Type"] = "application/json"
        elif form is not None:
            data = urllib.parse.urlencode(form).encode()
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        req = urllib.request.Request(self.url + path, data=data, headers=headers, method=method)
        try:
            with urllib.request.urlopen(req, timeout=timeout) as resp:
                status, raw = resp.status, resp.read()
        except urllib.error.HTTPError as err:
            status, raw = err.code, err.read()
        text = raw.decode(errors="replace")
        try:
            body = json.loads(text)
        except ValueError:
            body = text
        return Response(status, body, text)

    def checked(
        self, method: str, path: str, json_body: Any = None, form: Mapping[str, str] | None = None
    ) -> Response:
        """Send one request; anything but 2xx is a DemoError."""
        resp = self.request(method, path, json_body, form)
        if not 200 <= resp.status < 300:
            raise DemoError(f"{method} {path} -> HTTP {resp.status}: {resp.text[:500]}")
        return resp

    def call(
        self, method: str, path: str, json_body: Any = None, form: Mapping[str, str] | None = None
    ) -> Any:
        """Send one request and return its decoded body; anything but 2xx is a DemoError."""
        return self.checked(method, path, json_body, form).body

    def template(self, template: str) -> str:
        """Render a template (the quickest read of registries over REST); return its text."""
        return self.checked("POST", "/api/template", {"template": template}).text


def wait_until(
    what: str,
    check: Callable[[], bool],
    timeout: float,
    hass_pid: int | None = None,
    interval: float = 0.5,
) -> None:
    """Poll `check` until it holds; fail after `timeout` s or as soon as hass has exited."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            if check():
                return
        except (OSError, ValueError, DemoError):
            pass
        if hass_pid is not None and not _alive(hass_pid):
            raise DemoError(f"Home Assistant exited while waiting for {what}")
        if time.monotonic() > deadline:
            raise DemoError(f"timed out after {timeout:.0f} s waiting for {what}")
        time.sleep(interval)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # A zombie (exited, not reaped by its parent) still answers kill(0).
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return True
    return stat.rsplit(")", 1)[-1].split()[0] != "Z"


def _token_from_code(api: HomeAssistantApi, code: str) -> str:
    tokens = api.call(
        "POST",
        "/auth/token",
        form={"grant_type": "authorization_code", "code": code, "client_id": api.client_id},
    )
    return str(tokens["access_token"])


def login(url: str, username: str = DEMO_USERNAME, password: str = DEMO_PASSWORD) -> str:
    """Log in through the login flow the login page uses; return an access token."""
    api = HomeAssistantApi(url)
    flow = api.call(
        "POST",
        "/auth/login_flow",
        {
            "client_id": api.client_id,
            "handler": ["homeassistant", None],
            "redirect_uri": api.redirect_uri,
        },
    )
    result = api.call(
        "POST",
        f"/auth/login_flow/{flow['flow_id']}",
        {"client_id": api.client_id, "username": username, "password": password},
    )
    if result.get("type") != "create_entry":
        raise DemoError(f"login as {username!r} failed: {result.get('errors') or result}")
    return _token_from_code(api, str(result["result"]))


def onboard(api: HomeAssistantApi) -> str:
    """Finish onboarding (creating the demo user) or log in; return an access token."""
    # Once onboarding is finished, Home Assistant no longer serves /api/onboarding at all.
    resp = api.request("GET", "/api/onboarding")
    if resp.status == 404:
        api.token = login(api.url)
        return api.token
    if resp.status != 200:
        raise DemoError(f"GET /api/onboarding -> HTTP {resp.status}: {resp.text[:500]}")
    steps = {step["step"]: step["done"] for step in resp.body}
    if not steps.get("user"):
        created = api.call(
            "POST",
            "/api/onboarding/users",
            {
                "client_id": api.client_id,
                "name": DEMO_NAME,
                "username": DEMO_USERNAME,
                "password": DEMO_PASSWORD,
                "language": "en",
            },
        )
        token = _token_from_code(api, created["auth_code"])
    else:
        token = login(api.url)
    api.token = token
    if not steps.get("core_config"):
        api.call("POST", "/api/onboarding/core_config", {})
    if not steps.get("analytics"):
        api.call("POST", "/api/onboarding/analytics", {})
    if not steps.get("integration"):
        api.call(
            "POST",
            "/api/onboarding/integration",
            {"client_id": api.client_id, "redirect_uri": api.redirect_uri},
        )
    return token


def entries(api: HomeAssistantApi, domain: str) -> list[dict[str, Any]]:
    """Config entries of one domain."""
    return [
        entry
        for entry in api.call("GET", f"/api/config/config_entries/entry?domain={domain}")
        if entry["domain"] == domain
    ]


def form_defaults(schema: list[dict[str, Any]]) -> dict[str, Any]:
    """Return the values a form starts with in the frontend (its initial data) from its schema.

    Defaults and suggested values; for required fields without one, what the frontend fills in
    (false, "", the minimum, the first option); sections (`expandable`) nest their own. Answers
    are sent on top of this, as a person's input is: a form may grow required fields between
    releases (MQTT's broker step got a required `other_settings` section in 2026.x) and still
    be answered with the same input.
    """
    data: dict[str, Any] = {}
    for field in schema:
        name = field["name"]
        suggested = (field.get("description") or {}).get("suggested_value")
        selector = field.get("selector") or {}
        if suggested is not None:
            data[name] = suggested
        elif "default" in field:
            data[name] = field["default"]
        elif field.get("type") == "expandable":
            data[name] = form_defaults(field.get("schema", []))
        elif not field.get("required"):
            continue
        elif "boolean" in selector or field.get("type") == "boolean":
            data[name] = False
        elif "text" in selector or field.get("type") == "string":
            data[name] = ""
        elif "number" in selector:
            data[name] = selector["number"].get("min", 0)
        elif "select" in selector and selector["select"].get("options"):
            first = selector["select"]["options"][0]
            data[name] = first["value"] if isinstance(first, dict) else first
    return data


def _merged(base: dict[str, Any], answers: dict[str, Any]) -> dict[str, Any]:
    merged = dict(base)
    for key, value in answers.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = _merged(merged[key], value)
        else:
            merged[key] = value
    return merged


def run_flow(
    api: HomeAssistantApi, start: dict[str, Any], answers: dict[str, dict[str, Any]]
) -> dict[str, Any]:
    """Run a config flow to its end, answering each form step from `answers`.

    Each answer is sent over the form's initial data (`form_defaults`), as the frontend does.
    """
    result = api.call("POST", "/api/config/config_entries/flow", start)
    for _ in range(len(answers) + 1):
        if result["type"] != "form":
            return dict(result)
        if result.get("errors"):
            raise DemoError(f"{start['handler']} flow, step {result['step_id']}: {result}")
        step = result["step_id"]
        if step not in answers:
            raise DemoError(f"{start['handler']} flow asked for an unexpected step {step!r}")
        answer = _merged(form_defaults(result.get("data_schema") or []), answers[step])
        result = api.call("POST", f"/api/config/config_entries/flow/{result['flow_id']}", answer)
    if result["type"] == "form":
        raise DemoError(f"{start['handler']} flow did not finish: {result}")
    return dict(result)


def wait_loaded(api: HomeAssistantApi, domain: str, timeout: float, hass_pid: int | None) -> None:
    """Wait until the domain's first entry is loaded; fail early when it cannot load."""

    def loaded() -> bool:
        found = entries(api, domain)
        if found and found[0]["state"] in ("setup_error", "migration_error", "failed_unload"):
            raise SystemExit(f"demo: {domain} entry failed: {found[0]}")
        return bool(found) and found[0]["state"] == "loaded"

    wait_until(f"the {domain} entry to load", loaded, timeout, hass_pid)


def _stored_mqtt_port(config_dir: Path, entry_id: str) -> int | None:
    """Return the port an existing MQTT entry was saved with (REST does not show entry data)."""
    try:
        stored = json.loads((config_dir / ".storage" / "core.config_entries").read_text())
    except (OSError, ValueError):
        return None
    for entry in stored.get("data", {}).get("entries", []):
        if entry.get("entry_id") == entry_id:
            return entry.get("data", {}).get("port")
    return None


def ensure_mqtt(api: HomeAssistantApi, mqtt_port: int, config_dir: Path) -> str:
    """Add the MQTT integration on the demo broker (or point the existing entry at it)."""
    broker = {"broker": "127.0.0.1", "port": mqtt_port}
    found = entries(api, "mqtt")
    if not found:
        result = run_flow(api, {"handler": "mqtt"}, {"broker": broker})
        if result["type"] != "create_entry":
            raise DemoError(f"MQTT flow ended with {result}")
        return "added"
    entry_id = found[0]["entry_id"]
    if _stored_mqtt_port(config_dir, entry_id) == mqtt_port:
        return "kept"
    # The broker moved (another NVR_DEMO_MQTT_PORT): the reconfigure flow, as in the UI.
    result = run_flow(api, {"handler": "mqtt", "entry_id": entry_id}, {"broker": broker})
    if result.get("reason") != "reconfigure_successful":
        raise DemoError(f"MQTT reconfigure ended with {result}")
    return "reconfigured"


def ensure_nvr(api: HomeAssistantApi, video: Path) -> str:
    """Add NVR Inference on the looping objects scene, as the config flow's form would."""
    if entries(api, "nvr_inference"):
        return "kept"
    result = run_flow(
        api,
        {"handler": "nvr_inference", "show_advanced_options": False},
        {
            "user": {
                "name": NVR_TITLE,
                "sources": f"{SOURCE_NAME} = {video}",
                "loop": True,
                "detector": NVR_DETECTOR,
                "base_topic": NVR_BASE_TOPIC,
            }
        },
    )
    if result["type"] != "create_entry":
        raise DemoError(f"NVR Inference flow ended with {result}")
    return "added"


ENTITIES_TEMPLATE = """\
{%- set ns = namespace(out=[]) -%}
{%- for e in integration_entities('nvr_inference') -%}
{%- set d = device_id(e) -%}
{%- set ns.out = ns.out + [{'entity_id': e, 'state': states(e), 'device_id': d,
    'device': device_attr(d, 'name'),
    'hub': (device_attr(d, 'identifiers') | list | first | last) == config_entry_id(e)}] -%}
{%- endfor -%}
{{ ns.out | tojson }}"""


def nvr_entities(api: HomeAssistantApi) -> list[dict[str, Any]]:
    """Return the integration's entities with their device (hub or source) and state."""
    return list(json.loads(api.template(ENTITIES_TEMPLATE)))


def start_mqtt(
    demo_dir: Path,
    url: str,
    mqtt_port: int,
    hass_pid: int | None,
    ready_timeout: float = READY_TIMEOUT,
) -> tuple[HomeAssistantApi, str]:
    """Wait for Home Assistant, onboard, add MQTT and wait until it is loaded.

    Return the API, holding the demo user's access token (valid 30 minutes; `login()` gives a
    new one), and what happened to the MQTT entry (added, kept or reconfigured).
    """
    api = HomeAssistantApi(url)
    wait_until(
        "Home Assistant's HTTP server",
        lambda: api.request("GET", "/manifest.json", timeout=5).status == 200,
        ready_timeout,
        hass_pid,
    )
    onboard(api)
    wait_until(
        "Home Assistant to finish starting",
        lambda: api.call("GET", "/api/config").get("state") == "RUNNING",
        ready_timeout,
        hass_pid,
    )
    mqtt = ensure_mqtt(api, mqtt_port, demo_dir / "config")
    wait_loaded(api, "mqtt", 60, hass_pid)
    return api, mqtt


def configure(
    demo_dir: Path,
    url: str,
    mqtt_port: int,
    hass_pid: int | None,
    resume: bool,
    *,
    nvr_entry: bool = True,
) -> dict[str, Any]:
    """Onboard, add MQTT and NVR Inference, wait until they run; return what to print."""
    api, mqtt = start_mqtt(demo_dir, url, mqtt_port, hass_pid)
    if not nvr_entry:
        info = {"url": url, "mqtt_port": mqtt_port, "mqtt_entry": mqtt, "nvr_entry": "left out"}
        (demo_dir / "run" / "state.json").write_text(json.dumps(info, indent=2))
        return info
    nvr = ensure_nvr(api, video_path(demo_dir))
    wait_loaded(api, "nvr_inference", 120, hass_pid)

    def hub_ready() -> bool:
        ents = nvr_entities(api)
        return any(e["hub"] and e["entity_id"].startswith("switch.") for e in ents)

    wait_until("the NVR entities", hub_ready, 60, hass_pid)
    ents = nvr_entities(api)
    resumed = []
    if resume:
        for ent in ents:
            if ent["entity_id"].startswith("switch.") and ent["state"] == "on":
                api.call("POST", "/api/services/switch/turn_off", {"entity_id": ent["entity_id"]})
                resumed.append(ent["entity_id"])
    hub = next(e for e in ents if e["hub"])
    info = {
        "url": url,
        "username": DEMO_USERNAME,
        "password": DEMO_PASSWORD,
        "mqtt_port": mqtt_port,
        "mqtt_entry": mqtt,
        "nvr_entry": nvr,
        "device_id": hub["device_id"],
        "device_url": f"{url}/config/devices/device/{hub['device_id']}",
        "entities": ents,
        "resumed": resumed,
    }
    (demo_dir / "run" / "state.json").write_text(json.dumps(info, indent=2))
    return info


# ---------------------------------------------------------------------------------------------
# small helpers for the shell script


def summary(first_detection: Path, seconds: str) -> str:
    """One line about the first detection message mosquitto_sub printed (`topic payload`)."""
    line = first_detection.read_text().strip().splitlines()[0]
    topic, _, payload = line.partition(" ")
    message = json.loads(payload)
    classes: dict[str, int] = {}
    for det in message.get("detections", []):
        classes[det["class"]] = classes.get(det["class"], 0) + 1
    found = ", ".join(f"{n} x {c}" for c, n in classes.items()) or "an empty list"
    return (
        f"demo: OK: detections arrived on {topic} {seconds} s after the entry was set up "
        f"(frame {message.get('frame_id')}: {found}, model {message.get('model_id')})"
    )


def port_in_use(port: int) -> bool:
    """Return True when something listens on 127.0.0.1:port."""
    with socket.socket() as sock:
        sock.settimeout(1)
        return sock.connect_ex(("127.0.0.1", port)) == 0


def main(argv: list[str] | None = None) -> int:
    """Command line for scripts/demo."""
    parser = argparse.ArgumentParser(prog="demo_config.py")
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("prepare")
    p.add_argument("demo_dir", type=Path)
    p.add_argument("--http-port", type=int, required=True)
    p.add_argument("--mqtt-port", type=int, required=True)
    p.add_argument("--no-nvr", action="store_true", help="no NVR Inference, no sample video")
    c = sub.add_parser("configure")
    c.add_argument("demo_dir", type=Path)
    c.add_argument("--url", required=True)
    c.add_argument("--mqtt-port", type=int, required=True)
    c.add_argument("--hass-pid", type=int)
    c.add_argument("--resume", action="store_true")
    c.add_argument("--no-nvr", action="store_true", help="onboarding and MQTT only")
    s = sub.add_parser("summary")
    s.add_argument("file", type=Path)
    s.add_argument("seconds")
    u = sub.add_parser("port-in-use")
    u.add_argument("port", type=int)
    args = parser.parse_args(argv)

    try:
        if args.command == "prepare":
            prepare(args.demo_dir, args.http_port, args.mqtt_port, nvr=not args.no_nvr)
        elif args.command == "configure":
            info = configure(
                args.demo_dir,
                args.url,
                args.mqtt_port,
                args.hass_pid,
                args.resume,
                nvr_entry=not args.no_nvr,
            )
            if args.no_nvr:
                print(f"demo: MQTT integration {info['mqtt_entry']} (NVR Inference left out)")
                return 0
            print(
                f"demo: MQTT integration {info['mqtt_entry']}, "
                f"NVR Inference {info['nvr_entry']} (objects detector on the looping objects scene)"
            )
            for entity in info["resumed"]:
                print(f"demo: {entity} was on (restored pause): turned it off for --headless")
        elif args.command == "summary":
            print(summary(args.file, args.seconds))
        elif args.command == "port-in-use":
            return 0 if port_in_use(args.port) else 1
    except DemoError as err:
        print(f"demo: FAILED: {err}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
