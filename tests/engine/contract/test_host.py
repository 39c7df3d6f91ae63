"""One live host per base topic: availability payloads, the verdict, and the start check."""

from __future__ import annotations

import json
import logging

import pytest

from custom_components.nvr_inference.engine.contract.host import (
    STALE_AFTER,
    STATUS_INTERVAL,
    STATUS_REQUEST,
    Availability,
    ForeignHost,
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
    check.offer("nvr/control/status", _status(WORKER), retained=True)
    check.offer("nvr/availability", _online(WORKER), retained=True)
    check.offer("nvr/control/probe", b"someone-else's-probe", retained=False)
    assert completed == []
    check.offer("nvr/control/probe", check.probe_payload.encode(), retained=False)
    assert completed == [True]
    assert check.complete
    found = check.verdict(ME)
    assert found is not None
    assert found.id == WORKER.id
    check.offer("nvr/availability", b"", retained=True)  # a retained copy after completion
    assert check.verdict(ME) is not None
    assert completed == [True]


def _status(host: HostInfo) -> bytes:
    return json.dumps({"paused": False, "host": host.as_dict()}).encode()


def _online(host: HostInfo) -> bytes:
    return availability_payload(host, online=True).encode()


def _read(*retained: tuple[str, bytes]) -> StartCheck:
    """A check that has read `retained` and got its probe back."""
    check = StartCheck("nvr", lambda: None, stale_after=0.5)
    for topic, payload in retained:
        check.offer(topic, payload, retained=True)
    check.offer(check.probe_topic, check.probe_payload, retained=False)
    return check


LEFT_BEHIND = (("nvr/control/status", _status(WORKER)), ("nvr/availability", _online(WORKER)))


def test_the_bound_is_two_and_a_half_status_intervals() -> None:
    assert STATUS_INTERVAL == 10.0
    assert STALE_AFTER == 2.5 * STATUS_INTERVAL
    assert StartCheck("nvr", lambda: None).stale_after == STALE_AFTER
    assert StartCheck("nvr", lambda: None).request_topic == "nvr/control/commands"
    assert json.loads(STATUS_REQUEST) == {"command": "status"}


def test_nothing_to_watch_without_another_hosts_online() -> None:
    heard: list[bool] = []
    assert _read().watch(ME, lambda: heard.append(True)) is None
    ours = _read(("nvr/availability", _online(ME)))
    assert ours.watch(ME, lambda: heard.append(True)) is None
    gone = _read(("nvr/availability", availability_payload(WORKER, online=False).encode()))
    assert gone.watch(ME, lambda: heard.append(True)) is None
    assert gone.verdict(ME) is None
    assert gone.stale is None
    assert heard == []


def test_a_silent_host_is_stale_and_taken_over(caplog: pytest.LogCaptureFixture) -> None:
    heard: list[bool] = []
    check = _read(*LEFT_BEHIND)
    watched = check.watch(ME, lambda: heard.append(True))
    assert watched is not None
    assert watched.id == WORKER.id
    # More retained copies (a resubscription) prove nothing; nor does a third host speaking.
    check.offer("nvr/control/status", _status(WORKER), retained=True)
    check.offer("nvr/control/status", _status(ME), retained=False)
    check.offer("nvr/availability", _online(WORKER), retained=True)
    assert heard == []
    # The host waited `stale_after` without a word from it.
    with caplog.at_level(logging.WARNING):
        assert check.verdict(ME) is None
        assert check.verdict(ME) is None
    assert check.stale == watched
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1  # logged once
    assert f"another worker ('garage', id {WORKER.id})" in warnings[0]
    assert "stopped without its last will" in warnings[0]
    assert "said nothing for 0.5 s" in warnings[0]


@pytest.mark.parametrize(
    ("topic", "payload"),
    [
        ("nvr/control/status", _status(WORKER)),  # its refresh, or its answer to our request
        ("nvr/availability", _online(WORKER)),  # it (re)connected
    ],
)
def test_a_host_that_speaks_during_the_watch_is_live(topic: str, payload: bytes) -> None:
    heard: list[bool] = []
    check = _read(*LEFT_BEHIND)
    assert check.watch(ME, lambda: heard.append(True)) is not None
    check.offer(topic, payload, retained=False)
    assert heard == [True]
    check.offer(topic, payload, retained=False)
    assert heard == [True]  # told once
    found = check.verdict(ME)
    assert found is not None
    assert found.id == WORKER.id
    assert check.stale is None


def test_a_host_that_spoke_before_the_probe_was_back_needs_no_watch() -> None:
    check = StartCheck("nvr", lambda: None)
    for topic, payload in LEFT_BEHIND:
        check.offer(topic, payload, retained=True)
    check.offer("nvr/control/status", _status(WORKER), retained=False)  # its refresh, just now
    check.offer(check.probe_topic, check.probe_payload, retained=False)
    assert check.watch(ME, lambda: None) is None
    found = check.verdict(ME)
    assert found is not None
    assert found.id == WORKER.id


@pytest.mark.parametrize(
    "payload",
    [availability_payload(WORKER, online=False).encode(), b""],
    ids=["offline", "cleared"],
)
def test_a_topic_freed_during_the_watch_ends_it_without_a_takeover(payload: bytes) -> None:
    heard: list[bool] = []
    check = _read(*LEFT_BEHIND)
    assert check.watch(ME, lambda: heard.append(True)) is not None
    check.offer("nvr/availability", payload, retained=False)
    assert heard == [True]
    assert check.verdict(ME) is None
    assert check.stale is None  # it went; nothing was taken over


def test_an_unwatched_online_still_counts_as_live() -> None:
    """A host that reads without watching (the entry's release) learns nothing of liveness."""
    check = _read(*LEFT_BEHIND)
    assert check.verdict(ME) is not None
    assert check.stale is None


def test_describe_says_how_a_left_behind_online_stops_counting() -> None:
    text = ForeignHost(WORKER.id, "worker", "garage").describe("nvr")
    assert "said nothing for 25 s" in text
    assert "publish an empty retained message to nvr/availability" in text
