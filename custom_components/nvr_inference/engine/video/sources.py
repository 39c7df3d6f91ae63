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
from urllib.parse import urlsplit, urlunsplit

import numpy as np
import numpy.typing as npt

Frame = npt.NDArray[np.uint8]

STREAM_SCHEMES = ("rtsp", "rtsps", "rtmp", "http", "https", "udp", "tcp")


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
    def display_name(self) -> str:
        """A name for logs and entities; never contains URL credentials."""
        return self.name or f"Source {self.source_id}"

    @property
    def safe_reference(self) -> str:
        """The reference with any password removed, fit for logs and diagnostics."""
        return redact_url(str(self.reference))

    def capture_reference(self) -> str | int:
        """Return what cv2.VideoCapture takes: an int for a device index."""
        if self.kind is SourceKind.DEVICE:
            return int(self.reference)
        return self.reference


_CREDENTIALS_IN_TEXT = re.compile(r"(?P<scheme>[a-zA-Z][a-zA-Z0-9+.-]*://)[^/@\s]+@")


def redact_url(url: str) -> str:
    """Replace `user:password@` in a URL by `***@` (the host and path stay, for debugging)."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return _CREDENTIALS_IN_TEXT.sub(r"\g<scheme>***@", url)
    if not parts.username and not parts.password:
        return url
    host = parts.hostname or ""
    if parts.port:
        host = f"{host}:{parts.port}"
    return urlunsplit(parts._replace(netloc=f"***@{host}"))


def redact_text(text: str) -> str:
    """Remove URL credentials from any text (error messages from OpenCV or the pipeline)."""
    return _CREDENTIALS_IN_TEXT.sub(r"\g<scheme>***@", text)
