"""`nvr-inference worker --remove`: clear every retained message the worker ever left.

Its discovery configs (so Home Assistant drops its devices), and also its availability, its
status, and per camera the zone and line counts and the latest event's picture: found on the
broker (`RetainedScan`), not listed from the configuration, so a camera dropped since or a
zone renamed goes too. Afterwards a fresh subscriber to `#` sees nothing retained of it; the
removal looks once more to make sure, clears again what is still there, and fails (exit 2)
if something stays. A removal never clears what another live host owns, nor a worker that
is still running (it would write it all again).

Live is judged as a start judges it (`StartCheck`): an `online` found there, the worker's own
or another host's, is asked for its status and given `STALE_AFTER` to speak. A running worker
answers in milliseconds and the removal refuses; an `online` nothing answers for (a host that
died without its last will) is stale, and the removal takes the base topic over and clears it
with the rest, with a warning.
"""

from __future__ import annotations

import logging
import threading
from typing import Any

from ..config.worker_settings import WorkerSettings
from ..contract.host import HostInfo, StartCheck
from ..contract.retained import RetainedScan
from ..errors import EngineError
from .mqtt import (
    START_CHECK_TIMEOUT,
    check_base_topic,
    close,
    connect_sync,
    make_client,
    wait_published,
)

_LOGGER = logging.getLogger(__name__)

ATTEMPTS = 3
"""Scans (each followed by clearing what it found) before a removal gives up."""


def remove_worker(settings: WorkerSettings) -> None:
    """Clear everything this worker retains on the broker; raise `EngineError` if it stays."""
    left_behind = _refuse_if_live(settings)
    client = make_client(settings, will=False, suffix="_remove")  # never takes the worker's
    connack: list[Any] = []
    client.on_connect = lambda _c, _u, _f, reason, _p: connack.append(reason)
    connect_sync(client, settings.mqtt, lambda: connack[0] if connack else None)
    client.loop_start()
    try:
        found = _scan(client, settings).to_clear(settings.host, left_behind=left_behind)
        cleared: set[str] = set()
        for _attempt in range(ATTEMPTS):
            if not found:
                _LOGGER.info(
                    "Removed %s: %d retained topic(s) cleared", settings.node, len(cleared)
                )
                return
            for topic in sorted(found):
                wait_published(client.publish(topic, "", qos=1, retain=True), f"clearing {topic}")
            cleared |= set(found)
            found = _scan(client, settings).to_clear(settings.host, left_behind=left_behind)
        raise EngineError(f"could not clear the retained topics {sorted(found)}")
    finally:
        close(client, threaded=True)


def _scan(client: Any, settings: WorkerSettings) -> RetainedScan:
    """Subscribe, probe, collect what is retained, unsubscribe."""
    done = threading.Event()
    scan = RetainedScan(settings.base_topic, settings.node, settings.discovery_prefix, done.set)
    subscribed = threading.Event()

    def on_message(_c: Any, _u: Any, msg: Any) -> None:
        scan.offer(msg.topic, bytes(msg.payload), retained=bool(msg.retain))

    client.on_message = on_message
    client.on_subscribe = lambda *_args: subscribed.set()
    client.subscribe([(topic, 1) for topic in scan.filters])
    if not subscribed.wait(START_CHECK_TIMEOUT):
        raise EngineError(
            "the MQTT broker did not grant the subscription to look for what to remove"
        )
    client.publish(scan.probe_topic, scan.probe_payload, qos=1)
    if not done.wait(START_CHECK_TIMEOUT):
        raise EngineError(
            f"the MQTT broker did not return the probe within {START_CHECK_TIMEOUT:g} s"
        )
    client.unsubscribe(list(scan.filters))
    return scan


def _refuse_if_live(settings: WorkerSettings) -> str | None:
    """Clear nothing while another live host, or this worker itself, is online there.

    The check asks as a remover (an id of its own), so the worker's own `online` is watched
    like another host's. Returns the id of the host whose `online` was stale, if any.
    """
    remover = HostInfo(f"{settings.host.id}:remove", settings.host.kind, settings.host.name)
    check: StartCheck = check_base_topic(settings, me=remover)
    if not check.complete:
        raise EngineError(
            f"the MQTT broker did not return the probe within {START_CHECK_TIMEOUT:g} s"
        )
    live = check.verdict(remover)
    if live is not None and live.id == settings.host.id:
        raise EngineError(
            f"the worker {settings.name!r} is running (it answered on the base topic): "
            "stop it first, then remove it"
        )
    if live is not None:
        raise EngineError(live.describe(settings.base_topic))
    return check.stale.id if check.stale is not None else None
