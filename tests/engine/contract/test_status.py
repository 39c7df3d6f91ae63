"""The retained status message: what each source's entry says (contract/status.py)."""

from __future__ import annotations

from datetime import UTC, datetime

from custom_components.nvr_inference.engine.contract.host import HostInfo, HostKind
from custom_components.nvr_inference.engine.contract.status import build_status
from custom_components.nvr_inference.engine.fence.gate import PauseGate
from custom_components.nvr_inference.engine.pipeline.source_status import (
    SourceState,
    SourceStats,
    SourceStatus,
)
from custom_components.nvr_inference.engine.video.sources import SourceConfig

HOST = HostInfo("worker:test", HostKind.WORKER, "test")
NOW = datetime(2026, 12, 4, 12, 0, tzinfo=UTC)


def _status(stats: dict[int, SourceStats], *, stopped: bool = False) -> dict:
    sources = {0: SourceConfig(0, "rtsp://cam/0", "Front"), 1: SourceConfig(1, "rtsp://cam/1")}
    return build_status(
        host=HOST,
        snapshot=PauseGate(sources).snapshot(),
        sources=sources,
        statuses={sid: SourceStatus(sid, SourceState.RUNNING, NOW) for sid in sources},
        stats=stats,
        changed=NOW,
        reason="start",
        stopped=stopped,
    )


def test_each_source_reports_the_frames_it_dropped_under_overload() -> None:
    """Issue 22: a camera too fast for the machine shows in its status, beside its fps."""
    busy = SourceStats(frames_inferred=100, frames_dropped_overload=37)
    status = _status({0: busy, 1: SourceStats()})
    assert status["sources"]["0"]["dropped_overload"] == 37
    assert status["sources"]["1"]["dropped_overload"] == 0
    assert status["sources"]["0"]["fps"] == 0.0  # no rate measured here; the count is there


def test_the_final_status_reports_no_counters() -> None:
    status = _status({0: SourceStats(frames_dropped_overload=5)}, stopped=True)
    assert status["sources"]["0"]["dropped_overload"] == 0
    assert status["state"] == "stopped"
