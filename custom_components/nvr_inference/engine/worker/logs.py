"""The worker's logging: one stderr handler, and no secret in any line it writes.

Secrets (the MQTT password, a Roboflow API key, a camera URL's credentials) can reach a log
line through an exception's text or a library's own message; the filter rewrites every record
a handler emits, tracebacks included. Warnings and crashes in threads go the same way.
"""

from __future__ import annotations

from collections.abc import Iterable
import logging
import sys
import threading

from ..video.sources import redact_text

_LOGGER = logging.getLogger(__name__)


class RedactSecrets(logging.Filter):
    """Replace known secrets and URL credentials in every record a handler emits."""

    def __init__(self, secrets: Iterable[str | None]) -> None:
        """Remember the secrets to hide (empty ones are ignored)."""
        super().__init__()
        self._secrets = sorted({s for s in secrets if s}, key=len, reverse=True)

    def clean(self, text: str) -> str:
        """Return `text` without secrets."""
        for secret in self._secrets:
            text = text.replace(secret, "***")
        return redact_text(text)

    def filter(self, record: logging.LogRecord) -> bool:
        """Rewrite the record's message (and traceback) if they hold a secret."""
        try:
            message = record.getMessage()
        except (TypeError, ValueError):
            message = str(record.msg)
        cleaned = self.clean(message)
        if cleaned != message:
            record.msg, record.args = cleaned, None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = self.clean(record.exc_text)
        return True


def configure_logging(level: str, secrets: Iterable[str | None]) -> RedactSecrets:
    """Log to stderr through the secret filter; route warnings and thread crashes there too."""
    redact = RedactSecrets(secrets)
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    handler.addFilter(redact)
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    logging.captureWarnings(True)

    def _thread_crash(args: threading.ExceptHookArgs) -> None:
        name = args.thread.name if args.thread else "?"
        if args.exc_value is not None:
            _LOGGER.error(
                "Unhandled error in thread %s",
                name,
                exc_info=(args.exc_type, args.exc_value, args.exc_traceback),
            )

    threading.excepthook = _thread_crash
    return redact


def protect_all_handlers(redact: RedactSecrets) -> None:
    """Put the filter on handlers that libraries attached to their own loggers."""
    loggers = [logging.getLogger(), *logging.Logger.manager.loggerDict.values()]
    for logger in loggers:
        for handler in getattr(logger, "handlers", ()):
            if redact not in handler.filters:
                handler.addFilter(redact)
