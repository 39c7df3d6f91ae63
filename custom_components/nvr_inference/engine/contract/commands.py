"""Control commands from `<base>/control/commands`, parsed into typed values.

Anything that is not exactly `{"command": "pause" | "resume" | "status"}` with an optional
integer `source_id` becomes a `CommandError` with a message a person can act on. Parsing never
raises anything else and never changes state: the caller decides what to do with the result.

A flood repeats itself, so the results of the last few payloads are kept (both kinds are
immutable): a repeated command costs a dictionary look-up, not a JSON parse and a schema.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from enum import StrEnum
from functools import lru_cache
import json
from typing import Any

import voluptuous as vol

from ..video.sources import redact_text

MAX_COMMAND_BYTES = 1024
"""Commands are tiny; anything larger is refused before it is parsed."""


class CommandName(StrEnum):
    """What a command asks for."""

    PAUSE = "pause"
    RESUME = "resume"
    STATUS = "status"


@dataclass(frozen=True, slots=True)
class Command:
    """A valid control command."""

    name: CommandName
    source_id: int | None = None


@dataclass(frozen=True, slots=True)
class CommandError:
    """Why a payload was refused; `received` is a short, printable excerpt of it."""

    message: str
    received: str

    def as_dict(self) -> dict[str, Any]:
        """Return the JSON body published on the error topic."""
        return {"error": self.message, "received": self.received}


def _strict_int(value: Any) -> int:
    # bool is an int subclass in Python; `{"source_id": true}` is a mistake, not source 1.
    if isinstance(value, bool) or not isinstance(value, int):
        raise vol.Invalid("source_id must be an integer")
    number: int = value
    if number < 0:
        raise vol.Invalid("source_id must be >= 0")
    return number


COMMAND_SCHEMA = vol.Schema(
    {
        vol.Required("command"): vol.All(
            str,
            vol.Lower,
            vol.In([c.value for c in CommandName], msg="command must be pause, resume or status"),
        ),
        vol.Optional("source_id"): _strict_int,
    }
)


def _excerpt(payload: bytes | str, limit: int = 80) -> str:
    """Return what the error reply echoes: a short, single-line, credential-free excerpt.

    A camera URL pasted into a command by mistake must not come back on the error topic (any
    client of the broker reads it) with its password: the excerpt is redacted before the cut,
    so a secret cannot survive half-cut either.
    """
    text = payload.decode("utf-8", "backslashreplace") if isinstance(payload, bytes) else payload
    text = redact_text(text.replace("\n", " "))
    return text if len(text) <= limit else f"{text[:limit]}..."


def parse_command(payload: bytes | str) -> Command | CommandError:
    """Parse one MQTT payload into a `Command`, or say precisely why not."""
    if len(payload) > MAX_COMMAND_BYTES:  # never kept: a few of these would be megabytes
        return CommandError(f"payload larger than {MAX_COMMAND_BYTES} bytes", _excerpt(payload))
    return _parse_small(payload)


@lru_cache(maxsize=32)
def _parse_small(payload: bytes | str) -> Command | CommandError:
    """Parse a payload of at most `MAX_COMMAND_BYTES`; the last results are kept (module doc)."""
    received = _excerpt(payload)
    try:
        text = payload.decode("utf-8") if isinstance(payload, bytes) else payload
    except UnicodeDecodeError:
        return CommandError("payload is not UTF-8 text", received)
    try:
        data = json.loads(text)
    except (ValueError, RecursionError):
        return CommandError(
            'payload is not JSON; send e.g. {"command": "pause"} or {"command": "resume", '
            '"source_id": 0}',
            received,
        )
    if not isinstance(data, dict):
        return CommandError("payload must be a JSON object with a 'command' key", received)
    try:
        valid = COMMAND_SCHEMA(data)
    except vol.MultipleInvalid as err:
        return CommandError(_humanize(err), received)
    return Command(CommandName(valid["command"]), valid.get("source_id"))


def accept_command(
    payload: bytes | str, *, retained: bool, source_ids: Collection[int]
) -> Command | CommandError | None:
    """Parse a message from the command topic and check it against what this host runs.

    One rule for both hosts. None for an empty payload: that is how a retained command is
    cleared, not a command. A retained command is refused (it would replay at every start), and
    so is a `source_id` the host does not run.
    """
    if not payload:
        return None
    result = parse_command(payload)
    if isinstance(result, CommandError):
        return result
    if retained:
        return CommandError(
            "retained commands are ignored (they would replay at every start); publish without "
            "the retain flag, and clear the retained one with an empty retained message",
            result.name.value,
        )
    if result.source_id is not None and result.source_id not in source_ids:
        return CommandError(
            f"unknown source_id {result.source_id}; known: {sorted(source_ids)}",
            str(result.source_id),
        )
    return result


KNOWN_KEYS = ("command", "source_id")


def _humanize(err: vol.MultipleInvalid) -> str:
    parts = []
    for error in err.errors:
        where = ".".join(str(p) for p in error.path)
        # By path, not by message: Home Assistant 2026.3+ installs probatio as `voluptuous`,
        # whose message for an extra key is "not a valid option".
        if error.path and error.path[0] not in KNOWN_KEYS:
            parts.append(f"unknown key {where!r} (allowed: command, source_id)")
        elif error.error_message == "required key not provided":
            parts.append(f"missing {where!r}")
        elif where == "command" and "expected str" in error.error_message:
            parts.append("command must be a string")
        else:
            parts.append(error.error_message)
    return "; ".join(parts)
