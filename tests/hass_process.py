"""A real `hass` process for tests: its own config dir, a free HTTP port, MQTT on a given broker.

    with run_hass(tmp_path / "ha", broker.port) as hass:
        hass.api.call("GET", "/api/states")         # the REST API, with an onboarded user's token
        hass.state("switch.something")              # one state, or None

Home Assistant is set up the way scripts/demo sets it up (scripts/demo_config.py): a prepared
config dir (without NVR Inference), onboarding through its REST API, and the MQTT
integration added through its config flow (discovery on). Which `hass`: the argument, else
`$NVR_HASS`, else the one beside this Python (the lane's venv: run from .venv-ha-latest, it is
Home Assistant 2026.10.4 on Python 3.14). Home Assistant runs with `--skip-pip`, in its own
session, and listens on 127.0.0.1 only.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
import importlib.util
import os
from pathlib import Path
import signal
import subprocess
import sys
from types import ModuleType
from typing import Any

from .mqtt_helpers import free_port

REPO = Path(__file__).resolve().parents[1]


def _load_demo_config() -> ModuleType:
    """scripts/demo_config.py (a script, not a package): loaded from its file."""
    spec = importlib.util.spec_from_file_location(
        "nvr_demo_config", REPO / "scripts" / "demo_config.py"
    )
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses resolve annotations through sys.modules
    spec.loader.exec_module(module)
    return module


demo_config = _load_demo_config()


def hass_binary(explicit: Path | str | None = None) -> Path:
    """The `hass` to run: the argument, $NVR_HASS, or the one in this Python's venv."""
    found = Path(explicit or os.environ.get("NVR_HASS") or Path(sys.executable).parent / "hass")
    if not found.is_file():
        raise RuntimeError(f"no Home Assistant at {found}: run scripts/setup --ha-latest")
    return found


@dataclass
class HassProcess:
    """A running Home Assistant, onboarded, with MQTT set up."""

    process: subprocess.Popen[bytes]
    config_dir: Path
    url: str
    api: Any
    """demo_config.HomeAssistantApi, holding an access token of the onboarded user."""
    log: Path

    @property
    def token(self) -> str:
        """The access token (30 minutes; `relogin()` gets a new one)."""
        return str(self.api.token)

    def relogin(self) -> str:
        """Log in again through the login flow; the API uses the new token."""
        self.api.token = demo_config.login(self.url)
        return self.token

    def state(self, entity_id: str) -> dict[str, Any] | None:
        """The entity's state object from the REST API, or None when it has none."""
        resp = self.api.request("GET", f"/api/states/{entity_id}")
        if resp.status == 404:
            return None
        if resp.status != 200:
            raise demo_config.DemoError(f"GET /api/states/{entity_id} -> HTTP {resp.status}")
        return dict(resp.body)

    def wait_until(self, what: str, check: Any, timeout: float = 60) -> None:
        """Poll `check` over the REST API until it holds; fail at once if hass exits."""
        demo_config.wait_until(what, check, timeout, self.process.pid, interval=0.2)

    def output(self) -> str:
        """Home Assistant's log so far."""
        return self.log.read_text(errors="replace") if self.log.exists() else ""

    def stop(self, timeout: float = 60) -> int:
        """SIGTERM, wait for the exit (SIGKILL after `timeout` s); return the exit code."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(10)
        return self.process.returncode


@contextmanager
def run_hass(
    directory: Path,
    mqtt_port: int,
    *,
    hass: Path | str | None = None,
    env: dict[str, str] | None = None,
    timeout: float = demo_config.READY_TIMEOUT,
    configuration: str = "",
    files: Mapping[str, bytes] | None = None,
) -> Iterator[HassProcess]:
    """Start Home Assistant in `directory` with MQTT on 127.0.0.1:`mqtt_port`; stop it after.

    `configuration` is appended to configuration.yaml (e.g. `automation: !include
    automations.yaml`), `files` are written into the config dir first (relative path -> bytes,
    e.g. a blueprint). Returns once onboarding is done and the MQTT entry is loaded. On failure
    the error carries the end of Home Assistant's log.
    """
    binary = hass_binary(hass)
    http_port = free_port()
    demo_config.prepare(directory, http_port, mqtt_port, nvr=False)
    config_dir = directory / "config"
    if configuration:
        with (config_dir / "configuration.yaml").open("a", encoding="utf-8") as yaml:
            yaml.write("\n" + configuration)
    for relative, content in (files or {}).items():
        target = config_dir / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(content)
    log = directory / "logs" / "home-assistant.log"
    console = directory / "logs" / "hass-console.log"
    with console.open("ab") as out:
        process = subprocess.Popen(
            [str(binary), "-c", str(config_dir), "--skip-pip", "--log-file", str(log)],
            stdout=out,
            stderr=subprocess.STDOUT,
            env={**os.environ, **(env or {})},
            start_new_session=True,
        )
    url = f"http://127.0.0.1:{http_port}"
    running = HassProcess(process, config_dir, url, None, log)
    try:
        try:
            running.api, _mqtt = demo_config.start_mqtt(
                directory, url, mqtt_port, process.pid, timeout
            )
        except (demo_config.DemoError, SystemExit) as err:
            tail = "\n".join((running.output() or console.read_text()).splitlines()[-40:])
            raise RuntimeError(f"Home Assistant did not come up: {err}\n{tail}") from err
        yield running
    finally:
        running.stop()
