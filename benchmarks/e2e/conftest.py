"""Reuse the integration tests' fixtures; run the broker both with and without TCP_NODELAY."""

from collections.abc import Iterator

import pytest

from tests.conftest import long_video, recorder, sample_video  # noqa: F401
from tests.integration.conftest import mqtt_entry, subscriber  # noqa: F401
from tests.mqtt_helpers import Broker, run_broker


@pytest.fixture(params=[False, True], ids=["broker-default", "broker-nodelay"])
def broker(request: pytest.FixtureRequest, socket_enabled: None) -> Iterator[Broker]:
    """mosquitto as shipped, and with `set_tcp_nodelay true` (Nagle off on its sockets)."""
    extra = "set_tcp_nodelay true\n" if request.param else ""
    with run_broker(extra) as running:
        running.nodelay = request.param  # type: ignore[attr-defined]
        yield running
