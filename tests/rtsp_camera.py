"""A real RTSP camera for tests: tests/rtsp_server.py (GStreamer) run with the system Python.

    with rtsp_camera(port) as camera:     # rtsp://127.0.0.1:<port>/cam, a moving ball
        ...
        camera.terminate()                # the camera goes away

Debian packages GStreamer's RTSP server for its own Python only, so the server runs as
/usr/bin/python3 whatever venv the tests run in (scripts/setup installs python3-gi and
gir1.2-gst-rtsp-server-1.0 for every lane). It serves without authentication, so a URL that
carries a user name and password plays as well (the client only sends them when challenged).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
import subprocess

SERVER = Path(__file__).resolve().parent / "rtsp_server.py"
SYSTEM_PYTHON = "/usr/bin/python3"


@contextmanager
def rtsp_camera(port: int, mode: str | None = None) -> Iterator[subprocess.Popen[str]]:
    """Run the RTSP server until the block ends (or the test stops it); `mode`: "1280x720@15"."""
    process = subprocess.Popen(
        [SYSTEM_PYTHON, str(SERVER), str(port), *([mode] if mode else [])],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        line = process.stdout.readline() if process.stdout else ""
        if line.strip() != "READY":
            process.kill()
            _, err = process.communicate(timeout=10)
            raise RuntimeError(
                f"RTSP test server did not start ({line!r}, {err.strip()[-300:]}); "
                "scripts/setup installs gir1.2-gst-rtsp-server-1.0 and python3-gi"
            )
        yield process
    finally:
        if process.poll() is None:
            process.terminate()
            process.wait(10)
