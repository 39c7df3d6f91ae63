"""The control plane's rules, with the real gate and a recording transport (no broker needed).

The order of a change (persist, gate, acknowledge), failing closed, the commands, the pause
hooks that run before an acknowledgement, and the last word when a host stops. The same class
runs in both hosts; the integration and worker tests then show it on the wire.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
import json
from pathlib import Path
from typing import Any

import pytest

from custom_components.nvr_inference.engine.contract.control import ControlPlane
from custom_components.nvr_inference.engine.contract.host import (
    HostInfo,
    HostKind,
    availability_payload,
)
from custom_components.nvr_inference.engine.contract.messages import Detection, DetectionMessage
from custom_components.nvr_inference.engine.discovery.devices import DiscoverySpec
from custom_components.nvr_inference.engine.fence.gate import PauseGate, UnknownSourceError
from custom_components.nvr_inference.engine.fence.pause_store import (
    FilePauseStore,
    PauseState,
    PauseStoreError,
)
from custom_components.nvr_inference.engine.fence.publisher import FencedPublisher
from custom_components.nvr_inference.engine.pipeline.source_status import (
    SourceState,
    SourceStatus,
    utc_now,
)
from custom_components.nvr_inference.engine.video.sources import SourceConfig

from ...conftest import CallbackTransport

ME = HostInfo("worker:me@box", HostKind.WORKER, "me")


class Store:
    """A pause store that records what it was asked to save, and when."""

    def __init__(self, gate: PauseGate, *, deferred: bool = False, error: str | None = None):
        self.gate = gate
        self.deferred = deferred
        self.error = error
        self.saved: list[PauseState] = []
        self.gate_at_save: list[bool] = []
        self.pending: list[Callable[[str | None], None]] = []

    def save(self, state: PauseState, done: Callable[[str | None], None]) -> None:
        self.saved.append(state)
        self.gate_at_save.append(self.gate.snapshot().paused)
        if self.deferred:
            self.pending.append(done)
        else:
            done(self.error)

    def finish(self) -> None:
        while self.pending:
            self.pending.pop(0)(self.error)


class Wire(CallbackTransport):
    """The transport, recording (topic, body) and the gate's state at each hand-over."""

    def __init__(self, gate: PauseGate) -> None:
        super().__init__(self._record)
        self.gate = gate
        self.sent: list[tuple[str, Any]] = []

    def _record(self, topic: str, payload: Any) -> None:
        try:
            body = json.loads(payload) if payload else payload
        except ValueError:
            body = payload
        self.sent.append((topic, body))

    def statuses(self) -> list[dict[str, Any]]:
        return [body for topic, body in self.sent if topic == "nvr/control/status"]


def _plane(
    *, deferred: bool = False, error: str | None = None, discovery: bool = False
) -> tuple[ControlPlane, PauseGate, Wire, Store]:
    sources = {0: SourceConfig(0, "a.avi", "Porch"), 1: SourceConfig(1, "b.avi", "Gate")}
    gate = PauseGate(sources)
    wire = Wire(gate)
    store = Store(gate, deferred=deferred, error=error)
    plane = ControlPlane(
        host=ME,
        base_topic="nvr",
        sources=sources,
        gate=gate,
        transport=wire,
        store=store,
        stats=dict,
        discovery=DiscoverySpec("nvr_worker_me", "me", include_control=True) if discovery else None,
    )
    return plane, gate, wire, store


def test_a_pause_is_saved_then_applied_then_acknowledged() -> None:
    plane, gate, wire, store = _plane()
    plane.set_paused(True, None, "switch")
    assert store.saved == [PauseState(paused=True)]
    assert store.gate_at_save == [False]  # saved before the gate changed
    ack = wire.statuses()[-1]
    assert ack["paused"] is True
    assert ack["reason"] == "switch"
    assert ack["host"] == ME.as_dict()
    assert gate.snapshot().paused is True


def test_with_a_slow_store_nothing_changes_until_it_is_saved_and_saves_accumulate() -> None:
    plane, gate, wire, store = _plane(deferred=True)
    plane.set_paused(True)
    plane.set_paused(True, 1)
    assert gate.snapshot().paused is False  # not saved yet: not applied, not acknowledged
    assert wire.statuses() == []
    # The second save holds both switches, though the first was not applied when it was asked.
    assert store.saved == [PauseState(True), PauseState(True, frozenset({1}))]
    store.finish()
    assert gate.snapshot().paused is True
    assert gate.snapshot().sources == {0: False, 1: True}
    assert [s["paused"] for s in wire.statuses()] == [True, True]
    assert plane.pause_state == PauseState(True, frozenset({1}))


def test_a_store_that_cannot_save_still_pauses_and_says_so() -> None:
    plane, gate, wire, store = _plane(error="cannot write the state file: read-only")
    plane.set_paused(True, 0)
    assert gate.snapshot().sources[0] is True
    ack = wire.statuses()[-1]
    assert ack["sources"]["0"]["paused"] is True
    assert ack["store_error"] == "cannot write the state file: read-only"
    store.error = None
    plane.set_paused(False, 0)
    assert wire.statuses()[-1]["store_error"] is None


def test_restore_applies_the_saved_pause_and_forgets_removed_sources() -> None:
    plane, gate, _wire, _store = _plane()
    plane.restore(PauseState(False, frozenset({1, 7})))
    assert gate.snapshot().sources == {0: False, 1: True}
    assert plane.pause_state == PauseState(False, frozenset({1}))
    assert plane.status_message()["reason"] == "restored"


def test_restore_fails_closed_when_the_store_cannot_be_read() -> None:
    plane, gate, _wire, _store = _plane()
    plane.restore(None, error="the state file is not valid JSON")
    assert gate.snapshot().paused is True
    status = plane.status_message()
    assert status["reason"] == "store_error"
    assert status["store_error"] == "the state file is not valid JSON"
    assert status["state"] == "paused"


def test_nothing_saved_starts_open() -> None:
    plane, gate, _wire, _store = _plane()
    plane.restore(None)
    assert gate.snapshot().paused is False
    assert plane.status_message()["reason"] == "start"


def test_commands_and_their_errors() -> None:
    plane, gate, wire, _store = _plane()
    plane.handle_command(b'{"command": "pause", "source_id": 1}', retained=False)
    assert gate.snapshot().sources[1] is True
    plane.handle_command(b'{"command": "status"}', retained=False)
    assert wire.sent[-1][0] == "nvr/control/status"
    before = gate.snapshot()
    for payload, retained in (
        (b'{"command": "resume", "source_id": 9}', False),
        (b'{"command": "resume"}', True),
        (b"resume", False),
    ):
        plane.handle_command(payload, retained=retained)
        topic, body = wire.sent[-1]
        assert topic == "nvr/control/error"
        assert body["error"]
    assert gate.snapshot() == before
    assert plane.last_error is not None
    plane.handle_command(b"", retained=True)  # clearing a retained command: not an error
    assert wire.sent[-1][0] == "nvr/control/error"  # nothing new
    with pytest.raises(UnknownSourceError):
        plane.set_paused(True, 9)


def test_pause_hooks_run_inside_the_fence_before_the_acknowledgement() -> None:
    plane, _gate, wire, _store = _plane()
    seen: list[tuple[frozenset[int], int]] = []
    plane.add_pause_hook(lambda sources: seen.append((sources, len(wire.statuses()))))
    plane.set_paused(True, 1)
    plane.set_paused(True)  # source 1 was paused already: only 0 is newly paused
    plane.set_paused(False)  # a resume pauses nothing
    assert seen == [(frozenset({1}), 0), (frozenset({0}), 1)]


def test_close_is_the_last_word_and_the_gate_refuses_everything_after() -> None:
    plane, gate, wire, _store = _plane()
    plane.source_changed(SourceStatus(0, SourceState.RUNNING, utc_now()))
    gate.note_captured(0, 5)
    final, offline = plane.close()
    assert final is None and offline is None  # the transport's handles (none here)
    (status_topic, status), (availability_topic, availability) = wire.sent[-2:]
    assert status_topic == "nvr/control/status"
    assert status["state"] == "stopped"
    assert status["reason"] == "stopped"
    assert {s["state"] for s in status["sources"].values()} == {"stopped"}
    assert availability_topic == "nvr/availability"
    assert availability == {"state": "offline", "host": ME.id}
    with gate.lock:
        assert not gate.admits(0, 6)
    count = len(wire.sent)
    plane.publish_status()
    plane.source_changed(SourceStatus(0, SourceState.STOPPED, utc_now()))
    assert len(wire.sent) == count


def test_nothing_is_queued_while_offline_and_announce_says_it_all() -> None:
    plane, _gate, wire, _store = _plane(discovery=True)
    wire.connected = False
    plane.set_paused(True)
    assert wire.sent == []
    wire.connected = True
    plane.announce()
    topics = [topic for topic, _body in wire.sent]
    # The fresh status before `online`: after a crash the broker still retains the killed
    # run's status, and a consumer woken by `online` must not read that one as current.
    assert topics == [
        "nvr/control/status",
        "nvr/availability",
        "homeassistant/device/nvr_worker_me/config",
        "homeassistant/device/nvr_worker_me_s0/config",
        "homeassistant/device/nvr_worker_me_s1/config",
    ]
    assert wire.sent[0][1]["paused"] is True
    config = wire.sent[2][1]
    assert config["o"]["name"] == "nvr_inference worker"
    assert config["avty"] == [{"t": "nvr/availability", "val_tpl": "{{ value_json.state }}"}]
    assert [wire.sent[i][1]["dev"]["name"] for i in (3, 4)] == ["Porch", "Gate"]
    # Removing clears every device: the hub's and each source's.
    wire.sent.clear()
    plane.remove_discovery()
    assert [topic for topic, _ in wire.sent] == topics[2:]
    # A source the last run had (its retained status named it) and this one has not: its
    # device is cleared at each announce; the configured ones are not.
    plane.retire_sources({0, 1, 5})
    wire.sent.clear()
    plane.announce()
    cleared = [topic for topic, body in wire.sent if body == ""]
    assert cleared == ["homeassistant/device/nvr_worker_me_s5/config"]


def test_another_host_on_the_availability_topic_is_noticed() -> None:
    plane, _gate, _wire, _store = _plane()
    plane.observe_availability(availability_payload(ME, online=True))
    assert plane.foreign is None
    other = HostInfo("ha:entry", HostKind.INTEGRATION, "Home")
    plane.observe_availability(availability_payload(other, online=False))
    assert plane.foreign is None  # gone: not a problem
    plane.observe_availability(availability_payload(other, online=True))
    assert plane.foreign is not None
    assert plane.foreign.host == "ha:entry"


def test_the_left_behind_online_taken_over_at_start_is_not_another_host() -> None:
    """Its retained copy can reach our subscription before our own `online` replaces it."""
    plane, _gate, _wire, _store = _plane()
    left = HostInfo("ha:crashed", HostKind.INTEGRATION, "Home")
    plane.took_over(left.id)
    plane.observe_availability(availability_payload(left, online=True), retained=True)
    assert plane.foreign is None
    plane.observe_availability(availability_payload(left, online=True))  # it came back, live
    assert plane.foreign is not None
    assert plane.foreign.host == left.id


def test_the_state_file_round_trip_and_its_failures(tmp_path: Path) -> None:
    store = FilePauseStore(tmp_path / "state" / "nvr.json")
    assert store.load() is None  # never saved
    errors: list[str | None] = []
    store.save(PauseState(True, frozenset({3, 1})), errors.append)
    assert errors == [None]
    assert json.loads(store.path.read_text()) == {
        "format": 1,
        "paused": True,
        "paused_sources": [1, 3],
    }
    assert store.load() == PauseState(True, frozenset({1, 3}))
    assert [p.name for p in store.path.parent.iterdir()] == ["nvr.json"]  # no temp file left

    for text, message in (
        ("{", "not valid JSON"),
        ("[]", "not a JSON object"),
        ('{"format": 2, "paused": true, "paused_sources": []}', "unknown format"),
        ('{"format": 1, "paused": 1, "paused_sources": []}', "'paused'"),
        ('{"format": 1, "paused": true, "paused_sources": ["0"]}', "paused_sources"),
    ):
        store.path.write_text(text)
        with pytest.raises(PauseStoreError, match=message):
            store.load()
    directory = FilePauseStore(tmp_path)  # a folder where the file should be
    with pytest.raises(PauseStoreError, match="cannot read the state file"):
        directory.load()
    blocked = FilePauseStore(tmp_path / "state" / "nvr.json" / "below-a-file.json")
    blocked.save(PauseState(), errors.append)
    assert errors[-1] is not None
    assert "cannot write the state file" in errors[-1]


def test_pause_state_from_a_retained_status() -> None:
    status = {
        "paused": True,
        "sources": {"0": {"paused_by_source": True}, "1": {"paused_by_source": False}, "x": {}},
    }
    assert PauseState.from_status(status, [0, 1]) == PauseState(True, frozenset({0}))
    assert PauseState.from_status({"sources": "junk"}, [0]) == PauseState()


def test_a_pause_clears_what_the_last_message_said_before_its_acknowledgement() -> None:
    """A consumer holds "nothing" while a source is paused and after the resume, not 3 objects."""
    plane, gate, wire, _store = _plane()
    publisher = FencedPublisher(gate, wire, "nvr")
    plane.add_pause_hook(publisher.sources_paused)
    moment = datetime(2026, 12, 2, 10, 0, tzinfo=UTC)
    seen = DetectionMessage(
        0, 7, moment, "person", 640, 480, (Detection("person", 0, 0.9, 1, 1, 1, 1),)
    )
    assert publisher(seen)
    plane.set_paused(True, 1, "command")  # another source: nothing to clear for 0
    plane.set_paused(True, None, "command")
    topics = [topic for topic, _ in wire.sent]
    cleared = wire.sent[topics.index("nvr/detections/0", 1)][1]
    assert cleared["detections"] == [] and cleared["paused"] is True
    assert cleared["frame_id"] == 7  # the frame it clears, not a frame of its own
    # ... before the acknowledgement of the pause that caused it, and only once.
    assert topics.index("nvr/detections/0", 1) < len(topics) - 1
    assert wire.sent[-1][0] == "nvr/control/status" and wire.sent[-1][1]["paused"] is True
    assert topics.count("nvr/detections/0") == 2
    plane.set_paused(False, None, "command")
    plane.set_paused(True, None, "command")
    assert [t for t, _ in wire.sent].count("nvr/detections/0") == 2


def _holding_publisher() -> tuple[ControlPlane, PauseGate, Wire, FencedPublisher]:
    plane, gate, wire, _store = _plane()
    publisher = FencedPublisher(gate, wire, "nvr")
    plane.add_pause_hook(publisher.sources_paused)
    moment = datetime(2026, 12, 2, 10, 0, tzinfo=UTC)
    seen = DetectionMessage(
        0, 7, moment, "person", 640, 480, (Detection("person", 0, 0.9, 1, 1, 1, 1),)
    )
    assert publisher(seen)
    return plane, gate, wire, publisher


def test_a_pause_handled_after_the_final_stopped_publishes_nothing() -> None:
    """A command that was already on its way when the host stopped changes nothing on the wire."""
    plane, _gate, wire, _publisher = _holding_publisher()
    plane.set_paused(True, 1, "command")  # source 1 paused before the stop: 0 still holds
    plane.close()
    count = len(wire.sent)
    assert wire.sent[-2][1]["state"] == "stopped"
    plane.set_paused(True, None, "command")
    plane.set_paused(False, 1, "command")
    plane.handle_command(b'{"command": "pause", "source_id": 0}', retained=False)
    plane.handle_command(b"not json", retained=False)
    plane.announce()
    assert wire.sent[count:] == []


def test_a_full_backlog_drops_detections_never_clears_events_or_the_status() -> None:
    plane, _gate, wire, publisher = _holding_publisher()
    wire.backlogged = True
    moment = datetime(2026, 12, 2, 10, 0, 1, tzinfo=UTC)
    busy = DetectionMessage(
        0, 8, moment, "person", 640, 480, (Detection("person", 0, 0.9, 1, 1, 1, 1),)
    )
    count = len(wire.sent)
    assert not publisher(busy)
    assert publisher.backlog_dropped == 1 and wire.sent[count:] == []
    empty = DetectionMessage(0, 9, moment, "person", 640, 480)
    assert publisher(empty)  # the message that says the objects are gone is never dropped
    plane.set_paused(True, None, "command")
    assert wire.sent[-1][0] == "nvr/control/status" and wire.sent[-1][1]["paused"] is True
