"""One worker per name on a machine: a lock on a file beside the state file, naming its owner.

Two workers with the same `--name` share everything that identifies them: the MQTT client id
(the broker drops the older connection when the younger one connects, and each reconnect then
drops the other, for good), the host id in the status, the discovery node and the state file.
Measured: the second started, then both lost their connection to the broker in turn. So the
second is refused before it connects: the first thing a worker does is take an exclusive,
non-blocking `flock` on `<state file>.lock` and write its owner (pid, machine) there, for the
message the next one prints. The kernel drops the lock when the process ends, however it ends
(SIGKILL and a power cut included): a stale lock file never blocks a restart.
"""

from __future__ import annotations

import fcntl
import json
import os
from pathlib import Path
import socket

from ..errors import EngineError


class WorkerAlreadyRunningError(EngineError):
    """Another live worker holds this name's lock on this machine."""


def lock_path(state_file: Path) -> Path:
    """Return the lock file of a state file: beside it, `<name>.lock`."""
    return state_file.with_name(f"{state_file.name}.lock")


class InstanceLock:
    """The lock one worker holds for as long as it runs (the file stays open)."""

    def __init__(self, state_file: Path, name: str) -> None:
        """Prepare the lock of `state_file`; `name` is the worker's, for the message."""
        self.path = lock_path(state_file)
        self._name = name
        self._fd: int | None = None

    def acquire(self) -> None:
        """Take the lock now or raise `WorkerAlreadyRunningError` naming who holds it."""
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        except OSError as err:
            raise EngineError(
                f"cannot create the lock file {self.path}: {err.strerror or err}"
            ) from None
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = _read_owner(fd)
            os.close(fd)
            raise WorkerAlreadyRunningError(
                f"a worker named {self._name!r} is already running on this machine ({holder}, "
                f"lock {self.path}); give this one another --name, or stop that one"
            ) from None
        owner = {"pid": os.getpid(), "host": socket.gethostname()}
        os.ftruncate(fd, 0)
        os.pwrite(fd, json.dumps(owner).encode(), 0)
        self._fd = fd

    def release(self) -> None:
        """Drop the lock (the process's end does it too). Idempotent."""
        fd, self._fd = self._fd, None
        if fd is not None:
            os.close(fd)


def _read_owner(fd: int) -> str:
    """Return who holds the lock, as its owner wrote it: `pid 123 on host`."""
    try:
        owner = json.loads(os.pread(fd, 4096, 0) or b"{}")
        return f"pid {int(owner['pid'])} on {owner['host']}"
    except (OSError, ValueError, KeyError, TypeError):
        return "owner not written yet"
