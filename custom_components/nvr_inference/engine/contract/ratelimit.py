"""Limits for input we do not control (malformed commands, floods, broker errors).

A misbehaving publisher can send thousands of commands a second. The log shows the first bad
one and then at most one line per interval, with the number suppressed in between
(`RateLimitedLog`); the work they may cause, replies and saves, is bounded by token buckets
(`TokenBucket`; the control plane says which work draws on which).
"""

from __future__ import annotations

from collections.abc import Callable
import logging
import time
from typing import Any


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


class TokenBucket:
    """At most `burst` at once and `rate` a second after that: the work a flood may cost.

    Not thread-safe: each host takes commands on one thread (control.py).
    """

    def __init__(
        self, rate: float, burst: int, clock: Callable[[], float] = time.monotonic
    ) -> None:
        """Start full."""
        self._rate = rate
        self._burst = float(burst)
        self._clock = clock
        self._tokens = float(burst)
        self._at = clock()

    def take(self) -> bool:
        """Spend one token; False when there is none (the caller refuses the work)."""
        now = self._clock()
        self._tokens = min(self._burst, self._tokens + (now - self._at) * self._rate)
        self._at = now
        if self._tokens < 1.0:
            return False
        self._tokens -= 1.0
        return True


COMMANDS_PER_SECOND = 50.0
"""Commands that cost work (a save, a status) a second, once `COMMAND_BURST` is spent."""

COMMAND_BURST = 500
"""Commands that cost work taken at once: 250 pause/resume cycles as fast as acks come."""

ERRORS_PER_SECOND = 1.0
"""Error replies a second, once `ERROR_BURST` is spent (the rest are counted, not sent)."""

ERROR_BURST = 20
"""Error replies sent at once: a person trying commands by hand gets an answer to each."""

TOO_MANY = (
    f"too many commands (more than {COMMAND_BURST} at once, then {COMMANDS_PER_SECOND:g} a "
    "second): this one was ignored; a pause never is"
)


class CommandBudget:
    """What a flood on the command topic may cost a host, a second.

    A command that costs work (a change: a save, then an acknowledgement; or a status on
    request) spends a token of one bucket; a refused command's reply one of another. Over
    budget a command is refused (answered within the error budget, like any refused command)
    and a reply is not sent but counted, its number in the next reply that goes out
    (`suppressed`). A pause is never refused, only counted: the host may always be told to stop
    publishing, and once it is paused a pause changes nothing and costs nothing, so a flood
    alternating pause and resume ends paused: it fails closed. The bounds are far above what
    people and automations send (the pause benchmarks send about 50 a second); a broker ACL
    on `<base>/control/#` is what keeps strangers off (docs/mqtt-contract.md).
    """

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        """Start with both buckets full."""
        self._work = TokenBucket(COMMANDS_PER_SECOND, COMMAND_BURST, clock)
        self._errors = TokenBucket(ERRORS_PER_SECOND, ERROR_BURST, clock)
        self._unanswered = 0

    def allows(self, *, pause: bool) -> bool:
        """Spend a token on a command that costs work; whether it may go ahead."""
        return self._work.take() or pause

    def reply(self, body: dict[str, Any]) -> dict[str, Any] | None:
        """Return the error reply to send (with `suppressed`), or None: over budget, counted."""
        if not self._errors.take():
            self._unanswered += 1
            return None
        if self._unanswered:
            body = body | {"suppressed": self._unanswered}
            self._unanswered = 0
        return body
