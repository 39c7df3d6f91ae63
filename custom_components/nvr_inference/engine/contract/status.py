"""The retained status message on `<base>/control/status`: the pause acknowledgement.

Published by the control plane after the gate changed (so a subscriber that sees
`"paused": true` knows nothing more will come), on request (`{"command": "status"}`), whenever
a source's state changes, periodically (fps and latency), and once more when the host stops
(`"state": "stopped"`). Every status names its host, so two hosts on one base topic show.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
import json
from typing import Any

from ..fence.gate import GateSnapshot
from ..pipeline.source_status import SourceState, SourceStats, SourceStatus
from ..video.sources import SourceConfig
from .host import HostInfo

STOPPED = "stopped"

HUB_STATES = ("paused", "running", "degraded", "starting", "stopped")
"""Every word `overall_state` returns (a host's state sensor: an enum)."""

SOURCE_STATES = ("connecting", "running", "paused", "reconnecting", "ended", "error", "stopped")
"""Every word `source_state_word` returns (a source's state sensor: an enum)."""


def overall_state(snapshot: GateSnapshot, statuses: Mapping[int, SourceStatus]) -> str:
    """Return one word for the whole: paused, running, degraded, starting or stopped."""
    if snapshot.paused:
        return "paused"
    states = {s.state for s in statuses.values()}
    if not states or states == {SourceState.STOPPED}:
        return STOPPED
    if states <= {SourceState.CONNECTING}:
        return "starting"
    if states <= {SourceState.RUNNING}:
        return "running"
    return "degraded"


def source_state_word(paused: bool, status: SourceStatus | None) -> str:
    """Return a source's word: paused wins over running; otherwise the runner's state."""
    if status is None:
        return STOPPED
    if paused and status.state is SourceState.RUNNING:
        return "paused"
    return status.state.value


def build_status(
    *,
    host: HostInfo,
    snapshot: GateSnapshot,
    sources: Mapping[int, SourceConfig],
    statuses: Mapping[int, SourceStatus],
    stats: Mapping[int, SourceStats],
    changed: datetime,
    reason: str,
    stopped: bool = False,
    store_error: str | None = None,
) -> dict[str, Any]:
    """Build the status message (JSON-ready); `stopped` is the host's last word."""
    per_source: dict[str, Any] = {}
    for source_id, config in sources.items():
        status = None if stopped else statuses.get(source_id)
        paused = snapshot.effective(source_id) if source_id in snapshot.sources else True
        stat = None if stopped else stats.get(source_id)
        per_source[str(source_id)] = {
            "name": config.display_name,
            "paused": paused,
            "paused_by_source": snapshot.sources.get(source_id, False),
            "state": source_state_word(paused, status),
            "available": bool(status and status.available),
            "stream_paused": bool(status and status.stream_paused),
            "error": status.error if status else None,
            "fps": round(stat.fps, 2) if stat else 0.0,
            "inference_ms": round(stat.inference_ms, 2) if stat else 0.0,
            # Frames the camera captured that never reached dispatch because detection and
            # dispatch fell behind (the stream drops its oldest), since the host started: a
            # machine too slow for this camera's rate shows here, not as a growing delay.
            "dropped_overload": stat.frames_dropped_overload if stat else 0,
        }
    return {
        "paused": snapshot.paused,
        "state": STOPPED if stopped else overall_state(snapshot, statuses),
        "sources": per_source,
        "changed": changed.astimezone(UTC).isoformat(timespec="milliseconds"),
        "reason": reason,
        "store_error": store_error,
        "host": host.as_dict(),
    }


def status_json(status: Mapping[str, Any]) -> str:
    """Serialise a status message (or any small JSON body of the control plane)."""
    return json.dumps(status, separators=(",", ":"))
