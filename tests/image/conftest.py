"""Containers of the images `scripts/image build` and `build-app` made, against a real mosquitto.

The images are built before these tests run (the `image` lane in scripts/test does); a missing
one fails the test with the command that builds it. Containers run through `scripts/image run`
(the flags this machine needs live there, in one place) with `--network=host`, so they reach
the test's mosquitto on 127.0.0.1, a read-only root filesystem and a tmpfs on /tmp, as a user
would run them. `podman run` in the foreground proxies signals to the container, so stopping
the `scripts/image run` process with SIGTERM is stopping the container's worker with SIGTERM.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
import os
from pathlib import Path
import shlex
import shutil
import subprocess
import uuid

import pytest

from ..photos import photo
from ..worker.conftest import ROOT, WorkerProcess, broker, subscriber  # noqa: F401

SCRIPT = ROOT / "scripts" / "image"
WORKER_IMAGE = os.environ.get("NVR_WORKER_IMAGE", "localhost/nvr-inference:dev")
APP_IMAGE = os.environ.get("NVR_APP_IMAGE", "localhost/nvr-inference-app:dev")
HEALTH = ["python3", "-m", "nvr_inference.engine.worker.health"]
"""The images' HEALTHCHECK command."""


def tool() -> list[str]:
    """The container tool with this machine's flags (podman or docker)."""
    return shlex.split(subprocess.check_output([str(SCRIPT), "tool"], text=True))


def _require(image: str, build: str) -> str:
    found = subprocess.run(
        [*tool(), "image", "inspect", image], capture_output=True, check=False, timeout=60
    )
    if found.returncode != 0:
        pytest.fail(f"image {image} is missing: run `scripts/image {build}` (the image lane does)")
    return image


@pytest.fixture(scope="session")
def worker_image() -> str:
    """The worker image (scripts/image build)."""
    return _require(WORKER_IMAGE, "build")


@pytest.fixture(scope="session")
def app_image() -> str:
    """The app's image (scripts/image build-app)."""
    return _require(APP_IMAGE, "build-app")


@pytest.fixture(scope="session")
def objects_video(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The objects scene once (a person, a motorcycle and a cat; 200 frames at 10 fps, 640x480)."""
    from custom_components.nvr_inference.engine.samples.objects_scene import write_objects_video

    photos = photo("astronaut.png").parent  # fails, naming scripts/setup, when missing
    return write_objects_video(tmp_path_factory.mktemp("video") / "objects.avi", photos)


def writable_dir(path: Path) -> Path:
    """A folder the image's non-root user (uid 1000) can write, bind-mounted as /data."""
    path.mkdir(parents=True, exist_ok=True)
    path.chmod(0o777)
    return path


def readable_copy(video: Path, folder: Path) -> Path:
    """A copy of `video` the image's user can read (pytest's folders are private to root)."""
    folder.mkdir(parents=True, exist_ok=True)
    folder.chmod(0o755)
    copy = folder / video.name
    shutil.copyfile(video, copy)
    copy.chmod(0o644)
    return copy


def container_args(
    image: str,
    *args: str,
    name: str,
    volumes: dict[Path, str] | None = None,
    env: dict[str, str] | None = None,
) -> list[str]:
    """`scripts/image run` for a throwaway container as a user would run it."""
    command = [str(SCRIPT), "run", "--rm", "--name", name, "--network=host", "--read-only"]
    command += ["--tmpfs", "/tmp"]
    for host, inside in (volumes or {}).items():
        command += ["-v", f"{host}:{inside}"]
    for key, value in (env or {}).items():
        command += ["-e", f"{key}={value}"]
    return [*command, image, *args]


@dataclass
class Container(WorkerProcess):
    """A container running in the foreground, and its name (for `exec`)."""

    name: str = ""

    def exec(self, *command: str) -> subprocess.CompletedProcess[str]:
        """Run a command inside the running container."""
        return subprocess.run(
            [*tool(), "exec", self.name, *command],
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )


@pytest.fixture
def run_container(tmp_path: Path) -> Iterator[Callable[..., Container]]:
    """Start containers in the foreground; every one still there at teardown is removed."""
    started: list[Container] = []

    def run(
        image: str,
        *args: str,
        volumes: dict[Path, str] | None = None,
        env: dict[str, str] | None = None,
        base: str = "nvr",
    ) -> Container:
        name = f"nvr-test-{uuid.uuid4().hex[:12]}"
        n = len(started)
        out, err = tmp_path / f"container{n}.out", tmp_path / f"container{n}.err"
        command = container_args(image, *args, name=name, volumes=volumes, env=env)
        with out.open("wb") as stdout, err.open("wb") as stderr:
            process = subprocess.Popen(command, stdout=stdout, stderr=stderr)
        container = Container(process, out, err, base, name)
        started.append(container)
        return container

    yield run
    for container in started:
        if container.process.poll() is None:
            subprocess.run(
                [*tool(), "rm", "-f", "-t", "5", container.name], capture_output=True, check=False
            )
            container.process.wait(30)
