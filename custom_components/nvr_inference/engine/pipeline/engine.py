"""The engine: every source of one configuration, one runner each, one gate between them all.

A host (the integration, the worker) builds one `Engine` for all its cameras: it starts and
stops every source's runner (runner.py), pauses and resumes through the shared `PauseGate`,
and reads each source's status and counters. Each source runs on its own pipeline and threads,
so this class owns only what they share: the gate, the delivery callback and the lifecycle.

One `InferencePipeline` per source. Why not one pipeline multiplexing every source: the
multiplexer waits for a frame from *each* source per batch, so a paused or reconnecting camera
would stall the others; one unreachable source at start fails the whole pipeline; and
`max_fps` is shared out across sources. One pipeline each costs three threads per source and
buys isolation: a source can pause, fail, reconnect or be removed without touching the rest.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
import threading

from ..config.camera import reported_union
from ..detect.spec import DetectorSpec
from ..errors import EngineError
from ..fence.gate import GateSnapshot, PauseGate
from ..video.sources import SourceConfig
from .runner import Deliver, RunnerOptions, SourceRunner
from .source_status import SourceStats, SourceStatus


class Engine:
    """Every source of one configuration, one gate, one publisher callback.

    `deliver` receives every message that passed the early checks, on the source's dispatch
    thread. It must publish through the gate's fence (see `FencedPublisher`) or hand the
    message to a thread that does (Home Assistant's event loop, in the integration).
    """

    def __init__(
        self,
        sources: Iterable[SourceConfig],
        spec: DetectorSpec,
        deliver: Deliver,
        *,
        gate: PauseGate | None = None,
        on_status: Callable[[SourceStatus], None] | None = None,
        options: RunnerOptions | None = None,
    ) -> None:
        """Prepare runners for every source; `gate` may carry restored pause state."""
        configs = list(sources)
        ids = [c.source_id for c in configs]
        if len(set(ids)) != len(ids):
            raise EngineError(f"source ids must be unique, got {ids}")
        self.spec = spec
        self.options = options or RunnerOptions()
        self.gate = gate if gate is not None else PauseGate(ids)
        for source_id in ids:
            if source_id not in self.gate.source_ids:
                self.gate.add_source(source_id)
        self._on_status = on_status or (lambda _status: None)
        self.runners = {
            c.source_id: SourceRunner(c, spec, self.gate, deliver, self._on_status, self.options)
            for c in configs
        }
        self._unlisten = self.gate.add_listener(self._gate_changed)
        self._started: list[SourceRunner] = []
        # start() and stop() may run at once on two executor threads (a setup cancelled while
        # its pipelines start): the lock makes stop() wait for the runner being started, and
        # the flag keeps start() from starting another one after stop() began.
        self._lifecycle = threading.Lock()
        self._stopping = False

    def start(self) -> None:
        """Start every source (blocking). On failure, stop what started and re-raise."""
        try:
            for runner in self.runners.values():
                with self._lifecycle:
                    if self._stopping:
                        return
                    self._started.append(runner)  # before start(): a half-started one is stopped
                    runner.start()
        except BaseException:
            self.stop()
            raise

    def stop(self) -> None:
        """Stop every source and join its threads (blocking; idempotent; any thread)."""
        self._stopping = True
        with self._lifecycle:
            unlisten, self._unlisten = self._unlisten, lambda: None
            unlisten()
            while self._started:
                self._started.pop().stop()

    def pause(self, source_id: int | None = None) -> GateSnapshot:
        """Pause one source or all: when this returns, nothing more is published."""
        return self.gate.pause(source_id)

    def resume(self, source_id: int | None = None) -> GateSnapshot:
        """Resume one source or all; frames captured before now are never published."""
        return self.gate.resume(source_id)

    def statuses(self) -> dict[int, SourceStatus]:
        """Return every source's latest status."""
        return {sid: r.status for sid, r in self.runners.items()}

    def stats(self) -> dict[int, SourceStats]:
        """Return every source's counters and rates."""
        return {sid: r.stats for sid, r in self.runners.items()}

    @property
    def reported_classes(self) -> tuple[str, ...]:
        """Every class some source reports (each may set its own); empty: any class."""
        return reported_union([r.spec for r in self.runners.values()])

    @property
    def sources(self) -> dict[int, SourceConfig]:
        """Every source's configuration, by id."""
        return {sid: r.config for sid, r in self.runners.items()}

    def _gate_changed(self, _snapshot: GateSnapshot) -> None:
        for runner in self.runners.values():
            runner.wake()
