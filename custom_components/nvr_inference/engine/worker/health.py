"""A container health check: a running `nvr-inference worker` that holds a live TCP connection.

`python -m nvr_inference.engine.worker.health` exits 0 when a worker process runs (not a
zombie) and owns at least one ESTABLISHED TCP socket, 1 otherwise, with one line saying why.
The worker's one lasting connection is the broker's (paho reconnects while it is away, so a
worker cut off from its broker turns unhealthy); RTSP cameras' connections count too, which
makes the check weaker there. It reads only /proc (Linux, the images' platform) and imports
nothing of the worker: it runs beside it, as the same user, inside the container.
"""

from __future__ import annotations

from collections.abc import Iterator
import os
from pathlib import Path
import sys

PROC = Path("/proc")
ESTABLISHED = "01"
"""The state column of /proc/net/tcp for an established connection."""


def worker_pids(proc: Path = PROC) -> Iterator[int]:
    """Yield the processes running `nvr-inference worker` (the console script or the module)."""
    for entry in proc.iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            argv = (entry / "cmdline").read_bytes().split(b"\0")
            state = (entry / "stat").read_text().rsplit(")", 1)[1].split()[0]
        except (OSError, IndexError):
            continue
        named = any(a.endswith((b"nvr-inference", b".worker.cli")) for a in argv)
        if named and b"worker" in argv and state != "Z":
            yield int(entry.name)


def socket_inodes(pid: int, proc: Path = PROC) -> set[str]:
    """Return the inodes of the sockets a process has open."""
    inodes = set()
    for fd in (proc / str(pid) / "fd").iterdir():
        try:
            target = os.readlink(fd)
        except OSError:
            continue
        if target.startswith("socket:["):
            inodes.add(target[len("socket:[") : -1])
    return inodes


def established_inodes(pid: int, proc: Path = PROC) -> set[str]:
    """Return the inodes of the established TCP sockets in the process's network namespace."""
    inodes = set()
    for table in ("tcp", "tcp6"):
        try:
            lines = (proc / str(pid) / "net" / table).read_text().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            fields = line.split()
            if len(fields) > 9 and fields[3] == ESTABLISHED:
                inodes.add(fields[9])
    return inodes


def check(proc: Path = PROC) -> str | None:
    """Return None when healthy, else why not."""
    pids = list(worker_pids(proc))
    if not pids:
        return "no nvr-inference worker process is running"
    for pid in pids:
        try:
            if socket_inodes(pid, proc) & established_inodes(pid, proc):
                return None
        except OSError:
            continue
    return "the worker holds no established connection (is the broker reachable?)"


def main() -> int:
    """Print why the worker is unhealthy, if it is; the exit code says it."""
    problem = check()
    if problem is None:
        return 0
    sys.stderr.write(f"unhealthy: {problem}\n")
    return 1


if __name__ == "__main__":
    sys.exit(main())
