#!/usr/bin/python3
"""A real RTSP camera for tests: GStreamer's RTSP server, run with the *system* Python.

Debian packages GStreamer's RTSP server library for its own Python (python3-gi,
gir1.2-gst-rtsp-server-1.0), not for our venv, so tests start this file with /usr/bin/python3.
It serves `rtsp://127.0.0.1:<port>/cam`: a moving test pattern, H.264 in RTP, and prints
"READY" once it listens. SIGTERM stops it (a camera going away).

Usage: rtsp_server.py PORT [WIDTHxHEIGHT@FPS]   (default 320x240@10; benchmarks ask for more)
"""

import signal
import sys

import gi

gi.require_version("Gst", "1.0")
gi.require_version("GstRtspServer", "1.0")
from gi.repository import GLib, Gst, GstRtspServer  # noqa: E402

PIPELINE = (
    "( videotestsrc is-live=true pattern=ball ! video/x-raw,width={w},height={h},framerate={fps}/1 "
    "! videoconvert ! x264enc tune=zerolatency speed-preset=ultrafast key-int-max=10 "
    "! rtph264pay name=pay0 pt=96 config-interval=1 )"
)


def main() -> None:
    port = sys.argv[1]
    size, _, fps = (sys.argv[2] if len(sys.argv) > 2 else "320x240@10").partition("@")
    width, _, height = size.partition("x")
    Gst.init(None)
    server = GstRtspServer.RTSPServer()
    server.set_address("127.0.0.1")
    server.set_service(port)
    factory = GstRtspServer.RTSPMediaFactory()
    factory.set_launch(PIPELINE.format(w=width, h=height, fps=fps))
    factory.set_shared(True)
    server.get_mount_points().add_factory("/cam", factory)
    if server.attach(None) == 0:
        print("cannot listen", flush=True)
        sys.exit(1)
    loop = GLib.MainLoop()
    GLib.unix_signal_add(GLib.PRIORITY_DEFAULT, signal.SIGTERM, loop.quit)
    GLib.unix_signal_add(GLib.PRIORITY_DEFAULT, signal.SIGINT, loop.quit)
    print("READY", flush=True)
    loop.run()


if __name__ == "__main__":
    main()
