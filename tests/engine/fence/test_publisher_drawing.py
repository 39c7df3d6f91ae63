"""Snapshots are drawn only for frames the gate still admits (issue 22: no per-frame work twice).

The runner decides a snapshot is due; the publisher draws it after its gate check, so a frame
refused at the fence (paused meanwhile) costs no JPEG encode, and one it admits is drawn once.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from custom_components.nvr_inference.engine.contract.messages import (
    Detection,
    DetectionMessage,
    TrackSnapshot,
)
from custom_components.nvr_inference.engine.fence.gate import PauseGate
from custom_components.nvr_inference.engine.fence.publisher import FencedPublisher

from ...conftest import CallbackTransport


def _setup() -> tuple[PauseGate, FencedPublisher, list[tuple[str, Any]], list[int]]:
    gate = PauseGate([0])
    gate.note_captured(0, 10)
    sent: list[tuple[str, Any]] = []
    wire = CallbackTransport(lambda t, p: sent.append((t, p)))
    publisher = FencedPublisher(gate, wire, "nvr", snapshots=True)
    return gate, publisher, sent, []


def _message(draws: list[int]) -> DetectionMessage:
    def draw() -> tuple[bytes | None, tuple[TrackSnapshot, ...]]:
        draws.append(1)
        return b"\xff\xd8jpeg", ()

    return DetectionMessage(
        0,
        10,
        datetime(2026, 12, 3, 20, 0, tzinfo=UTC),
        "motion",
        320,
        240,
        (Detection("motion", 0, 0.9, 50, 50, 20, 20),),
        draw=draw,
    )


def test_a_frame_refused_at_the_gate_is_not_drawn() -> None:
    gate, publisher, sent, draws = _setup()
    gate.pause(0)
    assert publisher(_message(draws)) is False
    assert draws == []  # decided, never encoded
    assert not [t for t, _p in sent if t.startswith("nvr/detections") or "snapshot" in t]
    assert publisher.refused == 1


def test_an_admitted_frame_is_drawn_once_and_its_snapshot_published() -> None:
    _gate, publisher, sent, draws = _setup()
    assert publisher(_message(draws)) is True
    assert draws == [1]
    assert ("nvr/sources/0/snapshot", b"\xff\xd8jpeg") in sent
