"""The newest Home Assistant discovers the standalone worker, as Home Assistant OS users see it.

Issues 13 and 14. Every Home Assistant 2026.3+ runs on Python 3.14, where the pipeline does not
install, so there the worker is the only way: this test runs in the ha-latest lane (a real
`hass` of Home Assistant 2026.10.4, tests/hass_process.py) with the worker as a subprocess of a
pipeline venv (Python 3.11-3.13; `worker_command()` says which). Real parts only: mosquitto,
Home Assistant, the worker with two sources (Porch: a looping sample video with a zone and a
line; Gate: a real RTSP camera, tests/rtsp_camera.py), and an independent MQTT client that
checks the fence. Home Assistant is read only through its REST API and its websocket API (the
registries, and every state change, so "never showed a stale value" is checked, not sampled).

What the worker's discovery must give (the spec of the worker's discovery, README *Entities*):

1. A hub device named after `--name`, one device per source (named after the source, via the
   hub); every component of every retained discovery config is an entity; entity ids as the
   embedded integration's; the hub carries the package version.
2. The global pause switch pauses (fence: no detection after the acknowledgement); every live
   entity of both sources turns unavailable; the switches and state sensors say paused.
3. One source's switch pauses only that source.
4. Restarted into a pause, nothing stale shows: not while paused, not after the resume.
5. A camera that goes away: its live entities unavailable, its state sensor says why, the
   other source unaffected.
6. The blueprint that pauses a camera accepts the worker's switches, and drives them.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import ExitStack
import json
import os
from pathlib import Path
import re
import shlex
import shutil
import subprocess
import time
from typing import Any

import pytest

from ..blueprint_selectors import (
    blueprint_paths,
    load_blueprint,
    selector_offers,
    switch_pickers,
)
from ..hass_process import HassProcess, run_hass
from ..hass_websocket import HassWebSocket, StateChange
from ..mqtt_helpers import Broker, Received, Subscriber, free_port
from ..rtsp_camera import rtsp_camera
from .conftest import (
    WorkerProcess,
    barrier,
    detection_of,
    last_seq,
    status_of,
    worker_env,
)

pytestmark = pytest.mark.ha_latest

ROOT = Path(__file__).resolve().parents[2]
NAME = "garage"
NODE = f"nvr_worker_{NAME}"
BASE = "nvr"
PREFIX = "homeassistant"
DISCOVERY = re.compile(rf"{PREFIX}/device/([^/]+)/config")
VERSION = json.loads((ROOT / "custom_components/nvr_inference/manifest.json").read_text())[
    "version"
]
PAUSE_BLUEPRINT = "nvr_inference/pause_while_home.yaml"

PORCH, GATE = 0, 1
SLUG = {PORCH: "porch", GATE: "gate"}
DISPLAY = {PORCH: "Porch", GATE: "Gate"}
ZONE = "bottom: 0,0.5 1,0.5 1,1 0,1"
LINE = "line middle: 0.5,0 0.5,1"

HUB_SWITCH = f"switch.{NAME}_pause_detections"
HUB_STATE = f"sensor.{NAME}_state"
HUB_UNIQUE_IDS = {HUB_SWITCH: f"{NODE}_pause", HUB_STATE: f"{NODE}_state"}
UNAVAILABLE = "unavailable"


def pause_switch(sid: int) -> str:
    """The source's own pause switch."""
    return f"switch.{SLUG[sid]}_pause_detections"


def state_sensor(sid: int) -> str:
    """The source's state sensor."""
    return f"sensor.{SLUG[sid]}_state"


def spec_live_entities(sid: int) -> set[str]:
    """The spec's per-source entities that show current data (the motion detector: `motion`)."""
    s = SLUG[sid]
    found = {
        f"sensor.{s}_objects",
        f"sensor.{s}_processing_rate",
        f"sensor.{s}_inference_latency",
        f"binary_sensor.{s}_motion_occupancy",
        f"image.{s}_snapshot",
        f"event.{s}_object_events",  # tracking is on by default
    }
    if sid == PORCH:  # the zone drawn on Porch (README: Entities)
        found |= {
            "binary_sensor.porch_bottom_motion_occupancy",
            "sensor.porch_bottom_motion_count",
        }
    return found


def history_entities(sid: int) -> set[str]:
    """The per-source entities that show the past, not the present: they stay available.

    The latest event's picture is dated by the event; line crossings are running totals.
    Neither claims to be what the camera sees now, so a pause does not hide them.
    """
    found = {f"image.{SLUG[sid]}_last_event"}
    if sid == PORCH:  # the line drawn on Porch
        found |= {"sensor.porch_middle_in", "sensor.porch_middle_out"}
    return found


# -- the worker ---------------------------------------------------------------------------------


def worker_command() -> list[str]:
    """The `nvr-inference` command of a pipeline venv (this lane's Python cannot run it).

    `$NVR_WORKER_CMD` (scripts/test's ha-latest lane sets it; the image lane: the worker image
    through `scripts/image worker-cmd`), else the light venv running the
    repository's sources, else the worker311 lane's installed command. None: fail, never skip.
    """
    given = shlex.split(os.environ.get("NVR_WORKER_CMD", ""))
    if given:
        if shutil.which(given[0]) is None:
            pytest.fail(
                f"NVR_WORKER_CMD names {given[0]}, which is not there: run scripts/setup "
                "--worker311 (or scripts/setup), or point it at an `nvr-inference` command",
                pytrace=False,
            )
        return given
    light = ROOT / ".venv" / "bin" / "python"
    if light.is_file():
        return [str(light), "-m", "custom_components.nvr_inference.engine.worker.cli"]
    installed = ROOT / ".venv-worker311" / "bin" / "nvr-inference"
    if installed.is_file():
        return [str(installed)]
    pytest.fail(
        "no worker to run: this test needs the pipeline's venv (Python 3.11-3.13) beside Home "
        "Assistant's. Run scripts/setup (the light venv, .venv) or scripts/setup --worker311, "
        "or set NVR_WORKER_CMD to an `nvr-inference` command",
        pytrace=False,
    )


def make_video(command: list[str], path: Path, *args: str) -> Path:
    """Write a sample video with the worker's own Python (OpenCV is not in this venv)."""
    done = subprocess.run(
        [*command, "sample-video", str(path), *args],
        cwd=ROOT,
        env=worker_env(),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    if done.returncode != 0 or not path.is_file():
        pytest.fail(
            f"`{shlex.join(command)} sample-video` failed ({done.returncode}): "
            f"{done.stderr.strip()[-500:]}; is that venv set up (scripts/setup)?",
            pytrace=False,
        )
    return path


class Workers:
    """Start the worker (again); every one still running at the end is killed."""

    def __init__(
        self, command: list[str], directory: Path, files: Path, broker: Broker, camera_port: int
    ):
        self.command = command
        self.directory = directory
        self.broker = broker
        self.camera_port = camera_port
        self.state_file = files / "state" / f"{NODE}.json"  # kept across restarts
        self.started: list[WorkerProcess] = []

    def start(self, porch_video: Path) -> WorkerProcess:
        """A worker named `garage`: Porch (the video, looping), Gate (the RTSP camera)."""
        n = len(self.started)
        out, err = self.directory / f"worker{n}.out", self.directory / f"worker{n}.err"
        args = ["--mqtt-port", str(self.broker.port), "--name", NAME, "--base-topic", BASE]
        args += ["--detector", "motion", "--loop", "--max-fps", "5"]
        args += ["--state-file", str(self.state_file)]
        args += ["--source", f"{DISPLAY[PORCH]}={porch_video}"]
        args += ["--source", f"{DISPLAY[GATE]}=rtsp://127.0.0.1:{self.camera_port}/cam"]
        args += ["--zone", f"{DISPLAY[PORCH]}={ZONE}", "--zone", f"{DISPLAY[PORCH]}={LINE}"]
        with out.open("wb") as stdout, err.open("wb") as stderr:
            process = subprocess.Popen(
                [*self.command, "worker", *args],
                cwd=ROOT,
                env=worker_env(),
                stdout=stdout,
                stderr=stderr,
            )
        worker = WorkerProcess(process, out, err, BASE)
        self.started.append(worker)
        return worker

    def output(self) -> str:
        """The end of every worker's output."""
        return "\n".join(
            f"--- worker {i} ---\n" + "\n".join(w.output().splitlines()[-30:])
            for i, w in enumerate(self.started)
        )

    def kill_all(self) -> None:
        """Kill what is still running."""
        for worker in self.started:
            if worker.process.poll() is None:
                worker.process.kill()
                worker.process.wait(10)


# -- Home Assistant's side -----------------------------------------------------------------------

States = dict[str, StateChange]
Problems = Callable[[States], list[str]]


class Mirror:
    """Home Assistant's current states, kept from the websocket's state changes (no polling)."""

    def __init__(self, ws: HassWebSocket) -> None:
        self.ws = ws

    def settle(self, what: str, problems: Problems, timeout: float = 60) -> States:
        """Wait until `problems(states)` finds none; fail with the ones left at the timeout."""
        left: list[str] = []

        def settled(states: States) -> bool:
            left[:] = problems(states)
            return not left

        states = self.ws.wait_states(settled, timeout)
        if states is None:
            raise AssertionError(f"{what}: after {timeout:g} s still " + "; ".join(left))
        return states


def expect(
    problems: list[str], states: States, entity_id: str, want: str | Callable[[str], bool]
) -> None:
    """Note a problem unless `entity_id`'s state is `want` (or satisfies it)."""
    found = states.get(entity_id)
    actual = None if found is None else found.state
    ok = actual is not None and (want(actual) if callable(want) else actual == want)
    if not ok:
        wanted = getattr(want, "__doc__", None) if callable(want) else repr(want)
        problems.append(f"{entity_id} is {actual!r} (want {wanted})")


def available(state: str) -> bool:
    """not 'unavailable'"""
    return state != UNAVAILABLE


def attribute(states: States, entity_id: str, key: str) -> Any:
    """An attribute of an entity's current state (None when absent)."""
    found = states.get(entity_id)
    return None if found is None else found.attributes.get(key)


def service(hass: HassProcess, domain: str, name: str, data: dict[str, Any]) -> None:
    """Call a service through the REST API, as a dashboard or a script does."""
    hass.api.call("POST", f"/api/services/{domain}/{name}", data)


def discovery_configs(sub: Subscriber) -> dict[str, dict[str, Any]]:
    """The worker's retained discovery configs as the broker holds them: node -> config."""
    found: dict[str, dict[str, Any] | None] = {}
    for message in sub.select(lambda m: bool(DISCOVERY.fullmatch(m.topic))):
        node = DISCOVERY.fullmatch(message.topic)[1]  # type: ignore[index]
        if node == NODE or node.startswith(f"{NODE}_"):
            found[node] = json.loads(message.payload) if message.payload else None
    return {node: config for node, config in found.items() if config}


def components(configs: dict[str, dict[str, Any]]) -> list[tuple[str, str, str]]:
    """Every component of every config: (node, platform, unique_id); abbreviations read."""
    found = []
    for node, config in configs.items():
        for key, component in (config.get("cmps") or config.get("components") or {}).items():
            platform = component.get("p", component.get("platform"))
            unique_id = component.get("unique_id", component.get("uniq_id"))
            assert platform, f"{node}: component {key} has no platform"
            assert unique_id, f"{node}: component {key} has no unique_id"
            found.append((node, str(platform), str(unique_id)))
    return found


def entity_registry(ws: HassWebSocket) -> dict[str, dict[str, Any]]:
    """Home Assistant's entity registry: entity_id -> entry."""
    return {e["entity_id"]: e for e in ws.call("config/entity_registry/list")}


def device_registry(ws: HassWebSocket) -> dict[str, dict[str, Any]]:
    """Home Assistant's device registry: device id -> entry."""
    return {d["id"]: d for d in ws.call("config/device_registry/list")}


def last_detection_count(sub: Subscriber, sid: int, before: int) -> int | None:
    """How many objects the camera saw in its last frame before seq `before`.

    A pause clears what the last message said with an empty one (`"paused": true`) before
    its acknowledgement; that one is the clearing, not a frame the camera saw.
    """
    found = [
        m for m in sub.select(detection_of(BASE, sid), before=before) if not m.json().get("paused")
    ]
    return len(found[-1].json()["detections"]) if found else None


def retained_status(broker: Broker) -> dict[str, Any]:
    """The status the broker keeps: what a client connecting now is told first."""
    topic = f"{BASE}/control/status"
    late = Subscriber(broker, [topic], client_id="nvr-device-page-late")
    try:
        first = late.wait_for(lambda m: m.topic == topic, 10)
    finally:
        late.close()
    assert first.retain, "the status is not retained"
    return dict(first.json())


def status_where(predicate: Callable[[dict[str, Any]], bool]) -> Callable[[Received], bool]:
    """Match the worker's status messages whose body satisfies `predicate`."""
    return status_of(BASE, predicate)


# -- the test -------------------------------------------------------------------------------------


def worker_files(tmp_path: Path) -> Path:
    """The folder of the worker's own files (its videos, its state file), open to every user.

    The worker may be the image (the image lane's `scripts/image worker-cmd`): it runs as the
    image's user (uid 1000) with this folder bind-mounted, and pytest's folders belong to the
    user running the tests. Opening this one opens nothing to the machine's other users:
    pytest's base folder above it is private (0700); only the container, which is given this
    folder's path itself, reaches it. Home Assistant's folder stays beside it, not inside.
    """
    files = tmp_path / "worker"
    files.mkdir()
    files.chmod(0o777)
    return files


@pytest.fixture
def scene(tmp_path: Path) -> dict[str, Any]:
    """The worker command, its files' folder and two videos: the moving scene, a still one."""
    command = worker_command()
    files = worker_files(tmp_path)
    return {
        "command": command,
        "files": files,
        "moving": make_video(command, files / "porch.avi", "--frames", "90"),
        "still": make_video(command, files / "still.avi", "--frames", "10"),
    }


def blueprint_files() -> dict[str, bytes]:
    """The shipped blueprints, where Home Assistant looks for them."""
    return {
        f"blueprints/automation/nvr_inference/{path.name}": path.read_bytes()
        for path in blueprint_paths()
    }


AUTOMATIONS = "automation: !include automations.yaml\n"


def test_worker_devices_entities_and_pause_in_the_newest_home_assistant(
    tmp_path: Path, broker: Broker, subscriber: Subscriber, scene: dict[str, Any]
) -> None:
    camera_port = free_port()
    workers = Workers(scene["command"], tmp_path, scene["files"], broker, camera_port)
    files = {**blueprint_files(), "automations.yaml": b"[]\n"}
    started = time.monotonic()
    with ExitStack() as stack:
        camera = stack.enter_context(rtsp_camera(camera_port))
        hass = stack.enter_context(
            run_hass(tmp_path / "ha", broker.port, configuration=AUTOMATIONS, files=files)
        )
        ws = stack.enter_context(HassWebSocket(hass.url, hass.token))
        stack.callback(workers.kill_all)
        mirror = Mirror(ws)
        try:
            worker = workers.start(scene["moving"])
            live = _discovered(hass, ws, mirror, subscriber)
            _global_pause(hass, mirror, subscriber, broker, live)
            _one_source_paused(hass, ws, mirror, subscriber, live)
            _blueprint_drives_the_switches(hass, ws, mirror, subscriber)
            _camera_goes_away(ws, mirror, subscriber, live, camera)
            stack.enter_context(rtsp_camera(camera_port))  # back, for the restart's probe
            worker = _restart_into_a_pause(
                hass, ws, mirror, subscriber, live, workers, worker, scene
            )
            code, _took = worker.stop(20)
            assert code == 0, worker.output()
            every = {e for sid in live for e in live[sid] | history_entities(sid)}
            every |= {HUB_SWITCH, HUB_STATE}
            every |= {pause_switch(s) for s in live} | {state_sensor(s) for s in live}
            mirror.settle(
                "the worker stopped: every entity follows its availability",
                lambda st: [p for e in sorted(every) for p in _problems_of(st, e, UNAVAILABLE)],
                30,
            )
        except BaseException as err:
            err.add_note(workers.output())
            logged = [
                line
                for line in hass.output().splitlines()
                if " WARNING " in line or " ERROR " in line
            ]
            err.add_note("--- Home Assistant's warnings ---\n" + "\n".join(logged[-30:]))
            raise
        code = hass.stop()
    assert code == 0, hass.output()[-2000:]
    log = hass.output()
    assert "Traceback" not in log, log[-3000:]
    mqtt_errors = [line for line in log.splitlines() if "ERROR" in line and ".mqtt" in line]
    assert mqtt_errors == [], mqtt_errors
    print(f"device page scenario: {time.monotonic() - started:.0f} s")  # noqa: T201


def _problems_of(states: States, entity_id: str, want: str | Callable[[str], bool]) -> list[str]:
    found: list[str] = []
    expect(found, states, entity_id, want)
    return found


# -- 1. discovery ----------------------------------------------------------------------------


def _discovered(
    hass: HassProcess, ws: HassWebSocket, mirror: Mirror, sub: Subscriber
) -> dict[int, set[str]]:
    """Step 1; returns each source's live entities (everything but its switch and state)."""
    sub.wait_for(
        status_where(lambda s: all(v["state"] == "running" for v in s["sources"].values())), 90
    )
    sub.wait_for(detection_of(BASE, PORCH), 30)
    sub.wait_for(detection_of(BASE, GATE), 30)
    configs = discovery_configs(sub)
    assert set(configs) == {NODE, f"{NODE}_s{PORCH}", f"{NODE}_s{GATE}"}, (
        "one retained config for the hub and one per source, on "
        f"{PREFIX}/device/<node>[_s<id>]/config; found {sorted(configs)}"
    )
    wanted = components(configs)
    registry: dict[str, dict[str, Any]] = {}

    def missing() -> list[tuple[str, str, str]]:
        registry.clear()
        registry.update(entity_registry(ws))
        have = {
            (e["platform"], e["entity_id"].split(".")[0], e["unique_id"]) for e in registry.values()
        }
        return [c for c in wanted if ("mqtt", c[1], c[2]) not in have]

    hass.wait_until("every discovered component as an entity", lambda: not missing(), 60)
    by_unique = {e["unique_id"]: e for e in registry.values() if e["platform"] == "mqtt"}

    devices = device_registry(ws)

    def device_of(node: str) -> dict[str, Any]:
        ids = configs[node]["dev"].get("ids", configs[node]["dev"].get("identifiers"))
        ids = [ids] if isinstance(ids, str) else ids
        matches = [d for d in devices.values() if any(["mqtt", i] in d["identifiers"] for i in ids)]
        assert len(matches) == 1, f"{node}: devices {matches}"
        return matches[0]

    hub = device_of(NODE)
    assert hub["name"] == NAME, hub
    assert hub["sw_version"] == VERSION, hub
    assert hub["configuration_url"], hub
    assert ["mqtt", NODE] in hub["identifiers"], hub
    for entity_id, unique_id in HUB_UNIQUE_IDS.items():
        entry = registry.get(entity_id)
        assert entry is not None, f"{entity_id} missing; the hub has {_entities_of(registry, hub)}"
        assert entry["unique_id"] == unique_id, entry
        assert entry["device_id"] == hub["id"], entry

    live: dict[int, set[str]] = {}
    for sid in (PORCH, GATE):
        device = device_of(f"{NODE}_s{sid}")
        assert device["name"] == DISPLAY[sid], device
        assert device["via_device_id"] == hub["id"], device
        own = _entities_of(registry, device)
        spec = spec_live_entities(sid) | history_entities(sid)
        spec |= {pause_switch(sid), state_sensor(sid)}
        assert spec <= own, f"{DISPLAY[sid]}: missing {sorted(spec - own)}; has {sorted(own)}"
        assert registry[pause_switch(sid)]["entity_category"] is None  # a device control
        for diagnostic in (
            f"sensor.{SLUG[sid]}_processing_rate",
            f"sensor.{SLUG[sid]}_inference_latency",
        ):
            assert registry[diagnostic]["entity_category"] == "diagnostic", registry[diagnostic]
        live[sid] = own - {pause_switch(sid), state_sensor(sid)} - history_entities(sid)
    # Nothing of the worker's outside what it announced.
    announced = {c[2] for c in wanted}
    mine = {e["unique_id"] for e in by_unique.values() if e["unique_id"].startswith(NODE)}
    assert mine == announced, sorted(mine ^ announced)

    every = set().union(*live.values()) | {HUB_SWITCH, HUB_STATE}
    every |= {pause_switch(s) for s in live} | {state_sensor(s) for s in live}

    def running(states: States) -> list[str]:
        found: list[str] = []
        for entity_id in sorted(every):
            expect(found, states, entity_id, available)
        expect(found, states, HUB_SWITCH, "off")
        expect(found, states, HUB_STATE, "running")
        for sid in live:
            expect(found, states, pause_switch(sid), "off")
            expect(found, states, state_sensor(sid), "running")
        return found

    mirror.settle("the worker's entities, running", running, 60)
    # The REST API (what a dashboard reads) has every one of them too, with a state.
    rest = {s["entity_id"]: s for s in hass.api.call("GET", "/api/states")}
    assert every <= set(rest), sorted(every - set(rest))
    return live


def _entities_of(registry: dict[str, dict[str, Any]], device: dict[str, Any]) -> set[str]:
    return {e["entity_id"] for e in registry.values() if e["device_id"] == device["id"]}


# -- 2. the global pause ---------------------------------------------------------------------


def _global_pause(
    hass: HassProcess, mirror: Mirror, sub: Subscriber, broker: Broker, live: dict[int, set[str]]
) -> None:
    after = last_seq(sub)
    sub.wait_for(detection_of(BASE, PORCH), 30, after)
    sub.wait_for(detection_of(BASE, GATE), 30, after)
    after = last_seq(sub)
    service(hass, "switch", "turn_on", {"entity_id": HUB_SWITCH})
    ack = sub.wait_for(status_where(lambda s: s["paused"] is True), 30, after)
    assert all(v["paused"] for v in ack.json()["sources"].values()), ack.json()
    fence = barrier(sub, BASE)
    kept = retained_status(broker)
    assert kept["paused"] is True, kept
    assert sub.count(detection_of(BASE), after=ack.seq, before=fence) == 0, "fence broken"

    def paused(states: States) -> list[str]:
        found: list[str] = []
        expect(found, states, HUB_SWITCH, "on")
        expect(found, states, HUB_STATE, "paused")
        for sid, entities in live.items():
            expect(found, states, pause_switch(sid), "off")  # its own setting: not paused
            for key in ("paused", "paused_globally"):
                if attribute(states, pause_switch(sid), key) is not True:
                    value = attribute(states, pause_switch(sid), key)
                    found.append(f"{pause_switch(sid)} attribute {key} is {value!r} (want True)")
            expect(found, states, state_sensor(sid), "paused")
            for entity_id in sorted(entities):
                expect(found, states, entity_id, UNAVAILABLE)
        return found

    mirror.settle("paused globally", paused, 30)
    after = last_seq(sub)
    service(hass, "switch", "turn_off", {"entity_id": HUB_SWITCH})
    sub.wait_for(status_where(lambda s: s["paused"] is False), 30, after)
    mirror.settle("resumed", lambda st: _running_problems(st, live), 60)


def _running_problems(states: States, live: dict[int, set[str]]) -> list[str]:
    found: list[str] = []
    expect(found, states, HUB_SWITCH, "off")
    expect(found, states, HUB_STATE, "running")
    for sid, entities in live.items():
        expect(found, states, pause_switch(sid), "off")
        expect(found, states, state_sensor(sid), "running")
        for entity_id in sorted(entities):
            expect(found, states, entity_id, available)
    return found


# -- 3. one source paused --------------------------------------------------------------------


def _one_source_paused(
    hass: HassProcess, ws: HassWebSocket, mirror: Mirror, sub: Subscriber, live: dict[int, set[str]]
) -> None:
    after, mark = last_seq(sub), ws.last_seq()
    service(hass, "switch", "turn_on", {"entity_id": pause_switch(GATE)})
    ack = sub.wait_for(status_where(lambda s: s["sources"][str(GATE)]["paused"] is True), 30, after)
    assert ack.json()["sources"][str(PORCH)]["paused"] is False, ack.json()
    assert ack.json()["paused"] is False, ack.json()
    fence = barrier(sub, BASE)
    assert sub.count(detection_of(BASE, GATE), after=ack.seq, before=fence) == 0, "fence broken"
    sub.wait_for(detection_of(BASE, PORCH), 30, ack.seq)  # Porch goes on

    def gate_paused(states: States) -> list[str]:
        found: list[str] = []
        expect(found, states, pause_switch(GATE), "on")
        expect(found, states, state_sensor(GATE), "paused")
        for key, want in (("paused", True), ("paused_globally", False)):
            if attribute(states, pause_switch(GATE), key) is not want:
                found.append(f"{pause_switch(GATE)} attribute {key} is not {want}")
        for entity_id in sorted(live[GATE]):
            expect(found, states, entity_id, UNAVAILABLE)
        expect(found, states, pause_switch(PORCH), "off")
        expect(found, states, state_sensor(PORCH), "running")
        expect(found, states, HUB_SWITCH, "off")
        for entity_id in sorted(live[PORCH]):
            expect(found, states, entity_id, available)
        return found

    mirror.settle("Gate paused by its own switch", gate_paused, 30)
    went = [c for c in ws.changes_of(live[PORCH], after=mark) if c.state == UNAVAILABLE]
    assert went == [], f"Porch entities went unavailable while only Gate was paused: {went}"
    after = last_seq(sub)
    service(hass, "switch", "turn_off", {"entity_id": pause_switch(GATE)})
    sub.wait_for(status_where(lambda s: s["sources"][str(GATE)]["paused"] is False), 30, after)
    mirror.settle("Gate resumed", lambda st: _running_problems(st, live), 60)


# -- 6. the blueprint ------------------------------------------------------------------------


def _blueprint_drives_the_switches(
    hass: HassProcess, ws: HassWebSocket, mirror: Mirror, sub: Subscriber
) -> None:
    # Home Assistant of this release loaded every shipped blueprint (its schema checks inputs
    # and selectors).
    listed = ws.call("blueprint/list", domain="automation")
    for path in blueprint_files():
        relative = path.removeprefix("blueprints/automation/")
        assert relative in listed, f"{relative} not loaded: {sorted(listed)}"
        assert "error" not in listed[relative], listed[relative]
    # Every blueprint input that picks a switch offers the worker's switches (and still the
    # integration's): the entity picker shows only what a filter matches.
    registry = entity_registry(ws)
    switches = [
        e
        for e in registry.values()
        if e["unique_id"].startswith(NODE) and e["entity_id"].startswith("switch.")
    ]
    assert len(switches) == 3, switches
    pickers = {
        f"{path.name}:{name}": selector
        for path in blueprint_paths()
        for name, selector in switch_pickers(load_blueprint(path)).items()
    }
    assert pickers, "no blueprint input picks a pause switch"
    for where, selector in pickers.items():
        refused = [
            e["entity_id"]
            for e in switches
            if not selector_offers(selector, e["entity_id"], e["platform"])
        ]
        assert refused == [], f"{where} does not offer the worker's switches {refused}: {selector}"

    # And it drives one: an automation made from it turns the worker's Porch pause off.
    hass.api.call(
        "POST",
        "/api/config/automation/config/nvr_pause_porch",
        {
            "alias": "Pause the porch while someone is home",
            "use_blueprint": {
                "path": PAUSE_BLUEPRINT,
                "input": {"presence": "zone.home", "pause_switch": pause_switch(PORCH)},
            },
        },
    )
    found: list[str] = []

    def automation_on(states: States) -> list[str]:
        found[:] = [
            e
            for e, c in states.items()
            if e.startswith("automation.") and c.attributes.get("id") == "nvr_pause_porch"
        ]
        return (
            [] if found and states[found[0]].state == "on" else ["no automation nvr_pause_porch on"]
        )

    mirror.settle("the automation from the blueprint", automation_on, 30)
    after = last_seq(sub)
    service(hass, "switch", "turn_on", {"entity_id": pause_switch(PORCH)})
    paused = sub.wait_for(
        status_where(lambda s: s["sources"][str(PORCH)]["paused_by_source"] is True), 30, after
    )
    mirror.settle("Porch paused", lambda st: _problems_of(st, pause_switch(PORCH), "on"), 30)
    # Nobody is home (zone.home counts 0): the automation turns the pause off.
    service(hass, "automation", "trigger", {"entity_id": found[0], "skip_condition": True})
    resumed = sub.wait_for(
        status_where(lambda s: s["sources"][str(PORCH)]["paused_by_source"] is False),
        30,
        paused.seq,
    )
    assert resumed.json()["reason"] == "command", resumed.json()
    mirror.settle("Porch resumed", lambda st: _problems_of(st, pause_switch(PORCH), "off"), 30)


# -- 5. a camera goes away -------------------------------------------------------------------


def _camera_goes_away(
    ws: HassWebSocket,
    mirror: Mirror,
    sub: Subscriber,
    live: dict[int, set[str]],
    camera: subprocess.Popen[str],
) -> None:
    mark, after = ws.last_seq(), last_seq(sub)
    camera.terminate()
    camera.wait(10)
    down = sub.wait_for(status_where(lambda s: not s["sources"][str(GATE)]["available"]), 60, after)
    assert down.json()["sources"][str(PORCH)]["available"] is True, down.json()

    def gate_down(states: States) -> list[str]:
        found: list[str] = []
        expect(found, states, state_sensor(GATE), lambda s: s in ("reconnecting", "error"))
        if not attribute(states, state_sensor(GATE), "error"):
            shown = states[state_sensor(GATE)].attributes if state_sensor(GATE) in states else {}
            found.append(f"{state_sensor(GATE)} has no error attribute (attributes {shown})")
        expect(found, states, pause_switch(GATE), "off")
        for entity_id in sorted(live[GATE]):
            expect(found, states, entity_id, UNAVAILABLE)
        expect(found, states, HUB_STATE, "degraded")
        expect(found, states, state_sensor(PORCH), "running")
        for entity_id in sorted(live[PORCH]):
            expect(found, states, entity_id, available)
        return found

    mirror.settle("Gate's camera gone", gate_down, 90)
    went = [c for c in ws.changes_of(live[PORCH], after=mark) if c.state == UNAVAILABLE]
    assert went == [], f"Porch entities went unavailable when Gate's camera went away: {went}"
    sub.wait_for(detection_of(BASE, PORCH), 30, last_seq(sub))  # Porch goes on


# -- 4. restarted into a pause ---------------------------------------------------------------


def _restart_into_a_pause(
    hass: HassProcess,
    ws: HassWebSocket,
    mirror: Mirror,
    sub: Subscriber,
    live: dict[int, set[str]],
    workers: Workers,
    worker: WorkerProcess,
    scene: dict[str, Any],
) -> WorkerProcess:
    objects, occupancy = (
        f"sensor.{SLUG[PORCH]}_objects",
        f"binary_sensor.{SLUG[PORCH]}_motion_occupancy",
    )
    snapshot = f"image.{SLUG[PORCH]}_snapshot"
    # Pause while Porch sees something, so Home Assistant holds a count that would be stale.
    count = None
    for _attempt in range(5):
        mirror.settle(
            "Porch counting objects",
            lambda st: _problems_of(st, objects, lambda s: s.isdigit() and int(s) > 0),
            60,
        )
        after = last_seq(sub)
        service(hass, "switch", "turn_on", {"entity_id": HUB_SWITCH})
        ack = sub.wait_for(status_where(lambda s: s["paused"] is True), 30, after)
        count = last_detection_count(sub, PORCH, ack.seq)
        if count:
            break
        after = last_seq(sub)  # the scene was empty right then: once more
        service(hass, "switch", "turn_off", {"entity_id": HUB_SWITCH})
        sub.wait_for(status_where(lambda s: s["paused"] is False), 30, after)
    assert count, "Porch never paused on a frame with objects"
    pictures = [c.state for c in ws.changes_of(snapshot) if c.state not in (UNAVAILABLE, "unknown")]
    assert pictures, f"{snapshot} never showed a picture before the pause"
    picture = pictures[-1]

    code, _took = worker.stop(20)
    assert code == 0, worker.output()
    # Porch's camera now sees an empty, still scene: anything it shows from before is stale.
    mark, after = ws.last_seq(), last_seq(sub)
    worker = workers.start(scene["still"])
    sub.wait_for(
        status_where(
            lambda s: s["paused"] is True
            and all(v["state"] == "paused" for v in s["sources"].values())
        ),
        90,
        after,
    )

    def restored(states: States) -> list[str]:
        found: list[str] = []
        expect(found, states, HUB_SWITCH, "on")
        expect(found, states, HUB_STATE, "paused")
        for sid, entities in live.items():
            expect(found, states, state_sensor(sid), "paused")
            for entity_id in sorted(entities):
                expect(found, states, entity_id, UNAVAILABLE)
        return found

    mirror.settle("restarted into the pause", restored, 30)
    barrier(sub, BASE)
    shown = [
        (c.entity_id, c.state)
        for c in ws.changes_of(live[PORCH] | live[GATE], after=mark)
        if c.state != UNAVAILABLE
    ]
    assert shown == [], f"shown while paused after the restart: {shown}"

    after, mark = last_seq(sub), ws.last_seq()
    service(hass, "switch", "turn_off", {"entity_id": HUB_SWITCH})
    resumed = sub.wait_for(status_where(lambda s: s["paused"] is False), 30, after)
    resumed_at = time.monotonic()

    def porch_running(states: States) -> list[str]:
        found: list[str] = []
        expect(found, states, state_sensor(PORCH), "running")
        expect(found, states, objects, available)
        return found

    mirror.settle("Porch resumed on the empty scene", porch_running, 60)
    fence = barrier(sub, BASE)
    # Nothing was detected on the still scene since the resume ...
    seen = [
        m.json()["detections"]
        for m in sub.select(detection_of(BASE, PORCH), after=resumed.seq, before=fence)
        if m.json()["detections"]
    ]
    assert seen == [], f"the still scene has objects? {seen}"
    # ... so nothing from before the pause may show: not the count, not occupancy, not the picture.
    stale = [
        (c.entity_id, c.state)
        for c in ws.changes_of({objects, occupancy, snapshot}, after=mark)
        if (c.entity_id == objects and c.state == str(count))
        or (c.entity_id == occupancy and c.state == "on")
        or (c.entity_id == snapshot and c.state == picture)
    ]
    history = [
        (round(c.received - resumed_at, 3), c.entity_id, c.state)
        for c in ws.changes_of({objects, occupancy}, after=mark)
    ]
    porch = [
        {k: m.json()["sources"][str(PORCH)][k] for k in ("state", "paused", "available")}
        for m in sub.select(status_of(BASE), after=after, before=fence)
    ]
    assert stale == [], (
        f"stale after the restart and resume (pre-pause count {count}): {stale}; in order "
        f"(s after the resume's ack): {history}; Porch in the statuses since: {porch}"
    )
    return worker
