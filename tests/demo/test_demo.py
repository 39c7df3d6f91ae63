"""The demo as a person runs it: scripts/demo, a real Home Assistant, its UI in Chromium.

Each test runs `scripts/demo` as a subprocess on free ports and a fresh NVR_DEMO_DIR, watches the
demo's own broker with an independent paho client, and stops the demo the way a person does
(the script's own --headless exit, or SIGTERM like Ctrl-C). The browser test logs into the real
frontend in headless Chromium (Debian's, driven by Playwright: nothing downloads a browser),
opens the NVR device page and turns the pause switch on with a click; the broker must then say
`"paused": true` in the retained status, and not one detection may follow the acknowledgement.
Screenshots go to artifacts/demo/.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
import importlib
import json
import os
from pathlib import Path
import re
import select
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from types import SimpleNamespace
from typing import Any

import pytest

from ..mqtt_helpers import Received, Subscriber, free_port, is_detection, is_status

REPO = Path(__file__).resolve().parents[2]
DEMO = REPO / "scripts" / "demo"
ARTIFACTS = REPO / "artifacts" / "demo"
DEMO_REQUIREMENTS = REPO / "requirements" / "demo.txt"
CONSTRAINTS = REPO / ".venv" / "nvr-constraints.txt"

STARTUP_TIMEOUT = 240.0
"""Seconds scripts/demo gets to be ready (setup is a no-op after scripts/test; HA takes ~10 s)."""

CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    # Nothing but the demo on 127.0.0.1 resolves (the frontend links brand images on the web).
    "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
]

# A fresh machine also installs requirements/demo.txt: hence the long timeout.
pytestmark = [pytest.mark.pipeline, pytest.mark.timeout(480)]


# ---------------------------------------------------------------------------------------------
# the demo as a subprocess


class Demo:
    """scripts/demo running on free ports in its own directory, output to a file."""

    def __init__(self, tmp_path: Path, *args: str) -> None:
        """Start `scripts/demo ARGS` with NVR_DEMO_DIR, NVR_DEMO_HTTP_PORT/MQTT_PORT set."""
        self.dir = tmp_path / "demo"
        self.http_port = free_port()
        self.mqtt_port = free_port()
        while self.mqtt_port == self.http_port:
            self.mqtt_port = free_port()
        self.output_file = tmp_path / "demo-output.txt"
        env = {
            **os.environ,
            "NVR_DEMO_DIR": str(self.dir),
            "NVR_DEMO_HTTP_PORT": str(self.http_port),
            "NVR_DEMO_MQTT_PORT": str(self.mqtt_port),
        }
        with self.output_file.open("wb") as out:
            self.process = subprocess.Popen(
                [str(DEMO), *args],
                cwd=REPO,
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    @property
    def broker(self) -> Any:
        """The demo's broker, as mqtt_helpers.Subscriber wants it (host and port)."""
        return SimpleNamespace(host="127.0.0.1", port=self.mqtt_port)

    def output(self) -> str:
        """Everything the script printed so far."""
        return self.output_file.read_text(errors="replace")

    def wait_ready(self, timeout: float = STARTUP_TIMEOUT) -> dict[str, Any]:
        """Wait until the script has set Home Assistant up; return its run/state.json."""
        state_file = self.dir / "run" / "state.json"
        self._wait(
            lambda: state_file.exists() and "demo: running" in self.output(),
            timeout,
            "scripts/demo to be ready",
        )
        return dict(json.loads(state_file.read_text()))

    def wait_broker(self, timeout: float = STARTUP_TIMEOUT) -> None:
        """Wait until the demo's mosquitto accepts connections."""
        self._wait(lambda: _listening(self.mqtt_port), timeout, "the demo's mosquitto")

    def _wait(self, done: Callable[[], bool], timeout: float, what: str) -> None:
        deadline = time.monotonic() + timeout
        pause = threading.Event()
        while not done():
            if self.process.poll() is not None:
                pytest.fail(
                    f"scripts/demo exited ({self.process.returncode}) before {what}:\n"
                    f"{self.output()[-6000:]}"
                )
            if time.monotonic() > deadline:
                pytest.fail(f"timed out after {timeout} s waiting for {what}:\n{self.output()}")
            pause.wait(0.2)

    def stop(self, timeout: float = 90) -> int:
        """SIGTERM the script (what Ctrl-C does) and wait for it; return its exit code."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        try:
            return self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(10)
            pytest.fail(f"scripts/demo did not stop within {timeout} s:\n{self.output()}")

    def leftovers(self) -> list[int]:
        """Processes still running whose command line names this demo's directory."""
        return _processes_mentioning(str(self.dir))

    def cleanup(self, name: str) -> None:
        """Stop the script, then anything it started that is still alive; keep the logs."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(90)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(10)
        for pid in self.leftovers():  # only if the script itself died: ours, by id
            _terminate(pid)
        logs = ARTIFACTS / f"logs-{name}"
        shutil.rmtree(logs, ignore_errors=True)
        if (self.dir / "logs").is_dir():
            shutil.copytree(self.dir / "logs", logs)
        if logs.is_dir():
            shutil.copy(self.output_file, logs / "scripts-demo-output.txt")


@contextmanager
def running_demo(tmp_path: Path, name: str, *args: str) -> Iterator[Demo]:
    """Run scripts/demo for the block; always stop it and everything it started."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    demo = Demo(tmp_path, *args)
    try:
        yield demo
    finally:
        demo.cleanup(name)


def _listening(port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(0.5)
        return sock.connect_ex(("127.0.0.1", port)) == 0


def _processes_mentioning(text: str) -> list[int]:
    found = []
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            cmdline = (proc / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
            state = (proc / "stat").read_text().rsplit(")", 1)[-1].split()[0]
        except OSError:
            continue
        if text in cmdline and state != "Z":
            found.append(int(proc.name))
    return found


def _terminate(pid: int) -> None:
    """SIGTERM a process that is not our child, wait for its exit (a pidfd event), else kill."""
    try:
        pidfd = os.pidfd_open(pid)
    except ProcessLookupError:
        return
    try:
        os.kill(pid, signal.SIGTERM)
        exited, _, _ = select.select([pidfd], [], [], 10)  # readable when the process exits
        if not exited:
            os.kill(pid, signal.SIGKILL)
    except ProcessLookupError:
        return
    finally:
        os.close(pidfd)


@contextmanager
def subscribed(demo: Demo, topics: list[str], client_id: str) -> Iterator[Subscriber]:
    """An independent paho client on the demo's broker, closed at the end of the block."""
    sub = Subscriber(demo.broker, topics, client_id=client_id)
    try:
        yield sub
    finally:
        sub.close()


def _paused(value: bool) -> Callable[[Received], bool]:
    return is_status(lambda status: status.get("paused") is value)


# ---------------------------------------------------------------------------------------------
# 1. scripts/demo --headless


def test_demo_headless(socket_enabled: None, tmp_path: Path) -> None:
    """Fresh dir, free ports: set up, a detection arrives, everything stops, exit 0."""
    with running_demo(tmp_path, "headless", "--headless") as demo:
        demo.wait_broker()
        with subscribed(demo, ["nvr/#"], "nvr-demo-test-headless") as sub:
            code = demo.process.wait(STARTUP_TIMEOUT)
            output = demo.output()
            assert code == 0, output
            summary = [line for line in output.splitlines() if line.startswith("demo: OK:")]
            assert len(summary) == 1, output
            assert "detections arrived on nvr/detections/0" in summary[0]
            assert "1 x person" in summary[0] and "model objects" in summary[0]

            # The independent client saw it too: the status, then the objects detector's first
            # find, the person (in the objects scene the motorcycle comes first, but it is not
            # one of the detector's default classes; the cat comes 2 s after the person), then,
            # as Home Assistant stopped (before the broker), the integration going offline.
            running = sub.wait_for(_paused(False), timeout=1)
            detection = sub.wait_for(
                lambda m: is_detection(0)(m) and bool(m.json()["detections"]),
                timeout=1,
                after=running.seq,
            )
            body = detection.json()
            assert body["model_id"] == "objects"
            assert body["detections"]
            assert {d["class"] for d in body["detections"]} == {"person"}
            sub.wait_for(
                lambda m: m.topic == "nvr/availability"
                and json.loads(m.payload)["state"] == "offline",
                timeout=1,
                after=detection.seq,
            )
        assert demo.leftovers() == [], "scripts/demo left processes running"
        for log in ("home-assistant.log", "mosquitto.log"):
            assert (demo.dir / "logs" / log).stat().st_size > 0
            assert str(demo.dir / "logs" / log) in output
        assert "demo / demo-nvr-1234" in output
        assert f"mosquitto_sub -h 127.0.0.1 -p {demo.mqtt_port} -t 'nvr/#' -v" in output


# ---------------------------------------------------------------------------------------------
# 2. the pause switch, clicked in the real frontend


def ensure_chromium() -> str:
    """Return Debian's Chromium, installing it once with apt-get when it is missing."""
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if found is None and os.geteuid() == 0 and shutil.which("apt-get"):
        env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
        subprocess.run(
            ["apt-get", "update", "-qq"], env=env, capture_output=True, timeout=300, check=False
        )
        install = subprocess.run(
            ["apt-get", "install", "-y", "-qq", "chromium"],
            env=env,
            capture_output=True,
            text=True,
            timeout=600,
            check=False,
        )
        found = shutil.which("chromium")
        if found is None:
            pytest.fail(f"apt-get install chromium failed:\n{install.stdout}\n{install.stderr}")
    if found is None:
        pytest.fail(
            "The browser test needs Chromium and could not install it (needs root and apt-get): "
            "install Debian's `chromium` package, then run the tests again."
        )
    return found


def ensure_playwright() -> Any:
    """Return playwright's sync_playwright, installing requirements/demo.txt once if missing."""
    try:
        module = importlib.import_module("playwright.sync_api")
    except ImportError:
        pip = [sys.executable, "-m", "pip", "install", "-q"]
        subprocess.run(
            [*pip, "-c", str(CONSTRAINTS), "-r", str(DEMO_REQUIREMENTS)],
            check=True,
            timeout=600,
        )
        importlib.invalidate_caches()
        module = importlib.import_module("playwright.sync_api")
    return module


def _only_the_demo(url: str) -> Callable[[Any], None]:
    """A route handler: requests to the demo go through, anything else is refused."""

    def handle(route: Any) -> None:
        if route.request.url.startswith((url, "data:", "blob:")):
            route.continue_()
        else:
            route.abort()

    return handle


def test_browser_pause_switch(socket_enabled: None, tmp_path: Path) -> None:
    """Log in as the demo user, click the pause switch on the NVR device page, check MQTT."""
    chromium = ensure_chromium()
    playwright = ensure_playwright()
    expect = playwright.expect
    shots = []

    with running_demo(tmp_path, "browser") as demo:
        state = demo.wait_ready()
        url, entities = state["url"], state["entities"]
        hub = next(e for e in entities if e["hub"] and e["entity_id"].startswith("switch."))
        snapshot = next(e for e in entities if re.match(r"image\..*_snapshot$", e["entity_id"]))

        with (
            subscribed(demo, ["nvr/#"], "nvr-demo-test-browser") as sub,
            playwright.sync_playwright() as pw,
        ):
            sub.wait_for(_paused(False), timeout=30)
            sub.wait_for(is_detection(0), timeout=60)
            browser = pw.chromium.launch(
                executable_path=chromium, headless=True, args=CHROMIUM_ARGS
            )
            try:
                context = browser.new_context(
                    viewport={"width": 1280, "height": 960}, locale="en-US"
                )
                context.route("**/*", _only_the_demo(url))
                page = context.new_page()
                page.set_default_timeout(60_000)

                def shot(name: str) -> None:
                    path = ARTIFACTS / f"{name}.png"
                    page.screenshot(path=str(path))
                    shots.append(path)

                # The login page, as a person sees it.
                page.goto(url)
                page.locator("input[name=username]").fill(state["username"])
                page.locator("input[name=password]").fill(state["password"])
                shot("01-login")
                page.get_by_role("button", name="Log in").click()
                page.wait_for_url(lambda u: "/auth/" not in u and "auth_callback" not in u)

                # The source's device: its snapshot, boxes drawn, as a person opens it.
                page.goto(f"{url}/config/devices/device/{snapshot['device_id']}")
                try:
                    page.get_by_text("Snapshot", exact=True).click()
                except playwright.Error:
                    # Seen once on a fresh clone (issue 20, item 8), not reproduced since: keep
                    # what the page showed, for whoever meets it next.
                    shot("failed-source-device-page")
                    (ARTIFACTS / "failed-source-device-page.html").write_text(page.content())
                    raise
                image = page.locator("more-info-image img")
                expect(image).to_be_visible()
                page.wait_for_function(
                    "img => img.complete && img.naturalWidth > 0", arg=image.element_handle()
                )
                assert image.evaluate("img => img.naturalWidth") == 640
                shot("02-source-snapshot")

                # The NVR device page: the pause switch and the state sensor.
                page.goto(state["device_url"])
                # Its accessible name is "Toggle <device> Pause detections on".
                toggle = page.get_by_role(
                    "switch", name=re.compile(re.escape(f"{hub['device']} Pause detections"))
                )
                expect(toggle).to_be_visible()
                expect(toggle).not_to_be_checked()
                sensors = page.locator("ha-device-entities-card", has_text="Sensors")
                expect(sensors.get_by_text("State", exact=True)).to_be_visible()
                expect(sensors).to_contain_text("Running")
                shot("03-device-running")

                # Click. The retained status is the acknowledgement; the UI follows.
                before = sub.messages[-1].seq if sub.messages else -1
                toggle.click()
                ack = sub.wait_for(_paused(True), timeout=30, after=before)
                assert ack.json()["reason"] == "switch"
                expect(toggle).to_be_checked()
                expect(sensors).to_contain_text("Paused")
                shot("04-device-paused")
            finally:
                browser.close()

            # A client that connects now gets the retained status: paused.
            with subscribed(demo, ["nvr/control/status"], "nvr-demo-test-retained") as late:
                retained = late.wait_for(lambda m: m.topic == "nvr/control/status", timeout=10)
                assert retained.retain
                assert retained.json()["paused"] is True
            # Not one detection after the acknowledgement, up to a barrier: a status request
            # that Home Assistant answers after everything published before it.
            mark = sub.messages[-1].seq
            sub.publish("nvr/control/commands", json.dumps({"command": "status"}))
            barrier = sub.wait_for(
                lambda m: m.topic == "nvr/control/status", timeout=30, after=mark
            )
            assert barrier.json()["paused"] is True
            assert sub.count(is_detection(), after=ack.seq, before=barrier.seq) == 0

        code = demo.stop()
        assert code in (0, 143), demo.output()
        assert demo.leftovers() == [], "scripts/demo left processes running after SIGTERM"
    assert shots, "no screenshots were taken"
    for path in shots:
        assert path.stat().st_size > 10_000, path
