"""1,000 generated bad commands through the real broker: no crash, no change, bounded replies.

Also retained junk (and a retained valid command) waiting on the command topic when the
integration starts: refused, because a retained command would replay at every start.
"""

from __future__ import annotations

import json
from pathlib import Path
import random
import time

from homeassistant.core import HomeAssistant
import pytest

from custom_components.nvr_inference.engine.contract.ratelimit import (
    ERROR_BURST,
    ERRORS_PER_SECOND,
)

from ..integration.conftest import setup_nvr_entry, wait_subscriptions
from ..mqtt_helpers import Subscriber

pytestmark = [
    pytest.mark.pipeline,
    pytest.mark.usefixtures("enable_custom_integrations", "mqtt_entry"),
]

COMMANDS = "nvr/control/commands"


def bad_payloads(count: int, seed: int = 11) -> list[bytes]:
    """Deterministic junk of every kind; none of it is a valid command."""
    rng = random.Random(seed)
    makers = [
        lambda: bytes(rng.randrange(256) for _ in range(rng.randrange(1, 64))),  # binary
        lambda: b"\xff\xfe" + rng.randbytes(8),  # not UTF-8
        lambda: rng.choice([b"pause", b"resume", b"{", b"}", b"null", b" ", b"[]", b"0"]),
        lambda: json.dumps(
            {"command": rng.choice(["stop", "PAUS", "", "reboot", "pause!"])}
        ).encode(),
        lambda: json.dumps({"command": rng.choice([1, True, None, [], {}, 2.5])}).encode(),
        lambda: json.dumps(
            {"command": "pause", "source_id": rng.choice([7, 99, -1, "0", 1.5, True, None])}
        ).encode(),
        lambda: json.dumps({"command": "resume", rng.choice(["x", "source", "id"]): 1}).encode(),
        lambda: json.dumps({"cmd": "pause"}).encode(),
        lambda: b"[" * rng.randrange(100, 3000) + b"]" * rng.randrange(100, 3000),  # deep
        lambda: b'{"command": "pause", "pad": "'
        + b"A" * rng.randrange(2000, 200_000)
        + b'"}',  # huge
        lambda: json.dumps(rng.choice([[{"command": "pause"}], "pause", 42, None])).encode(),
    ]
    return [rng.choice(makers)() for _ in range(count)]


async def test_a_thousand_bad_commands(
    hass: HomeAssistant,
    subscriber: Subscriber,
    sample_video: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    entry = await setup_nvr_entry(hass, sample_video, sources=1)
    await wait_subscriptions(hass)
    controller = entry.runtime_data.controller
    before = controller.gate.snapshot()
    payloads = bad_payloads(1000)
    assert all(p not in (b'{"command": "pause"}', b'{"command": "resume"}') for p in payloads)
    after = subscriber.messages[-1].seq if subscriber.messages else -1
    caplog.clear()
    started = time.monotonic()
    for payload in payloads:
        await hass.async_add_executor_job(subscriber.publish, COMMANDS, payload)
    # Commands are handled in order: once the status asked for last is here, all were.
    last = subscriber.messages[-1].seq
    await hass.async_add_executor_job(subscriber.publish, COMMANDS, b'{"command": "status"}')
    barrier = await hass.async_add_executor_job(
        subscriber.wait_for, lambda m: m.topic == "nvr/control/status", 30, last
    )
    elapsed = time.monotonic() - started
    errors = subscriber.count(
        lambda m: m.topic == "nvr/control/error", after=after, before=barrier.seq
    )
    # Answered within the budget: the first ones, then one a second (the rest are counted).
    assert ERROR_BURST <= errors <= ERROR_BURST + ERRORS_PER_SECOND * elapsed + 1
    assert controller.plane.last_error is not None
    assert controller.gate.snapshot() == before  # nothing changed
    for message in subscriber.messages:
        if message.topic == "nvr/control/error" and message.seq > after:
            body = message.json()
            assert body["error"] and len(body["received"]) <= 83
    ignored = [r for r in caplog.records if "Ignored a command" in r.getMessage()]
    assert 1 <= len(ignored) <= 2  # rate-limited: one line a minute, not a thousand
    assert hass.states.get("sensor.test_nvr_state").state == "running"
    assert await hass.config_entries.async_unload(entry.entry_id)


async def test_retained_commands_at_startup_are_refused(
    hass: HomeAssistant, subscriber: Subscriber, sample_video: Path
) -> None:
    await hass.async_add_executor_job(subscriber.publish, COMMANDS, b'{"command": "pause"}', True)
    entry = await setup_nvr_entry(hass, sample_video, sources=1)
    refused = await hass.async_add_executor_job(
        subscriber.wait_for, lambda m: m.topic == "nvr/control/error", 30
    )
    assert "retained commands are ignored" in refused.json()["error"]
    assert entry.runtime_data.controller.gate.snapshot().paused is False
    # Retained junk is refused the same way, then cleared so it cannot outlive the test.
    after = refused.seq
    await hass.async_add_executor_job(subscriber.publish, COMMANDS, b"\x00junk", True)
    junk = await hass.async_add_executor_job(
        subscriber.wait_for, lambda m: m.topic == "nvr/control/error", 30, after
    )
    assert "not JSON" in junk.json()["error"] or "UTF-8" in junk.json()["error"]
    await hass.async_add_executor_job(subscriber.publish, COMMANDS, b"", True)
    assert await hass.config_entries.async_unload(entry.entry_id)
