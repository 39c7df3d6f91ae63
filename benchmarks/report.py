"""Print every benchmark's latest numbers as one table, and write them as one JSON file.

`python -m benchmarks.report` reads benchmarks/results/{engine,e2e,load,resources,soak,detectors,
local_model}.json (each
benchmark writes its own) and writes benchmarks/results/summary.json. `benchmarks/run` calls it
last, so one command prints everything.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

RESULTS = Path("benchmarks/results")
FILES = ("engine", "e2e", "load", "resources", "soak", "detectors", "local_model", "events")

# The per-frame goals of issue 22, with what they measured before the work (main at 2fca722,
# supervision's ByteTrack, the pipeline's fps limiter, a 64-deep predictions queue), measured
# on 2026-12-03 in the same sitting as the docs' "after" figures (docs/benchmarks.md).
GOALS: tuple[tuple[str, str, str, tuple[str, ...], float | None], ...] = (
    # (goal, target, before, path into the results, factor for the shown value)
    (
        "tracking+zones+events, 10 objects (ms)",
        "<= 0.5",
        "1.82",
        ("events", "tracking_cost", "10_objects", "total_ms"),
        None,
    ),
    (
        "  ... as a share of the motion detector",
        "<= 0.25",
        "1.43",
        ("events", "tracking_cost", "10_objects", "ratio_to_motion"),
        None,
    ),
    (
        "max_fps 5 on a 30 fps camera (fps)",
        "4.9-5.1",
        "4.6",
        ("engine", "fps_limit", "camera_30fps_max_5"),
        None,
    ),
    (
        "max_fps 10 on a 10 fps camera (fps)",
        ">= 9.5",
        "6.1",
        ("engine", "fps_limit", "camera_10fps_max_10"),
        None,
    ),
    (
        "our sink / null sink, motion, tracking on",
        ">= 0.95",
        "0.68",
        ("engine", "pipeline", "motion_ratio"),
        None,
    ),
    (
        "our sink / null sink, face, tracking on",
        ">= 0.95",
        "0.78",
        ("engine", "pipeline", "face_ratio"),
        None,
    ),
    (
        "16 x 30 fps worker: capture -> subscriber p50 (ms)",
        "<= 50",
        "378",
        ("load", "worker_16src_default", "steady", "capture_to_subscriber", "p50_ms"),
        None,
    ),
    (
        "16 x 30 fps worker: frames processed (%)",
        ">= 90",
        "92.6",
        ("load", "worker_16src_default", "steady", "processed_share"),
        100.0,
    ),
    (
        "16 x 30 fps worker: messages with detections published (%)",
        "",
        "99.0",
        ("load", "worker_16src_default", "steady", "published_share"),
        100.0,
    ),
    (
        "16 x 30 fps worker: pause -> ack p99 (ms, issue 20)",
        "<= 100",
        "1,150",
        ("load", "worker_16src_default", "pause_ack", "p99_ms"),
        None,
    ),
    (
        "16 x 30 fps integration: pause -> ack p99 (ms)",
        "<= 150",
        "timeout",
        ("load", "integration_16src_default", "pause_ack", "p99_ms"),
        None,
    ),
    (
        "16 x 30 fps worker: frames dropped as overload",
        "counted",
        "uncounted",
        ("load", "worker_16src_default", "steady", "frames_dropped_overload"),
        None,
    ),
)


def _load(name: str) -> dict[str, Any]:
    path = RESULTS / f"{name}.json"
    return json.loads(path.read_text()) if path.exists() else {}


def _pair(stats: dict[str, Any] | None) -> str:
    if not stats:
        return "-"
    return f"{stats['p50_ms']:.1f} / {stats['p99_ms']:.1f}"


def _broker(run: dict[str, Any]) -> str:
    """The Nagle setting of a run: the broker's, plus `+HA` when HA's socket had it too."""
    text = "nodelay" if run["broker_tcp_nodelay"] else "default"
    return text + ("+HA" if run.get("ha_socket_tcp_nodelay") else "")


def load_table(load: dict[str, Any]) -> list[str]:
    """The fence-under-load grid, one row per host x sources x broker setting."""
    head = (
        f"{'host':<12}{'src x fps':<10}{'nagle':<11}{'cycles':>7}{'leaked':>7}{'stale':>6}"
        f"{'det/s':>7}  {'pause ack':<13}{'frame->sub':<13}{'hand-off->sub':<14}"
        f"{'raw paho':<13}{'ratio p50/p99':<14}{'loop lag p50/p99/max':<20}"
    )
    rows = [head, "-" * len(head)]
    runs = [v for k, v in sorted(load.items()) if isinstance(v, dict) and "cycles" in v]
    runs.sort(key=lambda r: (r["host"], _broker(r), r["sources"]))
    for r in runs:
        lag = r.get("loop_lag")
        lag_text = "-"
        if lag:
            lag_text = f"{lag['p50_ms']:.1f} / {lag['p99_ms']:.1f} / {lag['max_ms']:.1f}"
        rows.append(
            f"{r['host']:<12}{str(r['sources']) + ' x ' + str(int(r['fps_per_source'])):<10}"
            f"{_broker(r):<11}{r['cycles']:>7}"
            f"{r['leaked_after_ack']:>7}{r['stale_after_resume']:>6}"
            f"{r['detections_per_s_during_cycles']:>7.0f}  {_pair(r['pause_ack']):<13}"
            f"{_pair(r['capture_to_subscriber']):<13}{_pair(r['handoff_to_subscriber']):<14}"
            f"{_pair(r['raw_paho_to_subscriber']):<13}"
            f"{r['handoff_vs_raw_p50']:.2f} / {r['handoff_vs_raw_p99']:.2f}{'':<3}{lag_text:<20}"
        )
    rows.append("(latencies in ms, p50 / p99; ratio = hand-off->subscriber over raw paho)")
    return rows


def _lookup(summary: dict[str, Any], path: tuple[str, ...]) -> Any:
    value: Any = summary
    for key in path:
        if not isinstance(value, dict) or key not in value:
            return None
        value = value[key]
    return value


def goals_table(summary: dict[str, Any]) -> list[str]:
    """Issue 22's per-frame goals: target, before (dated, in GOALS), and this run's figure."""
    head = f"{'goal':<60}{'target':>10}{'before':>10}{'now':>10}"
    rows = [head, "-" * len(head)]
    for goal, target, before, path, factor in GOALS:
        value = _lookup(summary, path)
        if isinstance(value, int | float) and factor:
            value *= factor
        shown = "-" if value is None else f"{value:.3g}" if isinstance(value, float) else value
        rows.append(f"{goal:<60}{target:>10}{before:>10}{shown!s:>10}")
    rows.append("(before: main at 2fca722 on 2026-12-03, see docs/benchmarks.md; now: this run)")
    return rows


def flat(section: str, values: Any, prefix: str = "") -> list[str]:
    """Render any other section as `key  value` lines."""
    lines: list[str] = []
    if isinstance(values, dict):
        for key, value in values.items():
            lines += flat(section, value, f"{prefix}{key}.")
        return lines
    if isinstance(values, list):
        shown = f"({len(values)} items, in the JSON)"
    else:
        shown = f"{values:,.3f}" if isinstance(values, float) else str(values)
    key = f"{section}.{prefix[:-1]}" if prefix else section
    return [key.ljust(58) + shown]


def main() -> None:
    """Print the table; write summary.json."""
    results = {name: _load(name) for name in FILES}
    summary: dict[str, Any] = {}
    for name, data in results.items():
        if not data:
            continue
        machine = data.pop("machine", None)
        if machine:
            summary["machine"] = machine
        summary[name] = data
    if "machine" in summary:
        m = summary["machine"]
        print(f"machine: {m['cpu']}, {m['cores']} cores, Python {m['python']}, Linux {m['kernel']}")
    for name in FILES:
        data = summary.get(name)
        if not data:
            continue
        print(f"\n== {name} ==")
        if name == "load":
            grid = {k: v for k, v in data.items() if k != "publish_throughput"}
            print("\n".join(load_table(grid)))
            if "publish_throughput" in data:
                print("\n".join(flat("throughput", data["publish_throughput"])))
            continue
        for section, values in data.items():
            print("\n".join(flat(section, values)))
    print("\n== goals (issue 22) ==")
    print("\n".join(goals_table(summary)))
    out = RESULTS / "summary.json"
    out.write_text(json.dumps(summary, indent=2))
    print(f"\n(written to {out})")


if __name__ == "__main__":
    main()
