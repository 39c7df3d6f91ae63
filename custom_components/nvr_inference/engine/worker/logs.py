"""The worker's logging: one stderr handler, and no secret in any line it writes.

Secrets (the MQTT password, a Roboflow API key, a camera URL's credentials) can reach a log
line through an exception's text or a library's own message; the filter rewrites every record
a handler emits, tracebacks included. Warnings and crashes in threads go the same way.

Two nets, because neither is enough alone: every known secret by value (`worker_secrets`: a
library may print a camera's password decoded and outside any URL, as FFmpeg does after a
failed login), and every URL-shaped credential by form (`redact_text`: a URL the filter was
never told about, e.g. one in a command's echo). What OpenCV and FFmpeg print themselves goes
to file descriptor 2 directly, past any filter: `quiet_native_logs` silences it.
"""

from __future__ import annotations

from collections.abc import Iterable, MutableMapping
import logging
import sys
import threading

from ..config.worker_settings import WorkerSettings
from ..video.sources import redact_text, url_secrets

_LOGGER = logging.getLogger(__name__)


NATIVE_LOG_ENV = {"OPENCV_LOG_LEVEL": "OFF", "OPENCV_FFMPEG_LOGLEVEL": "8"}
"""OpenCV's own log off, FFmpeg's fatal errors only: both print camera URLs with credentials."""


def quiet_native_logs(env: MutableMapping[str, str]) -> None:
    """Silence OpenCV's and FFmpeg's own stderr, at every log level; call before cv2 loads.

    They write to file descriptor 2 from C, not through `logging`, so the secret filter never
    sees their lines: measured with an unreachable `rtsp://admin:p@ss@cam` at DEBUG, OpenCV's
    `CAP_IMAGES` warning printed the whole URL, password included. What they would say reaches
    the log anyway, redacted, as the source's error. Values set by the user are kept (someone
    who asks for FFmpeg's chatter, e.g. `OPENCV_FFMPEG_LOGLEVEL=48`, gets it).
    """
    for name, value in NATIVE_LOG_ENV.items():
        env.setdefault(name, value)


def worker_secrets(settings: WorkerSettings) -> list[str]:
    """Every secret this worker knows: the MQTT password, the API key, each camera's.

    A camera URL's secrets come raw and percent-decoded (`url_secrets`), user info and
    credential-bearing query parameters alike.
    """
    found = [s for s in (settings.mqtt.password, settings.api_key) if s]
    for source in settings.sources:
        if isinstance(source.reference, str):
            found += url_secrets(source.reference)
    return found


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
