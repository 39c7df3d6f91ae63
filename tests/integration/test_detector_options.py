"""The entry's detector options reach the engine's detector spec."""

from __future__ import annotations

from custom_components.nvr_inference.const import (
    CONF_DETECTOR,
    CONF_MOTION_GATING,
    DETECTOR_PERSON,
)
from custom_components.nvr_inference.controller import detector_from_entry


def test_motion_gating_is_on_unless_the_option_turns_it_off() -> None:
    data = {CONF_DETECTOR: DETECTOR_PERSON}
    assert detector_from_entry(data, {}).gated
    assert detector_from_entry(data, {CONF_MOTION_GATING: True}).gated
    assert not detector_from_entry(data, {CONF_MOTION_GATING: False}).gated
