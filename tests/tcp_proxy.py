"""A TCP proxy a test can close: one client's way to the broker, cut and restored at will.

A broker restart drops every client at once, and which one reconnects first is a race; a test
that needs a subscriber back on the broker *before* the worker puts the worker behind this
proxy and opens it once the subscriber is ready. While closed, connections are accepted and
dropped at once (the client sees the broker gone, and retries).
"""

from __future__ import annotations

import contextlib
import socket
import threading


class TcpProxy:
    """Forward 127.0.0.1:`port` to `target`, until closed; `open()` lets clients through again."""

    def __init__(self, target: tuple[str, int]) -> None:
        self._target = target
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port = int(self._listener.getsockname()[1])
        self._lock = threading.Lock()
        self._open = True
        self._live: list[socket.socket] = []
        self._stopped = False
        self._thread = threading.Thread(target=self._accept, name="tcp-proxy", daemon=True)
        self._thread.start()

    def open(self) -> None:
        """Let new connections through."""
        with self._lock:
            self._open = True

    def close(self) -> None:
        """Cut every connection, and refuse new ones until `open()`."""
        with self._lock:
            self._open = False
            live, self._live = self._live, []
        for sock in live:
            _shut(sock)

    def stop(self) -> None:
        """Close for good (the listening socket too)."""
        self._stopped = True
        self.close()
        _shut(self._listener)
        self._thread.join(5)

    def _accept(self) -> None:
        while not self._stopped:
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            with self._lock:
                admitted = self._open
            if not admitted:
                _shut(client)
                continue
            try:
                upstream = socket.create_connection(self._target, timeout=5)
            except OSError:
                _shut(client)
                continue
            upstream.settimeout(None)
            with self._lock:
                self._live += [client, upstream]
            for source, sink in ((client, upstream), (upstream, client)):
                threading.Thread(target=_pump, args=(source, sink), daemon=True).start()


def _pump(source: socket.socket, sink: socket.socket) -> None:
    """Copy bytes one way until either side ends; then end both."""
    with contextlib.suppress(OSError):
        while data := source.recv(65536):
            sink.sendall(data)
    _shut(source)
    _shut(sink)


def _shut(sock: socket.socket) -> None:
    with contextlib.suppress(OSError):
        sock.shutdown(socket.SHUT_RDWR)
    with contextlib.suppress(OSError):
        sock.close()
