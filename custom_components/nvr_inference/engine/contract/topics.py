"""Every MQTT topic a host publishes on or listens to, in one place.

Under the host's base topic (`nvr` by default):

    <base>/availability                      retained: online/offline, and the host
    <base>/control/<leaf>                    commands, status (retained), error, probe
    <base>/detections/<source_id>            one source's detections
    <base>/events                            every event of every source (Frigate's shape)
    <base>/events/<event_id>/snapshot        one event's best frame (JPEG)
    <base>/sources/<source_id>/<leaf>        snapshot, event, event_snapshot, zones, lines

and Home Assistant's discovery, one retained config per device:

    <prefix>/device/<node>/config            `node` from `node_id`; a worker's cameras
                                             hang from its hub as `source_node`s
"""

from __future__ import annotations

import re


def availability_topic(base_topic: str) -> str:
    """Return the retained availability topic (JSON `state` online/offline, and the host)."""
    return f"{base_topic}/availability"


def control_topic(base_topic: str, leaf: str) -> str:
    """Return `<base>/control/<leaf>` (commands, status, error, probe)."""
    return f"{base_topic}/control/{leaf}"


def detections_topic(base_topic: str, source_id: int) -> str:
    """Return the topic that carries one source's detections."""
    return f"{base_topic}/detections/{source_id}"


def events_topic(base_topic: str) -> str:
    """Every event of every source, Frigate's way."""
    return f"{base_topic}/events"


def event_snapshot_topic(base_topic: str, event_id: str) -> str:
    """Return the topic of one event's best frame (JPEG)."""
    return f"{base_topic}/events/{event_id}/snapshot"


def source_topic(base_topic: str, source_id: int, leaf: str) -> str:
    """Per-source topics for MQTT discovery: `event`, `event_snapshot`, `zones`, `lines`."""
    return f"{base_topic}/sources/{source_id}/{leaf}"


def snapshot_topic(base_topic: str, source_id: int) -> str:
    """Return where a source's latest snapshot (JPEG, not retained) is published."""
    return source_topic(base_topic, source_id, "snapshot")


def node_id(name: str) -> str:
    """Return a discovery-safe id from a name (letters, digits, underscores)."""
    slug = re.sub(r"[^a-zA-Z0-9_]+", "_", name.strip().lower()).strip("_")
    return slug or "nvr"


def discovery_topic(prefix: str, node: str) -> str:
    """Return the device-based discovery topic."""
    return f"{prefix}/device/{node}/config"


def source_node(node: str, source_id: int) -> str:
    """Return the node id of a source's own device (the worker's)."""
    return f"{node}_s{source_id}"


SOURCE_NODE = re.compile(r"_s\d+$")
"""What `source_node` appends: how a worker's source devices are told from other nodes."""
