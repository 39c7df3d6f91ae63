"""A flood on the command topic, through a real broker to a real worker: cheap, and bounded.

10,000 repeated pauses and 10,000 bad commands in one burst, from a client that waits only for
the broker to have them all. The worker must stay responsive (a resume sent right behind the
burst, handled after all of it, is acknowledged within RESPONSIVE seconds, then a status request
too), write its state file once per change (counted by inotify: every save is a rename into the
folder), and answer a bounded number of the bad commands.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
import ctypes
import os
from pathlib import Path
import struct
import sys
import time

import paho.mqtt.client as paho
import pytest

from custom_components.nvr_inference.engine.contract.ratelimit import (
    ERROR_BURST,
    ERRORS_PER_SECOND,
)

from ..mqtt_helpers import Broker, Subscriber, run_broker
from .conftest import (
    WorkerProcess,
    command,
    detection_of,
    last_seq,
    on_topic,
    status_of,
    worker_args,
)

pytestmark = [
    pytest.mark.pipeline,
    pytest.mark.skipif(not sys.platform.startswith("linux"), reason="inotify is Linux's"),
]

Spawn = Callable[..., WorkerProcess]
BURST = 10_000
PAUSE = b'{"command": "pause"}'
RESPONSIVE = 5.0
"""Seconds within which the worker answers behind the burst. Not a timing goal (the figure is
in docs/mqtt-contract.md: 160-390 ms on a quiet machine, about 1 s when the shared cores are
busy): before the rate limits it did not answer within 30 s, which is what this bound tells
apart, whatever else the machine is doing."""
BAD_KINDS = (
    b"not json %d",
    b"\xff\xfe%d",
    b'{"command": "stop%d"}',
    b'{"command": "pause", "source_id": %d}',
    b'{"cmd": "pause", "n": %d}',
)
"""Five kinds of refusal, each payload different (none is parsed once for all)."""

IN_MOVED_FROM = 0x040
IN_Q_OVERFLOW = 0x4000
IN_NONBLOCK = os.O_NONBLOCK


class Renames:
    """Count a file's atomic saves by inotify: each renames a temporary file of its own onto it.

    The renames *from* the temporary files are counted: their names differ, so the kernel
    cannot merge them (it merges an event identical to the last one unread, as every rename
    onto the file is).
    """

    def __init__(self, folder: Path, name: str) -> None:
        libc = ctypes.CDLL(None, use_errno=True)
        self._fd = libc.inotify_init1(IN_NONBLOCK)
        if self._fd < 0 or libc.inotify_add_watch(self._fd, os.fsencode(folder), IN_MOVED_FROM) < 0:
            raise OSError(ctypes.get_errno(), "inotify")
        self._prefix = os.fsencode(f".{name}.")  # FilePauseStore's temporary files
        self.count = 0

    def read(self) -> int:
        """Take every event queued so far; return the saves since the start."""
        while True:
            try:
                data = os.read(self._fd, 1 << 16)
            except BlockingIOError:
                return self.count
            offset = 0
            while offset < len(data):
                _wd, mask, _cookie, length = struct.unpack_from("iIII", data, offset)
                name = data[offset + 16 : offset + 16 + length].rstrip(b"\0")
                offset += 16 + length
                if mask & IN_Q_OVERFLOW:
                    self.count += 1_000_000  # more than the kernel would queue: far too many
                elif name.startswith(self._prefix):
                    self.count += 1

    def close(self) -> None:
        os.close(self._fd)


@pytest.fixture
def flood_broker(socket_enabled: None) -> Iterator[Broker]:
    """A broker that queues the whole burst for the worker (mosquitto drops beyond 1,000)."""
    with run_broker("max_queued_messages 0\n") as running:
        yield running


def _bad(index: int) -> bytes:
    return BAD_KINDS[index % len(BAD_KINDS)] % (index + 7)  # source ids from 7: unknown


def _burst(broker: Broker, payloads: list[bytes]) -> float:
    """Publish every payload (QoS 1, no in-flight limit); return once the broker has them all."""
    client = paho.Client(paho.CallbackAPIVersion.VERSION2, client_id="nvr-test-flood")
    client.max_inflight_messages_set(0)
    client.max_queued_messages_set(0)
    client.connect(broker.host, broker.port)
    client.loop_start()
    try:
        started = time.monotonic()
        infos = [client.publish("nvr/control/commands", p, qos=1) for p in payloads]
        for info in infos:
            info.wait_for_publish(60)
            assert info.is_published()
        return time.monotonic() - started
    finally:
        client.disconnect()
        client.loop_stop()


def _cpu_seconds(pid: int) -> float:
    """CPU time (user and system) a process has used so far, from /proc."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def test_a_flood_of_pauses_and_bad_commands_is_cheap_and_bounded(
    spawn_worker: Spawn, flood_broker: Broker, sample_video: Path, tmp_path: Path
) -> None:
    state = tmp_path / "pause-state"
    state.mkdir()
    # Not the command topic: the test's own client would take the burst too.
    sub = Subscriber(flood_broker, ["nvr/control/status", "nvr/control/error", "nvr/detections/#"])
    renames = Renames(state, "worker.json")
    try:
        args = worker_args(flood_broker, sample_video)
        worker = spawn_worker(*args, "--state-file", str(state / "worker.json"))
        sub.wait_for(detection_of("nvr", 0), 60)
        start = last_seq(sub)

        cpu = _cpu_seconds(worker.process.pid)
        sent_in = _burst(flood_broker, [p for i in range(BURST) for p in (PAUSE, _bad(i))])
        sent = time.monotonic()
        command(sub, "nvr", '{"command": "resume"}')  # behind the burst, on the same topic
        paused = sub.wait_for(status_of("nvr", lambda s: s["paused"] is True), 30, start)
        resumed = sub.wait_for(status_of("nvr", lambda s: s["paused"] is False), 30, paused.seq)
        resume_ack = time.monotonic() - sent
        cpu = _cpu_seconds(worker.process.pid) - cpu
        asked, before = time.monotonic(), last_seq(sub)
        command(sub, "nvr", '{"command": "status"}')
        sub.wait_for(status_of("nvr"), 5, before)
        status_ack = time.monotonic() - asked
        sub.wait_for(detection_of("nvr", 0), 30, resumed.seq)  # it runs again
        elapsed = time.monotonic() - sent + sent_in

        writes = renames.read()
        errors = sub.count(on_topic("nvr/control/error"), after=start)
        summary = (
            f"sent {2 * BURST} in {sent_in:.2f} s; resume ack {resume_ack * 1e3:.0f} ms "
            f"after the burst, status {status_ack * 1e3:.0f} ms; worker CPU {cpu:.2f} s; {writes} "
            f"writes; {errors} error replies"
        )
        assert resume_ack < RESPONSIVE, summary
        assert status_ack < RESPONSIVE, summary
        assert writes == 2, summary  # the first pause, and the resume: once per change
        acks = sub.select(status_of("nvr", lambda s: s["reason"] == "command"), after=start)
        assert len([s for s in acks if s.json()["paused"]]) < 10  # the ack, stream changes
        assert ERROR_BURST <= errors <= ERROR_BURST + ERRORS_PER_SECOND * elapsed + 1, summary
        replies = [m.json() for m in sub.select(on_topic("nvr/control/error"), after=start)]
        assert all(reply["error"] and reply["received"] for reply in replies)
        assert all(reply["suppressed"] > 0 for reply in replies[ERROR_BURST:])  # refills
    finally:
        renames.close()
        sub.close()
