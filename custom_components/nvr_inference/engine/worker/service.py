"""The standalone worker: the engine behind its own paho-mqtt client, same MQTT contract.

For every install that cannot host the pipeline inside Home Assistant (Home Assistant OS, the
container, Python 3.14), and for spreading cameras over several machines behind one broker.
The contract itself (commands, the acknowledgement, status, availability, discovery) is the
engine's `ControlPlane`, the same as in the integration; this module adapts paho to it
(`PahoTransport`, in `mqtt`), keeps the pause in a state file (`FilePauseStore`), and owns the
process: connect, the start checks, the status refresher, and a clean stop. Its settings are
`settings.WorkerSettings`, built by the command line (`config`).

Threads and the fence. Commands arrive on paho's network thread and go to the control plane,
which writes the state file, changes the gate and hands the acknowledgement to paho inside the
gate's lock. Detections are published from each source's dispatch thread through
`FencedPublisher`, which holds that same lock from the gate check to `client.publish` (QoS 0,
not retained: nothing is queued while the broker is away). paho writes its outgoing packets in
the order they were handed to it, so subscribers see that order too. Nothing ever *waits* on
paho while holding the gate lock (paho's network thread may be blocked on that lock,
delivering a command).
"""

from __future__ import annotations

import logging
import socket
import threading
import time
from typing import Any

from ..config.worker_settings import WorkerSettings
from ..contract.control import ControlPlane
from ..contract.ratelimit import RateLimitedLog
from ..contract.topics import availability_topic, control_topic
from ..detect.spec import DetectorSpec
from ..discovery.devices import DiscoverySpec
from ..errors import EngineError
from ..fence.pause_store import FilePauseStore, PauseState, PauseStoreError
from ..fence.publisher import FencedPublisher
from ..pipeline.engine import Engine
from ..pipeline.runner import SNAPSHOT_INTERVAL, RunnerOptions
from ..video.probe import check_setup
from .instance import InstanceLock
from .mqtt import (
    START_CHECK_TIMEOUT,
    PahoTransport,
    check_base_topic,
    close,
    connect_sync,
    make_client,
    status_sources,
    wait_published,
)

_LOGGER = logging.getLogger(__name__)

TICK = 1.0
"""Seconds between two checks for events whose object went unseen."""


class BaseTopicInUseError(EngineError):
    """Another live host publishes under this worker's base topic."""


class Worker:
    """One engine, one MQTT connection, the control plane between them."""

    def __init__(self, settings: WorkerSettings) -> None:
        """Prepare everything; nothing connects or starts until `connect()` and `start()`."""
        if settings.detector is None or not settings.sources:
            raise EngineError("a worker needs a detector and at least one source")
        self.settings = settings
        self.spec: DetectorSpec = settings.detector
        self.base = settings.base_topic
        self.sources = {s.source_id: s for s in settings.sources}
        self.client = make_client(settings)
        self.client.on_connect = self._on_connect
        self.client.on_disconnect = self._on_disconnect
        self.client.on_subscribe = self._on_subscribe
        self.client.on_connect_fail = self._on_connect_fail
        self.client.message_callback_add(control_topic(self.base, "commands"), self._on_command)
        self.client.message_callback_add(f"{settings.discovery_prefix}/status", self._on_ha_status)
        self.client.message_callback_add(availability_topic(self.base), self._on_availability)
        self.transport = PahoTransport(self.client)
        self.engine = Engine(
            settings.sources,
            self.spec,
            lambda message: self.publisher(message),
            on_status=lambda status: self.plane.source_changed(status),
            options=RunnerOptions(
                max_fps=settings.max_fps,
                api_key=settings.api_key,
                snapshot_interval=SNAPSHOT_INTERVAL,
                tracking=settings.tracking,
                zones=settings.zones,
                cameras=settings.cameras,
            ),
        )
        self.gate = self.engine.gate
        self.publisher = FencedPublisher.for_engine(
            self.engine, self.transport, self.base, snapshots=True
        )
        self.store = FilePauseStore(settings.pause_file)
        self.instance_lock = InstanceLock(settings.pause_file, settings.name)
        self.plane = ControlPlane.for_engine(
            self.engine,
            host=settings.host,
            base_topic=self.base,
            transport=self.transport,
            store=self.store,
            publisher=self.publisher,
            discovery=DiscoverySpec(
                node=settings.node,
                device_name=settings.name,
                include_control=True,
                prefix=settings.discovery_prefix,
                zones=settings.zones,
            ),
            logger=_LOGGER,
        )
        self._connack: Any = None
        self._subscribe_mid: int | None = None
        self._stop = threading.Event()
        self._refresher: threading.Thread | None = None
        self._started = False
        self._connection_log = RateLimitedLog(_LOGGER)

    # -- lifecycle --------------------------------------------------------------------------

    def claim(self) -> None:
        """Take this name's lock on this machine, or raise `WorkerAlreadyRunningError`.

        First of all: a second worker of the same name must not connect (same client id).
        """
        self.instance_lock.acquire()

    def check(self) -> None:
        """Probe before connecting: the pipeline, the detector, one frame of every file.

        A camera is only checked as written (a typo stops the worker): one that is down now
        is reported `reconnecting` and retried once running, and the others run meanwhile.
        """
        check_setup(self.sources.values(), self.spec, self.settings.api_key, probe_cameras=False)

    def connect(self) -> None:
        """Connect once, synchronously; raise `BrokerUnavailableError` if that fails."""
        connect_sync(self.client, self.settings.mqtt, lambda: self._connack)
        _LOGGER.debug("Connected to the MQTT broker as %s", self.settings.node)

    def restore_pause(self) -> None:
        """Check the base topic is ours, then close the gate where the saved pause says.

        Before anything runs, so a paused camera never publishes a frame after a restart. The
        state file is the memory; the broker's retained status is only a fallback for a worker
        that has no state file yet. When neither can be read, everything starts paused.
        """
        started = time.monotonic()
        saved: PauseState | None = None
        try:
            saved = self.store.load()
        except PauseStoreError as err:
            self.plane.restore(None, error=str(err))
        else:
            if saved is not None:
                self.plane.restore(saved)
        _LOGGER.debug("Saved pause applied in %.2f ms", (time.monotonic() - started) * 1e3)
        check = check_base_topic(self.settings)
        foreign = check.verdict(self.settings.host)
        if foreign is not None:
            raise BaseTopicInUseError(foreign.describe(self.base))
        if check.stale is not None:  # its `online` was left behind: ours replaces it
            self.plane.took_over(check.stale.id)
        self.plane.retire_sources(status_sources(check.status))
        if saved is not None or self.plane.store_error is not None:
            return
        if not check.complete:
            self.plane.restore(
                None,
                error=f"no state file yet ({self.store.path}) and the broker did not show "
                f"the retained status within {START_CHECK_TIMEOUT:g} s",
            )
        elif check.status is not None:
            _LOGGER.info("No state file yet: the pause comes from the retained status")
            self.plane.restore(PauseState.from_status(check.status, self.sources))
        else:
            self.plane.restore(None)

    def start(self) -> None:
        """Start paho's network thread (it reconnects with backoff), then every source."""
        self.client.loop_start()
        self._refresher = threading.Thread(target=self._refresh_loop, name="nvr-worker-status")
        self._refresher.start()
        self._started = True
        self.engine.start()
        names = ", ".join(f"{s.source_id}={s.display_name}" for s in self.sources.values())
        _LOGGER.info(
            "Worker %s running %s on %s; broker %s:%s, topics %s/#",
            self.settings.name,
            self.spec.model_id,
            names,
            self.settings.mqtt.host,
            self.settings.mqtt.port,
            self.base,
        )

    def stop(self) -> None:
        """Refuse every frame, publish `stopped` and `offline`, stop the sources. Idempotent."""
        if self._stop.is_set():
            return
        self._stop.set()
        started = time.monotonic()
        final, offline = self.plane.close()
        self.engine.stop()
        if self._refresher is not None:
            self._refresher.join()
            self._refresher = None
        if self._started:  # paho's network thread confirms them; none without it
            wait_published(final, "the final status")
            wait_published(offline, "offline")
        close(self.client, threaded=self._started)
        self.instance_lock.release()
        _LOGGER.info("Stopped in %.2f s", time.monotonic() - started)

    def run(self, stop: threading.Event) -> None:
        """Block until `stop` is set (signal handlers set it)."""
        while not stop.wait(1.0):
            pass

    def set_paused(
        self, paused: bool, source_id: int | None = None, reason: str = "command"
    ) -> None:
        """Pause or resume; on return it is saved, the fence holds and the ack is with paho."""
        self.plane.set_paused(paused, source_id, reason)

    def _refresh_loop(self) -> None:
        """Every second, end events gone quiet; every `status_interval`, refresh the status."""
        due = time.monotonic() + self.settings.status_interval
        while not self._stop.wait(TICK):
            self.publisher.tick()
            if time.monotonic() >= due:
                due += self.settings.status_interval
                self.plane.publish_status()

    # -- MQTT callbacks (paho's network thread) ---------------------------------------------

    def _on_command(self, _client: Any, _userdata: Any, msg: Any) -> None:
        self.plane.handle_command(msg.payload, retained=bool(msg.retain))

    def _on_ha_status(self, _client: Any, _userdata: Any, msg: Any) -> None:
        if msg.payload == b"online":
            self.plane.publish_discovery()

    def _on_availability(self, _client: Any, _userdata: Any, msg: Any) -> None:
        self.plane.observe_availability(msg.payload, retained=bool(msg.retain))

    def _on_connect(self, client: Any, _userdata: Any, _flags: Any, reason: Any, _p: Any) -> None:
        self._connack = reason
        if reason.is_failure:
            if self._started:  # the first connect raises instead: one line, from the CLI
                self._connection_log.warning("The MQTT broker refused the connection: %s", reason)
            return
        try:  # small acks must not wait ~40 ms for Nagle's algorithm
            client.socket().setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        except (OSError, AttributeError) as err:
            _LOGGER.debug("Cannot set TCP_NODELAY: %s", err)
        _rc, mid = client.subscribe(
            [
                (control_topic(self.base, "commands"), 1),
                (f"{self.settings.discovery_prefix}/status", 1),
                (availability_topic(self.base), 1),
            ]
        )
        self._subscribe_mid = mid

    def _on_subscribe(self, _client: Any, _userdata: Any, mid: int, _codes: Any, _p: Any) -> None:
        """Mark the transport connected and announce, in one hold of the gate's lock.

        Done here rather than in `on_connect` because paho re-sends the QoS 1 messages that
        were in flight when the connection dropped right *after* `on_connect` returns; a status
        published now comes after those stale ones and is the one the broker retains. Until
        then the transport stays offline (what the fence orders is dropped, `end`s are owed),
        so the announce's owed `end`s are the first thing after a reconnect.
        """
        if mid == self._subscribe_mid:
            self.plane.announce(reconnected=self.transport.connection_up)

    def _on_disconnect(
        self, _client: Any, _userdata: Any, _flags: Any, reason: Any, _p: Any
    ) -> None:
        with self.gate.lock:
            self.transport.connected = False
        if self._started and not self._stop.is_set():
            self._connection_log.warning(
                "Lost the connection to the MQTT broker (%s); reconnecting", reason
            )

    def _on_connect_fail(self, _client: Any, _userdata: Any) -> None:
        self._connection_log.warning(
            "Cannot reconnect to the MQTT broker at %s:%s; retrying with backoff",
            self.settings.mqtt.host,
            self.settings.mqtt.port,
        )
