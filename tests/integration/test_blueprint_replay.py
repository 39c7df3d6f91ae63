"""The zone blueprint never notifies about an event a restart shows again.

After a crash the event entity goes `unavailable`, and when its host is back the entity shows
its last event again: a state change, but not a new event. Tried on Home Assistant: two
notifications about something from before the crash. The blueprint ignores changes from
`unavailable` and `unknown`; this runs it in a real `hass`, on a stand-in event entity.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from homeassistant.core import HomeAssistant
from homeassistant.setup import async_setup_component
from pytest_homeassistant_custom_component.common import async_mock_service

REPO = Path(__file__).resolve().parents[2]
BLUEPRINT = REPO / "blueprints" / "automation" / "nvr_inference" / "notify_object_in_zone.yaml"
EVENT = "event.porch_objects"


def _event(when: str, event_id: str) -> tuple[str, dict[str, Any]]:
    """The state an event entity takes for one event (state: when it fired)."""
    return when, {
        "event_type": "person_new",
        "type": "new",
        "label": "person",
        "id": event_id,
        "camera": "Porch",
        "entered": ["driveway"],
        "top_score": 0.9,
    }


async def test_a_change_from_unavailable_or_unknown_is_not_a_new_event(
    hass: HomeAssistant,
) -> None:
    target = Path(hass.config.path("blueprints", "automation", "nvr_inference", BLUEPRINT.name))
    await hass.async_add_executor_job(target.parent.mkdir, 0o755, True, True)
    await hass.async_add_executor_job(target.write_bytes, BLUEPRINT.read_bytes())
    notified = async_mock_service(hass, "notify", "notify")
    hass.states.async_set(EVENT, "unknown")
    assert await async_setup_component(
        hass,
        "automation",
        {
            "automation": {
                "alias": "Person in the driveway",
                "use_blueprint": {
                    "path": f"nvr_inference/{BLUEPRINT.name}",
                    "input": {
                        "camera_events": EVENT,
                        "zone": "driveway",
                        "object_class": "person",
                        "picture": "image.porch_last_event",
                    },
                },
            }
        },
    )
    await hass.async_block_till_done()
    first = _event("2026-12-02T10:00:00.000+00:00", "a")
    second = _event("2026-12-02T10:05:00.000+00:00", "b")
    hass.states.async_set(EVENT, *first)  # from unknown: the entity's first state
    await hass.async_block_till_done()
    hass.states.async_set(EVENT, *second)  # a new event
    await hass.async_block_till_done()
    assert len(notified) == 1
    for _ in range(2):  # the host crashed and came back (availability flapped): the same event
        hass.states.async_set(EVENT, "unavailable")
        await hass.async_block_till_done()
        hass.states.async_set(EVENT, *second)
        await hass.async_block_till_done()
    assert len(notified) == 1
    third = _event("2026-12-02T10:09:00.000+00:00", "c")
    hass.states.async_set(EVENT, *third)
    await hass.async_block_till_done()
    assert len(notified) == 2
    assert notified[-1].data["title"] == "Person in driveway"
