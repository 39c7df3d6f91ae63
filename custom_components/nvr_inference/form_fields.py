"""What the flows' text fields mean, and the detector a choice names, written once.

The config flow and the options flow both read these fields, and the controller names the
same detector when the entry starts: kept here, apart from either flow, so each rule has one
place and the flows stay about their steps. Pure functions: no Home Assistant, no forms.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Final

from .const import (
    DETECTOR_LOCAL,
    DETECTOR_ROBOFLOW,
    SOURCE_ID,
    SOURCE_LOOP,
    SOURCE_NAME,
    SOURCE_REFERENCE,
)
from .engine.detect.local_model import LOCAL_PREFIX
from .engine.detect.spec import ROBOFLOW_PREFIX
from .engine.video.sources import redact_url

DETECTOR_PREFIXES: Final = {DETECTOR_ROBOFLOW: ROBOFLOW_PREFIX, DETECTOR_LOCAL: LOCAL_PREFIX}
"""The choices that need a model id, and how the engine's detector names spell them."""


def detector_name(detector: str, model_id: str | None) -> str:
    """Name a detector choice as the engine does: `roboflow:<id>`, `local:<folder>`, a built-in.

    `model_id` only counts for the choices that take one; a built-in's name is the choice.
    """
    prefix = DETECTOR_PREFIXES.get(detector)
    return f"{prefix}{model_id}" if prefix else detector


def _split_line(line: str) -> tuple[str | None, str]:
    """Split `Name = reference` into its parts; a bare reference has no name.

    The `=` only names a source when what is before it cannot be part of a reference (no
    scheme, no path separator), so URLs with query strings and paths with `=` stay whole.
    """
    name, sep, reference = (part.strip() for part in line.partition("="))
    if sep and name and reference and not any(mark in name for mark in ("://", "/", "\\")):
        return name, reference
    return None, line


def parse_sources(
    text: str, *, loop: bool, existing: Sequence[Mapping[str, Any]] = ()
) -> list[dict[str, Any]]:
    """Parse one source per line into source dicts, keeping the ids of `existing` sources.

    A line that matches an existing source by name and reference, or else by reference only,
    keeps that source's id; other lines get new ids after the highest existing one.
    """
    lines = [
        _split_line(stripped)
        for raw in text.splitlines()
        if (stripped := raw.strip()) and not stripped.startswith("#")
    ]
    ids: list[int | None] = [None] * len(lines)
    unused = list(existing)
    # Name and reference first, then reference only, then name and the same URL with other
    # credentials (a changed password keeps the camera's id). The form shows a saved URL
    # without its password; that form, unchanged, means "keep the saved one".
    for match_name, any_credentials in ((True, False), (False, False), (True, True)):
        for index, (name, reference) in enumerate(lines):
            if ids[index] is not None:
                continue
            for source in unused:
                stored = str(source[SOURCE_REFERENCE])
                same = reference in (stored, redact_url(stored)) or (
                    any_credentials and redact_url(reference) == redact_url(stored)
                )
                if same and (not match_name or source[SOURCE_NAME] == name):
                    ids[index] = source[SOURCE_ID]
                    if reference == redact_url(stored):
                        lines[index] = (name, stored)
                    unused.remove(source)
                    break
    next_id = max((int(source[SOURCE_ID]) for source in existing), default=-1) + 1
    sources = []
    for (name, reference), known_id in zip(lines, ids, strict=True):
        if known_id is None:
            source_id, next_id = next_id, next_id + 1
        else:
            source_id = known_id
        sources.append(
            {
                SOURCE_ID: source_id,
                SOURCE_REFERENCE: reference,
                SOURCE_NAME: name,
                SOURCE_LOOP: loop,
            }
        )
    return sources


def format_sources(sources: Sequence[Mapping[str, Any]]) -> str:
    """Write source dicts back as the lines `parse_sources` reads, passwords left out.

    A saved RTSP password is never sent back to the browser: the line shows `***@host`, and
    `parse_sources` reads an unchanged line as "keep the saved URL".
    """
    lines = []
    for source in sources:
        reference = redact_url(str(source[SOURCE_REFERENCE]))
        lines.append(f"{source[SOURCE_NAME]} = {reference}" if source[SOURCE_NAME] else reference)
    return "\n".join(lines)


def valid_topic(topic: str) -> bool:
    """Return True for an MQTT topic fit to publish under (no wildcards, no edge slashes)."""
    return (
        bool(topic)
        and not any(char in "+#\0" or char.isspace() for char in topic)
        and not topic.startswith("/")
        and not topic.endswith("/")
    )


def parse_classes(text: str) -> list[str]:
    """Split comma-separated class names, dropping blanks and repeats."""
    return list(dict.fromkeys(name for part in text.split(",") if (name := part.strip())))
