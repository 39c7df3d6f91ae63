"""A live camera that was down when its source started: its pipeline rebuilt, with backoff.

Why this exists: streamvision reconnects a camera lost while running, but not one that never
connected. Its multiplexer requires every source to be reachable on start, so the first
connect's `SourceConnectionError` ends the pipeline's inference thread (`INFERENCE_ERROR`),
and a pipeline cannot be started again. After a power cut a camera that boots slower than the
worker would stay down for good. So the runner builds a fresh pipeline for that source after
`FIRST_RETRY` seconds, doubling up to `MAX_RETRY`, for as long as the source runs; the other
sources never notice (one pipeline each). A fresh pipeline numbers its frames from the start,
so the runner tells the gate (`PauseGate.renumber`) before it starts one.

The rebuild runs on this module's `nvr-connect-<id>` thread: a pipeline cannot be joined from
its own threads, and a caller's thread must not wait out the backoff.
"""

from __future__ import annotations

from collections.abc import Callable
import logging
import re
import threading

FIRST_RETRY = 2.0
"""Seconds before the first rebuild of a camera that could not be reached at start."""

MAX_RETRY = 30.0
"""The backoff's ceiling: a camera down for hours is tried twice a minute."""

CONNECTION_ERROR = "SourceConnectionError"
"""The error streamvision's inference thread ends with when a source cannot be opened."""

_PIPELINE_LOGGER = "streamvision.stream.pipeline"

_FFMPEG_CONTEXT = re.compile(r"\[[\w-]+ @ 0x[0-9a-fA-F]+\]\s*")


def connect_error_text(message: str) -> str:
    """Return the error as the status shows it: without FFmpeg's `[tcp @ 0x7f...]` tag.

    The tag's address differs at every attempt; without it a camera that stays down keeps one
    error, so the retained status is not republished at every retry.
    """
    return _FFMPEG_CONTEXT.sub("", message)


class FirstConnectRetry:
    """One source's rebuild thread and its backoff (started on the first failure)."""

    def __init__(self, source_id: int, rebuild: Callable[[], None]) -> None:
        """Prepare; `rebuild()` replaces the failed pipeline by a fresh one (this thread)."""
        self.source_id = source_id
        self.failures = 0  # first connects failed in a row; 0 again once one succeeds
        self._rebuild = rebuild
        self._delay = FIRST_RETRY  # the next failure's wait
        self._wait = FIRST_RETRY  # the scheduled rebuild's wait
        self._lock = threading.Lock()
        self._due = threading.Event()  # a rebuild is asked for
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def failed(self) -> float | None:
        """Schedule a rebuild after a failed first connect (a pipeline thread); return its wait.

        None once stopping: nothing is rebuilt then.
        """
        with self._lock:
            if self._stop.is_set():
                return None
            delay = self._wait = self._delay
            self._delay = min(delay * 2, MAX_RETRY)
            self.failures += 1
            self._due.set()
            if self._thread is None:
                self._thread = threading.Thread(
                    target=self._run, name=f"nvr-connect-{self.source_id}"
                )
                self._thread.start()
            return delay

    def connected(self) -> None:
        """Reset the backoff: the stream runs (a later failure starts over from the first wait)."""
        with self._lock:
            self._delay = FIRST_RETRY
            self.failures = 0

    def stop(self) -> None:
        """Cancel any rebuild and join the thread; a rebuild under way finishes first."""
        with self._lock:
            self._stop.set()
            thread, self._thread = self._thread, None
        self._due.set()
        if thread is not None:
            thread.join()

    def _run(self) -> None:
        while True:
            self._due.wait()
            with self._lock:
                wait = self._wait
            if self._stop.wait(wait):
                return
            self._due.clear()
            self._rebuild()


class QuietConnectFailures(logging.Filter):
    """Drop streamvision's traceback for a source that cannot be opened at start.

    The runner reports it itself, in the status and in one log line, and retries; without this
    every retry (twice a minute, all night) would log a twenty-line traceback.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        """Keep every record but the pipeline's own report of a failed first connect."""
        error = record.exc_info[0] if record.exc_info else None
        return error is None or error.__name__ != CONNECTION_ERROR


_QUIET = QuietConnectFailures()


def quiet_pipeline_connect_errors() -> None:
    """Install the filter on the pipeline's logger (idempotent)."""
    logger = logging.getLogger(_PIPELINE_LOGGER)
    if _QUIET not in logger.filters:
        logger.addFilter(_QUIET)
