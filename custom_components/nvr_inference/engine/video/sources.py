"""Video sources: what a user configures, and how references are shown without secrets.

No OpenCV here (see `capture.py`), so Home Assistant can load the integration and explain what
is missing even where the pipeline packages are not installed.

A source is a file path, an RTSP/HTTP(S) URL or a USB device index. Each has a stable integer
`source_id` chosen by the user (it is the `<source_id>` of the detections topic), an optional
name, and for files an option to loop, so the bundled sample video can stand in for a live
camera in the demo and the tests.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
import re
from typing import Any
from urllib.parse import unquote, urlsplit

import numpy as np
import numpy.typing as npt

Frame = npt.NDArray[np.uint8]

STREAM_SCHEMES = ("rtsp", "rtsps", "rtmp", "http", "https", "udp", "tcp")
_URL_SCHEME = re.compile(r"^(?P<scheme>[a-zA-Z][a-zA-Z0-9+.-]*)://")


class SourceKind(StrEnum):
    """How a source behaves, which decides how a pause stops its work."""

    FILE = "file"  # played once, every frame; pausing stops the reader
    LOOP = "loop"  # a file replayed forever at its own frame rate, like a camera
    STREAM = "stream"  # RTSP/HTTP: muted on pause, so the connection stays up
    DEVICE = "device"  # USB/V4L2 camera: muted on pause, like a stream


@dataclass(frozen=True, slots=True)
class SourceConfig:
    """One configured video source."""

    source_id: int
    reference: str | int
    name: str | None = None
    loop: bool = False
    # The worker's camera device's suggested area (`area:` in its YAML): Home Assistant puts a
    # device in an area, and its Overview groups by area; without one a camera shows only under
    # Devices. The integration's devices take theirs from Home Assistant's own registry.
    area: str | None = None

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> SourceConfig:
        """Build from the stored form `{"source_id", "reference", "name", "loop"}`."""
        return cls(
            source_id=int(data["source_id"]),
            reference=data["reference"],
            name=data.get("name") or None,
            loop=bool(data.get("loop", False)),
        )

    @property
    def kind(self) -> SourceKind:
        """Classify the reference (a digit-only string is a device index)."""
        ref = self.reference
        if isinstance(ref, int) or (isinstance(ref, str) and ref.isdigit()):
            return SourceKind.DEVICE
        if urlsplit(ref).scheme.lower() in STREAM_SCHEMES:
            return SourceKind.STREAM
        return SourceKind.LOOP if self.loop else SourceKind.FILE

    @property
    def device_model(self) -> str:
        """What the camera's device page shows as its model ("RTSP camera", "Looping video")."""
        kind = self.kind
        if kind is SourceKind.STREAM:
            return f"{urlsplit(str(self.reference)).scheme.upper()} camera"
        return {
            SourceKind.DEVICE: "USB camera",
            SourceKind.LOOP: "Looping video file",
            SourceKind.FILE: "Video file",
        }[kind]

    @property
    def display_name(self) -> str:
        """A name for logs and entities; never contains URL credentials."""
        return self.name or f"Source {self.source_id}"

    @property
    def safe_reference(self) -> str:
        """The reference with any password removed, fit for logs and diagnostics."""
        return redact_url(str(self.reference))

    def reference_problem(self) -> str | None:
        """Say what is wrong with the reference as written, or None. No I/O.

        A typo (an unknown scheme, a URL that does not parse, no host, a bad port) is the
        user's to fix, wherever the camera is; whether the camera answers is another matter
        (a camera down at start is retried, runner.py).
        """
        text = str(self.reference)
        kind = self.kind
        scheme = _URL_SCHEME.match(text)
        if kind is not SourceKind.STREAM:
            if kind is SourceKind.DEVICE or scheme is None:
                return None
            return (
                f"unknown URL scheme {scheme['scheme']!r} in {self.safe_reference}; "
                f"cameras take {', '.join(STREAM_SCHEMES)}"
            )
        try:
            parts = urlsplit(text)
            parts.port  # noqa: B018 - raises for a port that is not a number from 0 to 65535
        except ValueError as err:
            return f"malformed URL {self.safe_reference}: {redact_text(str(err))}"
        if not parts.hostname:
            return f"no host in {self.safe_reference}"
        return None

    def capture_reference(self) -> str | int:
        """Return what cv2.VideoCapture takes: an int for a device index."""
        if self.kind is SourceKind.DEVICE:
            return int(self.reference)
        return self.reference


# `scheme://userinfo@`: the user info runs to the *last* `@` before the path, query or fragment,
# so a password holding an `@` (`rtsp://admin:p@ss@cam`) loses its tail as well.
_CREDENTIALS_IN_TEXT = re.compile(r"(?P<scheme>\b[a-zA-Z][a-zA-Z0-9+.-]*://)[^\s/?#]*@")

# Query parameters that carry credentials. Many cameras take them in the query string rather
# than as `user:pass@`: Reolink (`?user=admin&password=...`), Dahua and Amcrest CGI
# (`?user=...&pwd=...`), Foscam-style (`?loginuse=...&loginpas=...`), tokens and keys for
# cloud relays.
SECRET_QUERY_PARAMS = (
    "user", "username", "usr", "login", "loginuse", "password", "passwd", "pass", "pwd",
    "loginpas", "token", "access_token", "auth", "authorization", "key", "apikey", "api_key",
    "secret", "sig", "signature", "credentials",
)  # fmt: skip
_SECRET_IN_QUERY = re.compile(
    r"(?P<name>[?&;](?:" + "|".join(SECRET_QUERY_PARAMS) + r")=)[^&;#\s'\"]*", re.IGNORECASE
)
REDACTED = "***"


def redact_url(url: str) -> str:
    """Hide a URL's credentials: `user:password@` becomes `***@`, secret query values `***`.

    The scheme, host, path and the other query parameters stay, for debugging.
    """
    return redact_text(url)


def redact_text(text: str) -> str:
    """Remove URL credentials from any text (error messages from OpenCV or the pipeline, logs)."""
    text = _CREDENTIALS_IN_TEXT.sub(rf"\g<scheme>{REDACTED}@", text)
    return _SECRET_IN_QUERY.sub(rf"\g<name>{REDACTED}", text)


def url_secrets(url: str) -> list[str]:
    """Return the secrets a URL holds (user info, secret query values), raw and decoded.

    For log filters that must also catch a secret a library printed on its own, outside any URL
    (FFmpeg prints the decoded password of a failed RTSP login, for example).
    """
    found: list[str] = []
    match = _CREDENTIALS_IN_TEXT.search(url)
    if match:
        userinfo = url[match.end("scheme") : match.end() - 1]
        user, _, password = userinfo.partition(":")
        found += [password] if password else [user]
    found += [
        m.group(0)[len(m.group("name")) :]
        for m in _SECRET_IN_QUERY.finditer(url)
        if m.group("name")[1:-1].lower() not in {"user", "username", "usr", "login", "loginuse"}
    ]
    out: list[str] = []
    for secret in found:
        for form in (secret, unquote(secret)):
            if len(form) >= 3 and form not in out:
                out.append(form)
    return out
