"""One live host per base topic: availability payloads, the verdict, and the start check."""

from __future__ import annotations

import json

from custom_components.nvr_inference.engine.contract.host import (
    Availability,
    HostInfo,
    HostKind,
    StartCheck,
    availability_payload,
    foreign_host,
    parse_availability,
)

ME = HostInfo("ha:entry-1", HostKind.INTEGRATION, "Home")
WORKER = HostInfo("worker:nvr_worker_garage@pi", HostKind.WORKER, "garage")


def test_availability_payloads_name_their_host_and_old_ones_still_read() -> None:
    payload = availability_payload(WORKER, online=True)
    assert json.loads(payload) == {"state": "online", "host": WORKER.id}
    assert parse_availability(payload) == Availability(True, WORKER.id)
    assert parse_availability(b"offline") == Availability(False, None)  # an older release
    assert parse_availability("online") == Availability(True, None)
    assert parse_availability('{"state": "sleepy"}') is None
    assert parse_availability(b"\xff") is None


def test_only_another_live_host_blocks() -> None:
    status = {"host": WORKER.as_dict()}
    online = parse_availability(availability_payload(WORKER, online=True))
    offline = parse_availability(availability_payload(WORKER, online=False))
    found = foreign_host(ME, status, online)
    assert found is not None
    assert (found.kind, found.name) == ("worker", "garage")
    assert "in use by another worker ('garage'" in found.describe("nvr")
    assert foreign_host(ME, status, offline) is None  # gone cleanly, or by its last will
    assert foreign_host(WORKER, status, online) is None  # ourselves, restarted
    assert foreign_host(ME, None, Availability(True, None)) is None  # an older release
    assert foreign_host(ME, None, None) is None  # nothing retained at all


def test_the_start_check_completes_on_its_own_probe_only() -> None:
    completed: list[bool] = []
    check = StartCheck("nvr", lambda: completed.append(True))
    assert check.topics == ("nvr/control/status", "nvr/availability", "nvr/control/probe")
    check.offer("nvr/control/status", json.dumps({"host": WORKER.as_dict()}).encode())
    check.offer("nvr/availability", availability_payload(WORKER, online=True).encode())
    check.offer("nvr/control/probe", b"someone-else's-probe")
    assert completed == []
    check.offer("nvr/control/probe", check.probe_payload.encode())
    assert completed == [True]
    assert check.complete
    found = check.verdict(ME)
    assert found is not None
    assert found.id == WORKER.id
    check.offer("nvr/availability", b"")  # after completion: ignored
    assert check.verdict(ME) is not None
