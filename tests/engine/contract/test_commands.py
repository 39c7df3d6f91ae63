"""Control command parsing: every payload gets a Command or a clear CommandError."""

from __future__ import annotations

import json

import pytest

from custom_components.nvr_inference.engine.contract.commands import (
    Command,
    CommandError,
    CommandName,
    accept_command,
    parse_command,
)


@pytest.mark.parametrize(
    ("payload", "expected"),
    [
        (b'{"command": "pause"}', Command(CommandName.PAUSE)),
        (b'{"command": "RESUME"}', Command(CommandName.RESUME)),
        ('{"command": "status"}', Command(CommandName.STATUS)),
        (b'{"command": "pause", "source_id": 3}', Command(CommandName.PAUSE, 3)),
    ],
)
def test_valid_commands(payload: bytes | str, expected: Command) -> None:
    assert parse_command(payload) == expected


@pytest.mark.parametrize(
    ("payload", "fragment"),
    [
        (b"pause", "not JSON"),
        (b"", "not JSON"),
        (b"\xff\xfe", "not UTF-8"),
        (b"[1, 2]", "JSON object"),
        (b'"pause"', "JSON object"),
        (b"{}", "missing 'command'"),
        (b'{"command": "stop"}', "pause, resume or status"),
        (b'{"command": 1}', "must be a string"),
        (b'{"command": "pause", "source_id": "0"}', "integer"),
        (b'{"command": "pause", "source_id": true}', "integer"),
        (b'{"command": "pause", "source_id": -1}', ">= 0"),
        (b'{"command": "pause", "extra": 1}', "unknown key 'extra'"),
        (b"[" * 5000 + b"]" * 5000, "larger than"),
        (b'{"command": "pause", "x": ' + b"[" * 400 + b"]" * 400 + b"}", "unknown key"),
    ],
)
def test_invalid_commands_get_clear_errors(payload: bytes, fragment: str) -> None:
    result = parse_command(payload)
    assert isinstance(result, CommandError)
    assert fragment in result.message
    assert len(result.received) <= 83


def test_accept_command_is_one_rule_for_both_hosts() -> None:
    assert accept_command(b"", retained=True, source_ids={0}) is None  # clearing a retained one
    assert accept_command(b'{"command": "pause"}', retained=False, source_ids={0}) == Command(
        CommandName.PAUSE
    )
    retained = accept_command(b'{"command": "pause"}', retained=True, source_ids={0})
    assert isinstance(retained, CommandError)
    assert "retained commands are ignored" in retained.message
    unknown = accept_command(
        b'{"command": "resume", "source_id": 3}', retained=False, source_ids={0, 1}
    )
    assert isinstance(unknown, CommandError)
    assert unknown.message == "unknown source_id 3; known: [0, 1]"
    assert isinstance(accept_command(b"{", retained=False, source_ids={0}), CommandError)


def test_a_refused_command_never_echoes_a_camera_password() -> None:
    payload = '{"command": "pause", "url": "rtsp://admin:hunter22@cam/s?user=a&password=hunter22"}'
    result = parse_command(payload)
    assert isinstance(result, CommandError)
    assert "hunter22" not in json.dumps(result.as_dict())
