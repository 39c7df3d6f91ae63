"""Shared fixtures: generated sample videos and a thread-safe recorder with real waits."""

from __future__ import annotations

from collections.abc import Callable, Iterator
import os
from pathlib import Path
import threading
from typing import Any

import pytest

os.environ.setdefault("OFFLINE_MODE", "True")
os.environ.setdefault("DISABLE_VERSION_CHECK", "True")

from custom_components.nvr_inference.engine.person_scene import (
    PERSON_PHOTO,
    write_person_video,
)
from custom_components.nvr_inference.engine.pipeline import (
    full_profile_available,
    inference_pipeline_class,
)
from custom_components.nvr_inference.engine.sample_video import (
    SAMPLE_FRAMES,
    write_sample_video,
)

from .photos import photo

if full_profile_available():
    # `inference` starts three daemon telemetry threads on first use; start them now, before
    # any test, so the harness's per-test thread check does not count them as leaks.
    inference_pipeline_class()


@pytest.fixture(scope="session")
def sample_video(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The sample scene once (130 frames at 10 fps, 640x480)."""
    return write_sample_video(tmp_path_factory.mktemp("video") / "sample.avi")


@pytest.fixture(scope="session")
def long_video(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The scene ten times over: enough frames to fill every buffer of the pipeline."""
    return write_sample_video(
        tmp_path_factory.mktemp("video") / "long.avi", frames=10 * SAMPLE_FRAMES
    )


@pytest.fixture(scope="session")
def person_video(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The person scene once (200 frames at 10 fps, 640x480), from the astronaut photo."""
    return write_person_video(tmp_path_factory.mktemp("video") / "person.avi", photo(PERSON_PHOTO))


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
