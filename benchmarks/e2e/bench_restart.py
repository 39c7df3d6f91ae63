"""What an integration restart costs until the saved pause holds: numbers, not a test.

Ten setups of an entry whose store says paused, with Home Assistant's real MQTT client and a
real broker. Timed on the event loop: the store read and applying it to the gate (the first
thing a setup does, before any pipeline starts), from the start of the setup to the gate being
closed, and the base-topic check that follows (subscribe, probe, wait for it), which is what
most of the setup's time before the pipelines start goes to.
"""

from __future__ import annotations

import json
from pathlib import Path
import statistics
import time
from typing import Any
from unittest.mock import patch

from homeassistant.core import HomeAssistant
import pytest

from benchmarks.harness import percentile, write_results
from custom_components.nvr_inference import controller as controller_module
from custom_components.nvr_inference.engine.contract.control import ControlPlane
from custom_components.nvr_inference.storage import HassPauseStore
from tests.integration.conftest import make_nvr_entry

RUNS = 10


def _ms(values: list[float]) -> dict[str, float]:
    return {
        "p50_ms": round(statistics.median(values), 2),
        "max_ms": round(max(values), 2),
        "p90_ms": round(percentile(values, 0.9), 2),
    }


@pytest.mark.usefixtures("enable_custom_integrations", "mqtt_entry")
@pytest.mark.parametrize("broker", [False], indirect=True, ids=["default"])
async def test_restart_cost(
    hass: HomeAssistant, sample_video: Path, hass_storage: dict[str, Any]
) -> None:
    times: dict[str, list[float]] = {"check": [], "load": [], "apply": [], "setup_to_paused": []}
    check, load, restore = (
        controller_module.async_check_base_topic,
        HassPauseStore.async_load,
        ControlPlane.restore,
    )
    began = [0.0]

    async def timed_check(*args: Any) -> Any:
        started = time.perf_counter()
        try:
            return await check(*args)
        finally:
            times["check"].append((time.perf_counter() - started) * 1000)

    async def timed_load(store: HassPauseStore) -> Any:
        started = time.perf_counter()
        try:
            return await load(store)
        finally:
            times["load"].append((time.perf_counter() - started) * 1000)

    def timed_restore(plane: ControlPlane, *args: Any, **kwargs: Any) -> None:
        started = time.perf_counter()
        restore(plane, *args, **kwargs)
        now = time.perf_counter()
        times["apply"].append((now - started) * 1000)
        times["setup_to_paused"].append((now - began[0]) * 1000)

    with (
        patch.object(controller_module, "async_check_base_topic", side_effect=timed_check),
        patch.object(HassPauseStore, "async_load", autospec=True, side_effect=timed_load),
        patch.object(ControlPlane, "restore", autospec=True, side_effect=timed_restore),
    ):
        for _ in range(RUNS):
            entry = make_nvr_entry(hass, sample_video)
            hass_storage[f"nvr_inference.{entry.entry_id}"] = {
                "version": 1,
                "minor_version": 1,
                "key": f"nvr_inference.{entry.entry_id}",
                "data": {"format": 1, "paused": True, "paused_sources": []},
            }
            began[0] = time.perf_counter()
            assert await hass.config_entries.async_setup(entry.entry_id)
            assert entry.runtime_data.controller.gate.snapshot().paused
            assert await hass.config_entries.async_remove(entry.entry_id)
            await hass.async_block_till_done()
    result = {"runs": RUNS} | {name: _ms(values) for name, values in times.items()}
    write_results("restart", "integration", result)
    print("\nRESTART integration", json.dumps(result))
