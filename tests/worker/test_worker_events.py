"""Events through a real broker, judged by an independent client: order, and the fence.

Two looping copies of the sample scene (two faces on frames 10-99 of every 13 s loop), the face
detector, a zone on the right half of source 0. The client checks that each event runs new <
update* < end, that a pause ends every open event of its source *before* the acknowledgement
and publishes nothing of that source after it (no event, no update, no snapshot, no zone
change), that the other source's events flow on, and that a resume starts new events.
"""

from __future__ import annotations

from collections.abc import Callable
import json
from pathlib import Path
from typing import Any

import pytest

from ..mqtt_helpers import Broker, Received, Subscriber
from .conftest import WorkerProcess, barrier, command, last_seq, status_of, worker_args

pytestmark = pytest.mark.pipeline

Spawn = Callable[..., WorkerProcess]
ZONE = "Cam 0=right: 0.30,0.50 1,0.50 1,0.80 0.30,0.80"


def _event(source_id: int | None = None, kind: str | None = None) -> Callable[[Received], bool]:
    def match(m: Received) -> bool:
        if m.topic != "nvr/events":
            return False
        body = m.json()
        return (source_id is None or body["after"]["source_id"] == source_id) and (
            kind is None or body["type"] == kind
        )

    return match


def _of_source(source_id: int, event_ids: set[str]) -> Callable[[Received], bool]:
    """Anything derived from this source's frames: detections, events, snapshots, counts."""

    def match(m: Received) -> bool:
        if m.topic.startswith((f"nvr/sources/{source_id}/", f"nvr/detections/{source_id}")):
            return True
        if m.topic == "nvr/events":
            return bool(m.json()["after"]["source_id"] == source_id)
        return m.topic.startswith("nvr/events/") and m.topic.split("/")[2] in event_ids

    return match


def _bodies(sub: Subscriber, source_id: int, before: int | None = None) -> list[dict[str, Any]]:
    return [m.json() for m in sub.select(_event(source_id), before=before)]


def _assert_in_order(bodies: list[dict[str, Any]]) -> None:
    """Per event id: one new first, updates, at most one end, last."""
    by_id: dict[str, list[str]] = {}
    for body in bodies:
        by_id.setdefault(body["after"]["id"], []).append(body["type"])
    for event_id, kinds in by_id.items():
        assert kinds[0] == "new", (event_id, kinds)
        assert kinds.count("new") == 1, (event_id, kinds)
        assert set(kinds[1:-1]) <= {"update"}, (event_id, kinds)
        assert kinds.count("end") <= 1, (event_id, kinds)
        if "end" in kinds:
            assert kinds[-1] == "end", (event_id, kinds)


def test_events_in_order_a_pause_ends_them_first_and_a_resume_starts_afresh(
    spawn_worker: Spawn, broker: Broker, subscriber: Subscriber, sample_video: Path
) -> None:
    args = worker_args(broker, sample_video, sources=2)
    args[args.index("motion")] = "face"
    spawn_worker(*args, "--event-end-after", "1", "--zone", ZONE)
    # Mid-track on source 0: its face event is open (and in the zone, for the second face).
    opened = subscriber.wait_for(_event(0, "new"), 60)
    subscriber.wait_for(_event(1, "new"), 60)
    subscriber.wait_for(lambda m: m.topic == "nvr/sources/0/zones", 60)

    before_pause = last_seq(subscriber)
    open_now = {body["after"]["id"] for body in _bodies(subscriber, 0) if body["type"] == "new"} - {
        body["after"]["id"] for body in _bodies(subscriber, 0) if body["type"] == "end"
    }
    command(subscriber, "nvr", '{"command": "pause", "source_id": 0}')
    ack = subscriber.wait_for(
        status_of("nvr", lambda s: s["sources"]["0"]["paused"] is True), 30, before_pause
    )
    # Every event of source 0 that was open has exactly one `end`, before the acknowledgement.
    ended = [b["after"]["id"] for b in _bodies(subscriber, 0, before=ack.seq) if b["type"] == "end"]
    assert open_now <= set(ended), (open_now, ended)
    assert opened.json()["after"]["id"] in set(ended) | (
        {b["after"]["id"] for b in _bodies(subscriber, 0) if b["type"] == "end"}
    )
    # The zone went to zero before the acknowledgement too (never stuck on while paused).
    zone_states = subscriber.select(lambda m: m.topic == "nvr/sources/0/zones", before=ack.seq)
    assert zone_states[-1].json() == {"right": {"face": 0}}
    # Source 1 goes on: a new event of it after the ack (the scene loops every 13 s).
    subscriber.wait_for(_event(1, "new"), 60, ack.seq)
    fence = barrier(subscriber, "nvr")
    ids_of_0 = {b["after"]["id"] for b in _bodies(subscriber, 0)}
    assert subscriber.count(_of_source(0, ids_of_0), after=ack.seq, before=fence) == 0

    seen = {b["after"]["id"] for b in _bodies(subscriber, 0)}
    after = last_seq(subscriber)
    command(subscriber, "nvr", '{"command": "resume", "source_id": 0}')
    subscriber.wait_for(status_of("nvr", lambda s: s["sources"]["0"]["paused"] is False), 30, after)
    fresh = subscriber.wait_for(_event(0, "new"), 60, after)
    assert fresh.json()["after"]["id"] not in seen  # no event continues across a pause
    fence = barrier(subscriber, "nvr")
    _assert_in_order(_bodies(subscriber, 0, before=fence))
    _assert_in_order(_bodies(subscriber, 1, before=fence))
    # Each event message also went to its source's topic (what the discovered entity reads).
    per_source = [
        json.loads(m.payload)
        for m in subscriber.select(lambda m: m.topic == "nvr/sources/1/event", before=fence)
    ]
    assert len(per_source) == len(_bodies(subscriber, 1, before=fence))
    # Its type says what happened to what (`face_new`, ...); the class stays in `label`.
    assert [p["event_type"] for p in per_source] == [f"face_{p['type']}" for p in per_source]
    assert "face_new" in {p["event_type"] for p in per_source}
    assert {p["label"] for p in per_source} == {"face"}
