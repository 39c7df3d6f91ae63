"""The pause gate's logic, without a pipeline (threads are real; the pipeline comes later)."""

from __future__ import annotations

import bisect
from collections.abc import Callable
import itertools
import json
import sys
import threading

import pytest

from custom_components.nvr_inference.engine.fence.gate import PauseGate, UnknownSourceError


def test_global_and_per_source_pause() -> None:
    gate = PauseGate([0, 1])
    assert gate.is_open(0) and gate.is_open(1)
    gate.pause(1)
    assert gate.is_open(0) and not gate.is_open(1)
    gate.pause()
    assert not gate.is_open(0) and not gate.is_open(1)
    gate.resume()  # global resume leaves source 1's own pause in place
    assert gate.is_open(0) and not gate.is_open(1)
    snap = gate.resume(1)
    assert gate.is_open(1)
    assert snap.paused is False and snap.sources == {0: False, 1: False}


def test_unknown_source_is_refused_and_changes_nothing() -> None:
    gate = PauseGate([0])
    with pytest.raises(UnknownSourceError, match="unknown source_id 7"):
        gate.pause(7)
    assert gate.snapshot().sources == {0: False}
    assert not gate.is_open(7)


def test_frames_captured_before_resume_are_refused() -> None:
    gate = PauseGate([0])
    for frame_id in range(1, 11):
        gate.note_captured(0, frame_id)
    gate.pause(0)
    gate.note_captured(0, 11)
    gate.resume(0)
    with gate.lock:
        assert not gate.admits(0, 11)  # captured before the resume
        assert not gate.admits(0, 3)
    gate.note_captured(0, 12)
    with gate.lock:
        assert gate.admits(0, 12)


def test_listener_sees_every_change_in_order() -> None:
    gate = PauseGate([0])
    seen: list[tuple[bool, bool]] = []
    unsub = gate.add_listener(lambda s: seen.append((s.paused, s.sources[0])))
    gate.pause()
    gate.pause(0)
    gate.resume()
    unsub()
    gate.resume(0)
    assert seen == [(True, False), (True, True), (False, True)]


def test_publish_if_open_is_ordered_against_pause() -> None:
    """A publish in flight finishes before pause() returns; none starts after it."""
    gate = PauseGate([0])
    inside = threading.Event()
    release = threading.Event()
    published: list[int] = []

    def slow_publish() -> None:
        inside.set()
        release.wait(5)
        published.append(1)

    worker = threading.Thread(target=gate.publish_if_open, args=(0, 1, slow_publish))
    worker.start()
    assert inside.wait(5)
    pause_returned = threading.Event()
    pauser = threading.Thread(target=lambda: (gate.pause(), pause_returned.set()))
    pauser.start()
    # The pause must wait for the publish holding the fence.
    assert not pause_returned.wait(0.2)
    release.set()
    assert pause_returned.wait(5)
    worker.join()
    pauser.join()
    assert published == [1]
    assert gate.publish_if_open(0, 2, lambda: published.append(2)) is False
    assert published == [1]


def _hammer(publish_one: Callable[[PauseGate, int, Callable[[], None]], object]) -> list[int]:
    """Pause and resume while three threads publish; return the violations.

    Every event takes a number from one counter, in the order it happened: each publish, and
    the two ends of each closed interval (after `pause()` returned, before `resume()` began).
    A publish numbered inside a closed interval went out after an acknowledged pause. Thread
    switches are forced every 10 us, so a race has every chance to show.
    """
    gate = PauseGate([0])
    order = itertools.count()
    closed: list[tuple[int, int]] = []
    published: list[int] = []
    stop = threading.Event()

    def publisher() -> None:
        frame = 0
        while not stop.is_set():
            frame += 1
            gate.note_captured(0, frame)
            publish_one(gate, frame, lambda: published.append(next(order)))

    threads = [threading.Thread(target=publisher) for _ in range(3)]
    interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-5)
    try:
        for t in threads:
            t.start()
        # At least 2,000 cycles and 3,000 publishes, however the threads are scheduled.
        while len(closed) < 2000 or (len(published) < 3000 and len(closed) < 200_000):
            gate.pause()
            start = next(order)  # acknowledged: nothing may be published from here...
            sum(range(2000))  # ...for a moment
            end = next(order)  # ...to here, where the resume begins
            gate.resume()
            closed.append((start, end))
    finally:
        stop.set()
        for t in threads:
            t.join()
        sys.setswitchinterval(interval)
    assert len(published) >= 3000  # the publishers were busy throughout
    starts = [start for start, _end in closed]
    violations = []
    for number in published:
        i = bisect.bisect_right(starts, number) - 1
        if i >= 0 and closed[i][0] < number < closed[i][1]:
            violations.append(number)
    return violations


def test_hammered_from_threads_never_publishes_while_closed() -> None:
    def fenced(gate: PauseGate, frame: int, publish: Callable[[], None]) -> None:
        gate.publish_if_open(0, frame, publish)

    assert _hammer(fenced) == []


def test_the_hammer_catches_the_prototypes_check_then_publish() -> None:
    """The same hammer on the prototype's check outside the fence leaks: the test can fail."""

    def unfenced(gate: PauseGate, frame: int, publish: Callable[[], None]) -> None:
        if gate.is_open(0):
            json.dumps({"frame": frame, "detections": [{"class": "face"}] * 5})  # build a message
            publish()

    assert len(_hammer(unfenced)) > 0


def test_a_frame_whose_grab_began_before_the_resume_is_refused() -> None:
    """The capture is noted after grab() returns: the resume is judged against the grab start."""
    gate = PauseGate([0])
    gate.note_grabbing(0)
    gate.note_captured(0, 1)
    gate.pause()
    gate.note_grabbing(0)  # frame 2's grab starts while paused ...
    gate.resume()  # ... the resume comes while it is under way ...
    gate.note_captured(0, 2)  # ... and it is noted after the resume
    with gate.lock:
        assert not gate.admits(0, 2)
        gate.note_grabbing(0)
        gate.note_captured(0, 3)
        assert gate.admits(0, 3)  # grabbed wholly after the resume


def test_no_grab_under_way_at_the_resume_refuses_nothing_after_it() -> None:
    gate = PauseGate([0])
    gate.note_grabbing(0)
    gate.note_captured(0, 7)  # a paused file: the reader waits between grabs
    gate.pause()
    gate.resume()
    with gate.lock:
        assert not gate.admits(0, 7)
        assert gate.admits(0, 8)


def test_the_first_frame_after_a_resume_gets_the_new_epoch() -> None:
    """Admission and epoch come from one hold of the lock: never admitted with the old epoch.

    The gate's event is swapped for one that, at the instant the resume opens it (before the
    epoch moves on), has another thread ask about a frame captured after the resume.
    """
    gate = PauseGate([0])
    gate.pause(0)
    answers: list[int | None] = []
    asked = threading.Event()

    class Opening(threading.Event):
        def set(self) -> None:
            super().set()
            reader = threading.Thread(
                target=lambda: (answers.append(gate.admitted_epoch(0, 5)), asked.set())
            )
            reader.start()
            reader.join(0.2)  # it must wait for the lock, so this times out

    opening = Opening()
    gate._sources[0] = opening
    gate.resume(0)
    assert asked.wait(5)
    assert answers == [1]  # the new epoch, not 0 with the frame admitted
