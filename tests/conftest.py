"""Shared fixtures: generated sample videos and a thread-safe recorder with real waits.

Collection imports no pipeline package (cv2, streamvision, inference): the ha-latest lane runs
on Python 3.14, where none of them installs. The sample video's generator (OpenCV) is imported
by the fixtures that need it; tests that need the pipeline are marked `pipeline`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
import importlib.util
import os
from pathlib import Path
import re
import threading
from typing import Any

import pytest

os.environ.setdefault("OFFLINE_MODE", "True")
os.environ.setdefault("DISABLE_VERSION_CHECK", "True")

from custom_components.nvr_inference.engine.pipeline.loader import (
    full_profile_available,
    inference_pipeline_class,
)

PIPELINE_INSTALLED = all(importlib.util.find_spec(name) for name in ("cv2", "streamvision"))
"""The light profile's packages are here (not in the ha-latest lane: Python 3.14)."""
_DECLARES_PIPELINE = re.compile(r"^pytestmark = \[?\s*pytest\.mark\.pipeline\b", re.MULTILINE)
_left_out: list[str] = []


def pytest_ignore_collect(collection_path: Path) -> bool | None:
    """Without the pipeline packages, leave out modules marked `pipeline` as a whole.

    Such a module starts its `pytestmark` with `pytest.mark.pipeline`; it may import OpenCV
    at the top, so it is recognised from its text, not imported. Single tests marked
    `pipeline` in other modules are deselected with `-m "not pipeline"` instead.
    """
    if PIPELINE_INSTALLED:
        return None
    if collection_path.is_dir() and collection_path.name == "image":
        _left_out.append("tests/image/")  # the image lane's (its conftest reads photos)
        return True
    if collection_path.suffix != ".py":
        return None
    if not collection_path.name.startswith("test_"):
        return None
    if _DECLARES_PIPELINE.search(collection_path.read_text(encoding="utf-8")):
        _left_out.append(collection_path.name)
        return True
    return None


def pytest_terminal_summary(terminalreporter: Any) -> None:
    """Say which modules were left out, so nothing is dropped silently."""
    if _left_out:
        terminalreporter.write_line(
            f"pipeline packages not installed: {len(_left_out)} modules marked `pipeline` "
            f"were not collected ({', '.join(sorted(_left_out))}); the light lane runs them"
        )


if full_profile_available():
    # `inference` starts three daemon telemetry threads on first use; start them now, before
    # any test, so the harness's per-test thread check does not count them as leaks.
    inference_pipeline_class()


@pytest.fixture(scope="session")
def sample_video(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The sample scene once (130 frames at 10 fps, 640x480)."""
    from custom_components.nvr_inference.engine.samples.sample_video import write_sample_video

    return write_sample_video(tmp_path_factory.mktemp("video") / "sample.avi")


@pytest.fixture(scope="session")
def long_video(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The scene ten times over: enough frames to fill every buffer of the pipeline."""
    from custom_components.nvr_inference.engine.samples.sample_video import (
        SAMPLE_FRAMES,
        write_sample_video,
    )

    return write_sample_video(
        tmp_path_factory.mktemp("video") / "long.avi", frames=10 * SAMPLE_FRAMES
    )


@pytest.fixture(scope="session")
def busy_video(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Something moves in nearly every frame, at 30 fps (320x240: cheap to decode and detect)."""
    from custom_components.nvr_inference.engine.samples.sample_video import write_sample_video

    return write_sample_video(
        tmp_path_factory.mktemp("video") / "busy.avi", size=(320, 240), fps=30.0, frames=100
    )


@pytest.fixture(scope="session")
def person_video(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The person scene once (200 frames at 10 fps, 640x480), from the astronaut photo."""
    from custom_components.nvr_inference.engine.samples.person_scene import (
        PERSON_PHOTO,
        write_person_video,
    )

    from .photos import photo

    return write_person_video(tmp_path_factory.mktemp("video") / "person.avi", photo(PERSON_PHOTO))


class CallbackTransport:
    """The engine's `Transport`, handing every message to `publish(topic, payload)`."""

    def __init__(self, publish: Callable[[str, Any], object] = lambda _t, _p: None) -> None:
        self._publish = publish
        self.connected = True
        self.backlogged = False
        self.retained: dict[str, Any] = {}

    def publish(self, topic: str, payload: Any, *, qos: int, retain: bool) -> object:
        if retain:
            self.retained[topic] = payload
        return self._publish(topic, payload)


class Recorder:
    """Collects items from any thread; tests wait on a condition instead of sleeping."""

    def __init__(self) -> None:
        self.items: list[Any] = []
        self._cond = threading.Condition()

    def append(self, item: Any) -> None:
        with self._cond:
            self.items.append(item)
            self._cond.notify_all()

    def wait_for(self, predicate: Callable[[list[Any]], bool], timeout: float = 30.0) -> bool:
        with self._cond:
            return self._cond.wait_for(lambda: predicate(self.items), timeout)

    def __len__(self) -> int:
        with self._cond:
            return len(self.items)

    def snapshot(self) -> list[Any]:
        with self._cond:
            return list(self.items)


@pytest.fixture
def recorder() -> Iterator[Recorder]:
    """A fresh recorder."""
    return Recorder()


@pytest.fixture
def no_thread_left_behind() -> Iterator[None]:
    """Fail the test if it leaves a non-daemon thread running."""
    before = set(threading.enumerate())
    yield
    left = [t for t in threading.enumerate() if t not in before and not t.daemon and t.is_alive()]
    assert left == [], f"threads left running: {left}"
