"""State writes: an entity is written only when what it shows changed (issue 22, the recorder).

Each detection message tells its source's entities; written every time, the processing
rate, latency and message count made about one recorder row per frame each. Measured on
the looping person scene (one camera, 30 s, scaled to an hour): 54,119 state writes per
camera-hour before, 2,040 after (the three per-frame sensors disabled by default).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from unittest.mock import patch

from homeassistant.core import HomeAssistant, StateMachine
from homeassistant.helpers import entity_registry as er
from homeassistant.util import dt as dt_util
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry, async_fire_time_changed

from custom_components.nvr_inference.const import DOMAIN
from custom_components.nvr_inference.engine.contract.host import STATUS_INTERVAL
from custom_components.nvr_inference.engine.contract.messages import DetectionMessage

from .conftest import make_nvr_entry, wait_until

pytestmark = [pytest.mark.pipeline, pytest.mark.usefixtures("enable_custom_integrations")]

PER_FRAME = ("processing_rate", "inference_latency", "detection_messages")


async def _set_up_paused(hass: HomeAssistant, entry: MockConfigEntry) -> None:
    """Set up with every source paused and settled: the pipeline cannot change anything."""
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    controller = entry.runtime_data.controller
    await controller.async_set_paused(True, None, "test")
    await wait_until(
        lambda: all(r.status.stream_paused for r in controller.engine.runners.values()),
        controller.async_add_listener,
    )
    await hass.async_block_till_done()


class Writes:
    """Count state writes per entity where every write lands: the state machine's door.

    (Home Assistant's state machine then drops a write that changes nothing, but only after
    the entity computed it, on the event loop, for every message.)
    """

    def __init__(self) -> None:
        self.counts: dict[str, int] = {}
        real = StateMachine.async_set_internal

        def counted(states: StateMachine, entity_id: str, *args: Any, **kwargs: Any) -> None:
            self.counts[entity_id] = self.counts.get(entity_id, 0) + 1
            real(states, entity_id, *args, **kwargs)

        self._patch = patch.object(
            StateMachine, "async_set_internal", autospec=True, side_effect=counted
        )

    def __enter__(self) -> Writes:
        self._patch.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self._patch.stop()

    def __getitem__(self, entity_id: str) -> int:
        return self.counts.get(entity_id, 0)


def _message(source_id: int) -> DetectionMessage:
    return DetectionMessage(source_id, 1, datetime.now(UTC), "builtin/motion", 640, 480)


@pytest.mark.usefixtures("mqtt_entry")
async def test_an_unchanged_entity_is_not_rewritten(
    hass: HomeAssistant, sample_video: Path
) -> None:
    entry = make_nvr_entry(hass, sample_video)
    await _set_up_paused(hass, entry)
    controller = entry.runtime_data.controller
    pause = "switch.test_nvr_pause_detections"
    with Writes() as writes:
        for _ in range(20):  # what the publisher does after each message
            controller.feed.async_published(_message(0))
        assert writes["sensor.cam_0_state"] == 0
        assert writes["switch.cam_0_pause_detections"] == 0
        assert writes[pause] == 0
        # A change is still written, once.
        await controller.async_set_paused(False, None, "test")
        assert writes[pause] == 1
    assert hass.states.get(pause).state == "off"
    assert await hass.config_entries.async_unload(entry.entry_id)


@pytest.mark.usefixtures("mqtt_entry")
async def test_per_frame_sensors_are_disabled_by_default_and_written_on_the_refresh(
    hass: HomeAssistant, sample_video: Path, entity_registry: er.EntityRegistry
) -> None:
    entry = make_nvr_entry(hass, sample_video)
    # A user who enabled the message count (before setup: the registry entry, enabled).
    entity_registry.async_get_or_create(
        "sensor",
        DOMAIN,
        "nvr_0_detections",
        config_entry=entry,
        suggested_object_id="cam_0_detection_messages",
    )
    await _set_up_paused(hass, entry)
    controller = entry.runtime_data.controller
    for name in PER_FRAME[:2]:
        registered = entity_registry.async_get(f"sensor.cam_0_{name}")
        assert registered is not None
        assert registered.disabled_by is er.RegistryEntryDisabler.INTEGRATION
        assert hass.states.get(f"sensor.cam_0_{name}") is None

    count = "sensor.cam_0_detection_messages"
    shown = hass.states.get(count).state
    with patch.dict(controller.publisher.published_by_source, {0: 1234}), Writes() as writes:
        for _ in range(20):
            controller.feed.async_published(_message(0))
        assert writes[count] == 0  # a message does not write it...
        assert hass.states.get(count).state == shown
        async_fire_time_changed(hass, dt_util.utcnow() + timedelta(seconds=STATUS_INTERVAL))
        await hass.async_block_till_done()
        assert writes[count] == 1  # ...the refresh does
        assert hass.states.get(count).state == "1234"
    assert await hass.config_entries.async_unload(entry.entry_id)
