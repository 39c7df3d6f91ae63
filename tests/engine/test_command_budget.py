"""What a flood on the command topic may cost: no save that changes nothing, bounded replies.

The control plane with the real gate and a recording transport and store (test_control.py's);
the worker's burst through a real broker is tests/faults/test_command_flood.py.
"""

from __future__ import annotations

from custom_components.nvr_inference.engine.contract.ratelimit import (
    COMMAND_BURST,
    ERROR_BURST,
    TOO_MANY,
    CommandBudget,
    TokenBucket,
)
from custom_components.nvr_inference.engine.fence.pause_store import PauseState

from .test_control import _plane

PAUSE = b'{"command": "pause"}'
RESUME = b'{"command": "resume"}'


class Clock:
    """A clock the test moves."""

    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_a_repeated_pause_is_not_saved_or_acknowledged_again() -> None:
    plane, gate, wire, store = _plane()
    for _ in range(1000):
        plane.handle_command(PAUSE, retained=False)
    assert store.saved == [PauseState(True)]  # the first one: what is on disk was unknown
    assert len(wire.statuses()) == 1
    assert plane.set_paused(True, None, "switch") is False  # the switch's way: the same rule
    plane.handle_command(b'{"command": "status"}', retained=False)  # asked for: published
    assert len(wire.statuses()) == 2
    plane.handle_command(b'{"command": "pause", "source_id": 1}', retained=False)  # a change
    assert store.saved[-1] == PauseState(True, frozenset({1}))
    assert wire.statuses()[-1]["sources"]["1"]["paused_by_source"] is True
    assert len(wire.statuses()) == 3
    assert gate.snapshot().paused is True


def test_the_first_request_after_a_start_writes_what_was_restored_once() -> None:
    plane, _gate, wire, store = _plane()
    plane.restore(PauseState(True))  # e.g. from the broker's retained status: not on disk
    plane.handle_command(PAUSE, retained=False)
    plane.handle_command(PAUSE, retained=False)
    assert store.saved == [PauseState(True)]
    assert len(wire.statuses()) == 1


def test_a_save_that_failed_is_retried_by_the_same_request() -> None:
    plane, _gate, wire, store = _plane(error="cannot write the state file: read-only")
    plane.handle_command(PAUSE, retained=False)
    store.error = None
    plane.handle_command(PAUSE, retained=False)
    plane.handle_command(PAUSE, retained=False)
    assert len(store.saved) == 2
    assert [s["store_error"] for s in wire.statuses()] == [
        "cannot write the state file: read-only",
        None,
    ]


def test_with_a_slow_store_a_repeat_is_done_when_the_save_under_way_is() -> None:
    plane, gate, _wire, store = _plane(deferred=True)
    done: list[str] = []
    assert plane.set_paused(True, on_done=lambda: done.append("first")) is True
    assert plane.set_paused(True, on_done=lambda: done.append("repeat")) is False
    assert store.saved == [PauseState(True)]
    assert done == []  # not saved yet: the repeat is not done either
    store.finish()
    assert done == ["first", "repeat"]
    assert gate.snapshot().paused is True
    plane.set_paused(True, on_done=lambda: done.append("later"))  # nothing under way: at once
    assert done[-1] == "later"
    assert len(store.saved) == 1


def test_bad_commands_get_a_bounded_number_of_replies() -> None:
    plane, gate, wire, _store = _plane()
    before = gate.snapshot()
    for _ in range(1000):  # well within a second
        plane.handle_command(b"not json", retained=False)
    replies = [body for topic, body in wire.sent if topic == "nvr/control/error"]
    assert ERROR_BURST <= len(replies) <= ERROR_BURST + 1
    assert plane.last_error is not None and "not JSON" in plane.last_error["error"]
    assert gate.snapshot() == before


def test_an_alternating_flood_costs_at_most_the_burst_and_ends_paused() -> None:
    plane, gate, wire, store = _plane()
    for _ in range(2000):  # well within a second
        plane.handle_command(PAUSE, retained=False)
        plane.handle_command(RESUME, retained=False)
    assert len(store.saved) <= COMMAND_BURST + 60  # and what a second refills
    assert gate.snapshot().paused is True  # the pauses went through, the resumes did not
    refused = [body for topic, body in wire.sent if topic == "nvr/control/error"]
    assert refused and refused[0]["error"] == TOO_MANY
    assert len(wire.statuses()) == len(store.saved)


def test_the_budget_refills_and_counts_what_it_did_not_answer() -> None:
    clock = Clock()
    budget = CommandBudget(clock)
    assert all(budget.allows(pause=False) for _ in range(COMMAND_BURST))
    assert budget.allows(pause=False) is False
    assert budget.allows(pause=True) is True  # a pause is never refused
    clock.now += 0.5  # 50 a second: 25 more
    assert sum(budget.allows(pause=False) for _ in range(30)) == 25
    replies = [budget.reply({"error": "x"}) for _ in range(ERROR_BURST + 3)]
    assert all(r == {"error": "x"} for r in replies[:ERROR_BURST])
    assert replies[ERROR_BURST:] == [None, None, None]
    clock.now += 1.0
    assert budget.reply({"error": "y"}) == {"error": "y", "suppressed": 3}
    assert budget.reply({"error": "z"}) is None


def test_a_token_bucket_never_holds_more_than_its_burst() -> None:
    clock = Clock()
    bucket = TokenBucket(rate=2.0, burst=3, clock=clock)
    assert [bucket.take() for _ in range(4)] == [True, True, True, False]
    clock.now += 3600
    assert [bucket.take() for _ in range(4)] == [True, True, True, False]
    clock.now += 0.5
    assert [bucket.take(), bucket.take()] == [True, False]
