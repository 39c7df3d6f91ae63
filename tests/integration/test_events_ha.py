"""Events, zones and the last event's picture as Home Assistant entities, with real parts.

The face detector on the looping sample scene, a zone on the right half of the picture. An
independent client on the broker sees each event once on the source's topic; the event entity
fires once for each of them, the zone sensors follow, a pause turns the zone off (inside the
fence, before the acknowledgement) and the entities say nothing more until the resume.
"""

from __future__ import annotations

from collections.abc import Callable
import json
from pathlib import Path
from typing import Any

from homeassistant.components.image import async_get_image
from homeassistant.const import EVENT_STATE_CHANGED
from homeassistant.core import Event, HomeAssistant, callback
from homeassistant.helpers import entity_registry as er
from homeassistant.helpers.translation import async_get_translations
from homeassistant.setup import async_setup_component
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry, async_mock_service

from custom_components.nvr_inference.const import CONF_TRACKING, CONF_ZONES, DOMAIN

from ..mqtt_helpers import Received, Subscriber, is_status
from .conftest import NVR_OPTIONS, make_nvr_entry, nvr_entry_data, wait_subscriptions, wait_until

pytestmark = [
    pytest.mark.pipeline,
    pytest.mark.usefixtures("enable_custom_integrations", "mqtt_entry"),
]

REPO = Path(__file__).resolve().parents[2]
EVENT = "event.cam_0_object_events"
ZONE_ON = "binary_sensor.cam_0_right_face_occupancy"
ZONE_COUNT = "sensor.cam_0_right_face_count"


def _per_source_events(source_id: int) -> Callable[[Received], bool]:
    return lambda m: m.topic == f"nvr/sources/{source_id}/event"


async def test_events_zones_and_the_last_event_picture(
    hass: HomeAssistant, subscriber: Subscriber, sample_video: Path
) -> None:
    entry = MockConfigEntry(
        domain=DOMAIN,
        title="Test NVR",
        unique_id="nvr",
        data=nvr_entry_data(sample_video, detector="face"),
        options=NVR_OPTIONS
        | {
            CONF_TRACKING: {"end_after": 1.0},
            CONF_ZONES: {
                "0": {
                    "zones": [
                        {
                            "name": "right",
                            "points": [[0.3, 0.5], [1, 0.5], [1, 0.8], [0.3, 0.8]],
                            "classes": [],
                        }
                    ],
                    "lines": [],
                }
            },
        },
    )
    entry.add_to_hass(hass)
    fired: list[dict[str, Any]] = []

    @callback
    def _on_state(event: Event[Any]) -> None:
        if event.data["entity_id"] == EVENT and event.data["new_state"] is not None:
            state = event.data["new_state"]
            if state.state not in ("unknown", "unavailable"):
                fired.append(dict(state.attributes))

    unsub = hass.bus.async_listen(EVENT_STATE_CHANGED, _on_state)
    # The shipped blueprint: a notification each time a face enters the zone, with its picture.
    notified = async_mock_service(hass, "notify", "notify")
    await _use_blueprint(hass)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    await wait_subscriptions(hass)
    controller = entry.runtime_data.controller
    assert hass.states.get(ZONE_ON).state == "off"
    assert hass.states.get(ZONE_COUNT).state == "0"
    # The first face enters the zone on its way right (ground truth: frame 27), the second
    # starts in it: the occupancy turns on, the count follows.
    await wait_until(lambda: hass.states.get(ZONE_ON).state == "on", controller.async_add_listener)
    assert int(hass.states.get(ZONE_COUNT).state) >= 1
    state = hass.states.get(EVENT)
    assert state.attributes["event_types"] == ["face_new", "face_update", "face_end"]
    assert state.attributes["type"] in ("new", "update")
    assert state.attributes["event_type"] == f"face_{state.attributes['type']}"
    assert state.attributes["label"] == "face"
    await wait_until(
        lambda: hass.states.get("image.cam_0_last_event").state != "unavailable",
        controller.async_add_listener,
    )
    picture = await async_get_image(hass, "image.cam_0_last_event")
    assert picture.content[:2] == b"\xff\xd8"

    # Pause: the zone is off once the switch has turned on (the ack is out by then).
    await hass.services.async_call(
        "switch", "turn_on", {"entity_id": "switch.cam_0_pause_detections"}, blocking=True
    )
    assert hass.states.get(ZONE_ON).state == "off"
    assert hass.states.get(ZONE_COUNT).state == "0"
    ack = await hass.async_add_executor_job(
        subscriber.wait_for, is_status(lambda s: s["sources"]["0"]["paused"] is True), 30
    )
    assert fired[-1]["type"] == "end"  # the open event ended with the pause
    # The Activity list tells a new face from one gone: the type says what happened.
    assert fired[0]["event_type"] == "face_new"
    assert fired[-1]["event_type"] == "face_end"
    assert all(f["event_type"] == f"face_{f['type']}" for f in fired)
    fired_at_ack = len(fired)
    # A barrier: everything Home Assistant published before it has arrived.
    after = subscriber.messages[-1].seq
    await hass.async_add_executor_job(
        subscriber.publish, "nvr/control/commands", '{"command": "status"}'
    )
    fence = await hass.async_add_executor_job(
        subscriber.wait_for, is_status(lambda _s: True), 30, after
    )
    # One firing per event message of the source, and nothing after the acknowledgement.
    published = subscriber.select(_per_source_events(0), before=fence.seq)
    assert len(fired) == len(published)
    assert [f["event_id"] for f in fired] == [json.loads(m.payload)["event_id"] for m in published]
    assert subscriber.count(_per_source_events(0), after=ack.seq, before=fence.seq) == 0
    assert len(fired) == fired_at_ack
    # One notification per face entering the zone: exactly the events whose `entered` has it.
    await hass.async_block_till_done()
    entering = [f for f in fired if "right" in f["entered"]]
    assert entering
    assert len(notified) == len(entering)
    assert notified[0].data["data"]["image"] == "/api/image_proxy/image.cam_0_last_event"
    assert notified[0].data["title"] == "Face in right"
    # ... in words: "Face seen", "Face gone" (the entity's translated event types).
    strings = await async_get_translations(hass, "en", "entity", {DOMAIN})
    state_key = f"component.{DOMAIN}.entity.event.object_events.state_attributes.event_type.state"
    assert strings[f"{state_key}.face_new"] == "Face seen"
    assert strings[f"{state_key}.face_end"] == "Face gone"
    unsub()
    assert await hass.config_entries.async_unload(entry.entry_id)


async def _use_blueprint(hass: HomeAssistant) -> None:
    """An automation made from blueprints/automation/nvr_inference/notify_object_in_zone.yaml."""
    source = REPO / "blueprints" / "automation" / "nvr_inference" / "notify_object_in_zone.yaml"
    target = Path(hass.config.path("blueprints", "automation", "nvr_inference"))
    await hass.async_add_executor_job(_copy, source, target / source.name)
    assert await async_setup_component(
        hass,
        "automation",
        {
            "automation": {
                "alias": "Face in the right zone",
                "use_blueprint": {
                    "path": "nvr_inference/notify_object_in_zone.yaml",
                    "input": {
                        "camera_events": EVENT,
                        "zone": "right",
                        "object_class": "face",
                        "picture": "image.cam_0_last_event",
                    },
                },
            }
        },
    )


def _copy(source: Path, target: Path) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(source.read_bytes())


async def test_an_existing_event_entity_keeps_its_id_under_its_new_name(
    hass: HomeAssistant, sample_video: Path, entity_registry: er.EntityRegistry
) -> None:
    """Renamed "Object events" (the worker's object count is "Objects"); the id stays."""
    entry = make_nvr_entry(hass, sample_video)
    entity_registry.async_get_or_create(  # what an older release registered
        "event", DOMAIN, "nvr_0_objects", config_entry=entry, suggested_object_id="cam_0_objects"
    )
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    state = hass.states.get("event.cam_0_objects")
    assert state is not None
    assert state.attributes["friendly_name"] == "Cam 0 Object events"
    assert hass.states.get(EVENT) is None
    assert await hass.config_entries.async_unload(entry.entry_id)
