"""The saved pause on a real disk: a save that fails is never acknowledged as saved, one that
succeeds is synced (Home Assistant's `Store` logged a failed write and returned, unsynced)."""

from __future__ import annotations

import errno
import os
from pathlib import Path
from unittest.mock import patch

from homeassistant.core import HomeAssistant
from homeassistant.helpers import issue_registry as ir
import pytest

from custom_components.nvr_inference.const import DOMAIN

from ..mqtt_helpers import Subscriber, is_status
from .conftest import pause_file, read_saved_pause, setup_nvr_entry

pytestmark = [pytest.mark.pipeline, pytest.mark.usefixtures("enable_custom_integrations")]

PAUSE_CAM_0 = {"entity_id": "switch.cam_0_pause_detections"}

PAUSE_STORE = "custom_components.nvr_inference.engine.fence.pause_store"  # the one atomic write


async def _switch(hass: HomeAssistant, service: str) -> None:
    await hass.services.async_call("switch", service, PAUSE_CAM_0, blocking=True)


@pytest.mark.usefixtures("mqtt_entry")
async def test_a_pause_that_cannot_be_saved_says_so_and_stays_paused(
    hass: HomeAssistant,
    sample_video: Path,
    subscriber: Subscriber,
    issue_registry: ir.IssueRegistry,
) -> None:
    """A read-only disk: the pause applies (fail closed), the ack carries `store_error`."""
    entry = await setup_nvr_entry(hass, sample_video)
    controller = entry.runtime_data.controller
    issue_id = f"pause_store_unreadable_{entry.entry_id}"
    refused = OSError(errno.EROFS, "Read-only file system")
    with patch(
        "custom_components.nvr_inference.engine.fence.pause_store.os.replace", side_effect=refused
    ):
        await _switch(hass, "turn_on")

    status = controller.status_message()
    assert status["sources"]["0"]["paused"] is True
    assert "Cannot save the pause" in status["store_error"]
    assert "Read-only file system" in status["store_error"]
    # The acknowledgement on the wire says so too, not just the entity.
    ack = await hass.async_add_executor_job(
        subscriber.wait_for,
        is_status(lambda s: s["sources"]["0"]["paused"] and s["store_error"] is not None),
    )
    assert "Read-only file system" in ack.json()["store_error"]
    issue = issue_registry.async_get_issue(DOMAIN, issue_id)
    assert issue is not None
    assert "Read-only file system" in issue.translation_placeholders["error"]
    folder = pause_file(hass, entry).parent
    assert list(folder.iterdir()) == []  # no file, and no temporary file left behind

    # The disk takes writes again: the next change is saved, the error and the issue go.
    await _switch(hass, "turn_off")
    assert read_saved_pause(hass, entry) == {"format": 1, "paused": False, "paused_sources": []}
    assert controller.status_message()["store_error"] is None
    assert issue_registry.async_get_issue(DOMAIN, issue_id) is None
    assert await hass.config_entries.async_unload(entry.entry_id)


@pytest.mark.usefixtures("mqtt_entry")
async def test_a_saved_pause_is_synced_before_it_is_acknowledged(
    hass: HomeAssistant, sample_video: Path
) -> None:
    """The file's data, then the folder's entry for it, reach the disk before the ack."""
    entry = await setup_nvr_entry(hass, sample_video)
    path = pause_file(hass, entry)
    synced: list[Path] = []
    real_fsync = os.fsync

    def spy(fd: int) -> None:
        synced.append(Path(os.readlink(f"/proc/self/fd/{fd}")))
        real_fsync(fd)

    with patch(
        "custom_components.nvr_inference.engine.fence.pause_store.os.fsync", side_effect=spy
    ):
        await _switch(hass, "turn_on")

    assert read_saved_pause(hass, entry)["paused_sources"] == [0]
    assert len(synced) == 2, synced
    written, folder = synced
    # The data is synced under its temporary name (renamed into place after the sync).
    assert written.parent == path.parent.resolve()
    assert written.name.startswith(f".{path.name}.")
    assert folder == path.parent.resolve()
    assert await hass.config_entries.async_unload(entry.entry_id)
