"""`scripts/image worker-cmd`: the worker image as a drop-in for the `nvr-inference` command.

The image lane runs the ha-latest lane's device-page test with it as NVR_WORKER_CMD; these
check what that test relies on and does not check itself: the paths on the command line are
the container's (a video written into a folder it is given), the exit code passes through, a
SIGINT reaches the worker once, and a SIGKILLed command leaves no container behind (the
client it started would otherwise keep the container running, holding the name's lock).
"""

from __future__ import annotations

from pathlib import Path
import signal
import subprocess

import pytest

from ..mqtt_helpers import Broker, Subscriber
from ..worker.conftest import WorkerProcess, is_availability, last_seq, status_of, worker_env
from .conftest import SCRIPT, tool, writable_dir

pytestmark = [pytest.mark.pipeline, pytest.mark.image]

COMMAND = [str(SCRIPT), "worker-cmd"]


def _start(folder: Path, broker: Broker, name: str) -> WorkerProcess:
    video = folder / "cam.avi"
    made = subprocess.run(
        [*COMMAND, "sample-video", str(video), "--frames", "20"],
        env=worker_env(),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert made.returncode == 0, made.stderr
    assert video.stat().st_size > 0  # written inside the container, at the same path
    args = ["worker", "--mqtt-port", str(broker.port), "--name", name, "--detector", "motion"]
    args += ["--loop", "--source", f"Cam={video}", "--state-file", str(folder / "state.json")]
    out, err = folder.parent / f"{name}.out", folder.parent / f"{name}.err"
    with out.open("wb") as stdout, err.open("wb") as stderr:
        process = subprocess.Popen(
            [*COMMAND, *args], env=worker_env(), stdout=stdout, stderr=stderr
        )
    return WorkerProcess(process, out, err, "nvr")


def _container_of(worker: WorkerProcess) -> str:
    """The container the command started (it is named after the command's pid)."""
    found = subprocess.run(
        [
            *tool(),
            "ps",
            "--filter",
            f"name=^nvr-cmd-{worker.process.pid}-",
            "--format",
            "{{.Names}}",
        ],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    ).stdout.split()
    assert len(found) == 1, found
    return found[0]


def test_an_error_exits_as_the_command_does(worker_image: str) -> None:
    done = subprocess.run(
        [*COMMAND, "worker", "--no-such-flag"],
        env=worker_env(),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 2, done
    assert "unrecognized arguments: --no-such-flag" in done.stderr


def test_sigint_stops_the_worker_once(
    worker_image: str, broker: Broker, subscriber: Subscriber, tmp_path: Path
) -> None:
    worker = _start(writable_dir(tmp_path / "files"), broker, "int")
    subscriber.wait_for(status_of("nvr", lambda s: s["state"] == "running"), 120)
    after = last_seq(subscriber)
    code, _took = worker.stop(30, signal.SIGINT)
    assert code == 0, worker.output()
    subscriber.wait_for(status_of("nvr", lambda s: s["state"] == "stopped"), 10, after)
    assert "SIGINT received: stopping" in worker.output()
    assert "Second SIGINT" not in worker.output()


def test_a_sigkilled_command_leaves_no_container(
    worker_image: str, broker: Broker, subscriber: Subscriber, tmp_path: Path
) -> None:
    worker = _start(writable_dir(tmp_path / "files"), broker, "kill")
    subscriber.wait_for(is_availability("nvr", "online"), 120)
    container = _container_of(worker)
    after = last_seq(subscriber)
    worker.process.kill()
    worker.process.wait(10)
    # The container was killed too (not stopped: no `stopped` status): its connection dropped,
    # so the broker published the worker's will, and `wait` reports SIGKILL's exit code (or
    # the container is already removed).
    subscriber.wait_for(is_availability("nvr", "offline"), 30, after)
    waited = subprocess.run(
        [*tool(), "wait", container], capture_output=True, text=True, timeout=60, check=False
    )
    assert waited.returncode != 0 or waited.stdout.strip() == "137", waited
    assert subscriber.count(status_of("nvr", lambda s: s["state"] == "stopped"), after=after) == 0
