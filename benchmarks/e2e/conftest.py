"""Reuse the integration tests' fixtures; run the broker both with and without TCP_NODELAY."""

from collections.abc import Iterator
from pathlib import Path

import pytest

from benchmarks.harness import LOAD_FPS, LOAD_SIZE
from custom_components.nvr_inference.engine.samples.sample_video import write_sample_video
from tests.conftest import long_video, recorder, sample_video  # noqa: F401
from tests.integration.conftest import mqtt_entry, subscriber  # noqa: F401
from tests.mqtt_helpers import Broker, run_broker


@pytest.fixture(autouse=True)
def enable_event_loop_debug() -> None:
    """Run the loop as Home Assistant does in production, not in asyncio's debug mode.

    The test harness turns debug mode on for every test (it records a traceback for every
    callback and task); that would put the harness's cost into every figure measured here.
    """
    import asyncio  # noqa: PLC0415

    asyncio.get_event_loop().set_debug(False)


@pytest.fixture(params=[False, True], ids=["broker-default", "broker-nodelay"])
def broker(request: pytest.FixtureRequest, socket_enabled: None) -> Iterator[Broker]:
    """mosquitto as shipped, and with `set_tcp_nodelay true` (Nagle off on its sockets)."""
    extra = "set_tcp_nodelay true\n" if request.param else ""
    with run_broker(extra) as running:
        running.nodelay = request.param  # type: ignore[attr-defined]
        yield running


@pytest.fixture(scope="session")
def load_video(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The sample scene at 30 fps, 320x240: a camera's sub-stream, as many NVRs analyse."""
    return write_sample_video(
        tmp_path_factory.mktemp("video") / "load.avi", size=LOAD_SIZE, fps=LOAD_FPS
    )
