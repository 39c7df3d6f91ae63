"""The pause gate's logic, without a pipeline (threads are real; the pipeline comes later)."""

from __future__ import annotations

import threading

import pytest

from custom_components.nvr_inference.engine.gate import PauseGate, UnknownSourceError


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


def test_hammered_from_threads_never_publishes_while_closed() -> None:
    gate = PauseGate([0])
    believed_closed = threading.Event()
    violations: list[int] = []
    stop = threading.Event()
    count = [0]

    def publisher() -> None:
        frame = 0
        while not stop.is_set():
            frame += 1
            gate.note_captured(0, frame)

            def publish(f: int = frame) -> None:
                if believed_closed.is_set():
                    violations.append(f)
                count[0] += 1

            gate.publish_if_open(0, frame, publish)

    threads = [threading.Thread(target=publisher) for _ in range(3)]
    for t in threads:
        t.start()
    for _ in range(2000):
        gate.pause()
        believed_closed.set()  # from here on, a publish is a violation
        believed_closed.clear()  # ... until just before resume starts
        gate.resume()
    stop.set()
    for t in threads:
        t.join()
    assert violations == []
    assert count[0] > 0
