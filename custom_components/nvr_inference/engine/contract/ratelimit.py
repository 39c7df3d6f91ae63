"""Rate-limited logging for input we do not control (malformed commands, broker errors).

A misbehaving publisher can send thousands of bad commands a second; each gets an answer on
the error topic, but the log shows the first one and then at most one line per interval, with
the number of messages suppressed in between.
"""

from __future__ import annotations

import logging
import time


class RateLimitedLog:
    """Log at most once per `interval` seconds, counting what was suppressed."""

    def __init__(self, logger: logging.Logger, interval: float = 60.0) -> None:
        """Wrap `logger`."""
        self._logger = logger
        self._interval = interval
        self._last = -interval
        self._suppressed = 0

    def warning(self, msg: str, *args: object) -> bool:
        """Log a warning unless one was logged within the interval; return whether it logged."""
        now = time.monotonic()
        if now - self._last < self._interval:
            self._suppressed += 1
            return False
        if self._suppressed:
            msg = f"{msg} (%d similar messages suppressed)"
            args = (*args, self._suppressed)
        self._logger.warning(msg, *args)
        self._last = now
        self._suppressed = 0
        return True
