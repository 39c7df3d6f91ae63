"""Home Assistant MQTT discovery payloads (device-based), shared by the integration and worker.

One retained config on `<prefix>/device/<node_id>/config` describes a device and all of its
components. Built by the control plane from a `DiscoverySpec`, so both hosts announce the same
way. The integration publishes only what it has no native entity for (object counts and
per-class occupancy, so any MQTT consumer and dashboard gets them); the worker, which has no
native entities, also publishes the pause switches and the fps/latency sensors. Occupancy uses
`expire_after`: a pause stops detection messages, and an occupancy left "on" forever would lie.
An empty retained payload on the same topic removes everything.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
import json
import re
from typing import Any

from .events import source_topic
from .host import HostInfo
from .messages import detections_topic
from .sources import SourceConfig
from .status import availability_topic, control_topic
from .zones import SourceZones

DEFAULT_PREFIX = "homeassistant"

OCCUPANCY_EXPIRE_AFTER = 30
"""Seconds without a detection message after which occupancy turns unavailable, not stale."""


def node_id(name: str) -> str:
    """Return a discovery-safe id from a name (letters, digits, underscores)."""
    slug = re.sub(r"[^a-zA-Z0-9_]+", "_", name.strip().lower()).strip("_")
    return slug or "nvr"


def discovery_topic(prefix: str, node: str) -> str:
    """Return the device-based discovery topic."""
    return f"{prefix}/device/{node}/config"


def _objects_sensor(node: str, base: str, source: SourceConfig) -> dict[str, Any]:
    return {
        "p": "sensor",
        "name": f"{source.display_name} objects",
        "unique_id": f"{node}_s{source.source_id}_objects",
        "state_topic": detections_topic(base, source.source_id),
        "value_template": "{{ value_json.detections | length }}",
        "state_class": "measurement",
        "unit_of_measurement": "objects",
        "icon": "mdi:counter",
    }


def _occupancy(node: str, base: str, source: SourceConfig, cls: str) -> dict[str, Any]:
    return {
        "p": "binary_sensor",
        "name": f"{source.display_name} {cls} occupancy",
        "unique_id": f"{node}_s{source.source_id}_{node_id(cls)}_occupancy",
        "state_topic": detections_topic(base, source.source_id),
        "value_template": (
            "{{ 'ON' if value_json.detections | selectattr('class', 'equalto', "
            f"{json.dumps(cls)}) | list | count > 0 else 'OFF' }}}}"
        ),
        "device_class": "occupancy",
        "expire_after": OCCUPANCY_EXPIRE_AFTER,
    }


def _pause_switch(node: str, base: str, source: SourceConfig | None) -> dict[str, Any]:
    on: dict[str, str | int]
    off: dict[str, str | int]
    if source is None:
        on, off = {"command": "pause"}, {"command": "resume"}
        template = "{{ 'ON' if value_json.paused else 'OFF' }}"
        name, key = "Pause detections", "pause"
    else:
        sid = source.source_id
        on = {"command": "pause", "source_id": sid}
        off = {"command": "resume", "source_id": sid}
        template = f"{{{{ 'ON' if value_json.sources['{sid}'].paused_by_source else 'OFF' }}}}"
        name, key = f"{source.display_name} pause", f"s{sid}_pause"
    return {
        "p": "switch",
        "name": name,
        "unique_id": f"{node}_{key}",
        "command_topic": control_topic(base, "commands"),
        "payload_on": json.dumps(on),
        "payload_off": json.dumps(off),
        "state_topic": control_topic(base, "status"),
        "value_template": template,
        "state_on": "ON",
        "state_off": "OFF",
        "entity_category": "config",
        "icon": "mdi:pause-circle",
    }


def _status_sensor(node: str, base: str, source: SourceConfig, key: str) -> dict[str, Any]:
    sid = source.source_id
    unit, label = {"fps": ("fps", "FPS"), "inference_ms": ("ms", "inference latency")}[key]
    return {
        "p": "sensor",
        "name": f"{source.display_name} {label}",
        "unique_id": f"{node}_s{sid}_{key}",
        "state_topic": control_topic(base, "status"),
        "value_template": f"{{{{ value_json.sources['{sid}'].{key} }}}}",
        "unit_of_measurement": unit,
        "state_class": "measurement",
        "entity_category": "diagnostic",
    }


@dataclass(frozen=True, slots=True)
class DiscoverySpec:
    """What a host announces: its device, and whether the pause switches come with it.

    The integration has native switches and sensors, so it announces only object counts and
    occupancy; the worker, which has no other way into Home Assistant, announces everything.
    """

    node: str
    device_name: str
    include_control: bool
    prefix: str = DEFAULT_PREFIX
    zones: Mapping[int, SourceZones] = field(default_factory=dict)

    @property
    def topic(self) -> str:
        """Return the retained config's topic."""
        return discovery_topic(self.prefix, self.node)


def _event(
    node: str, base: str, source: SourceConfig, event_types: Sequence[str]
) -> dict[str, Any]:
    sid = source.source_id
    return {
        "p": "event",
        "name": f"{source.display_name} objects",
        "unique_id": f"{node}_s{sid}_objects_event",
        "state_topic": source_topic(base, sid, "event"),
        "event_types": list(event_types),
        "icon": "mdi:motion-sensor",
    }


def _event_image(node: str, base: str, source: SourceConfig) -> dict[str, Any]:
    sid = source.source_id
    return {
        "p": "image",
        "name": f"{source.display_name} last event",
        "unique_id": f"{node}_s{sid}_last_event",
        "image_topic": source_topic(base, sid, "event_snapshot"),
        "content_type": "image/jpeg",
    }


def _zone(
    node: str, base: str, source: SourceConfig, zone: str, cls: str, kind: str
) -> dict[str, Any]:
    sid = source.source_id
    value = f"value_json[{json.dumps(zone)}][{json.dumps(cls)}]"
    common = {
        "unique_id": f"{node}_s{sid}_zone_{node_id(zone)}_{node_id(cls)}_{kind}",
        "state_topic": source_topic(base, sid, "zones"),
    }
    if kind == "occupancy":
        return common | {
            "p": "binary_sensor",
            "name": f"{zone} {cls} occupancy",
            "value_template": f"{{{{ 'ON' if {value} > 0 else 'OFF' }}}}",
            "device_class": "occupancy",
        }
    return common | {
        "p": "sensor",
        "name": f"{zone} {cls} count",
        "value_template": f"{{{{ {value} }}}}",
        "state_class": "measurement",
        "icon": "mdi:account-multiple",
    }


def _line(node: str, base: str, source: SourceConfig, line: str, direction: str) -> dict[str, Any]:
    sid = source.source_id
    return {
        "p": "sensor",
        "name": f"{line} {direction}",
        "unique_id": f"{node}_s{sid}_line_{node_id(line)}_{direction}",
        "state_topic": source_topic(base, sid, "lines"),
        "value_template": f"{{{{ value_json[{json.dumps(line)}].{direction} }}}}",
        "state_class": "total_increasing",
        "icon": "mdi:transit-transfer",
    }


def build_discovery(
    *,
    node: str,
    device_name: str,
    base_topic: str,
    sources: Iterable[SourceConfig],
    classes: Sequence[str],
    include_control: bool,
    host: HostInfo,
    zones: Mapping[int, SourceZones] | None = None,
    event_types: Sequence[str] = (),
) -> dict[str, Any]:
    """Build one device-based discovery config.

    With `include_control` (the worker, which has no other way into Home Assistant) it also
    announces the pause switches, fps and latency, and per source the events, the last
    event's picture, and the counts of its zones and lines.
    """
    components: dict[str, Any] = {}
    source_list = list(sources)
    drawn = zones or {}
    if include_control:
        components[f"{node}_pause"] = _pause_switch(node, base_topic, None)
    for source in source_list:
        found = [_objects_sensor(node, base_topic, source)]
        found += [_occupancy(node, base_topic, source, cls) for cls in classes]
        if include_control:
            found.append(_pause_switch(node, base_topic, source))
            found += [_status_sensor(node, base_topic, source, k) for k in ("fps", "inference_ms")]
            if event_types:
                found += [
                    _event(node, base_topic, source, event_types),
                    _event_image(node, base_topic, source),
                ]
            source_zones = drawn.get(source.source_id, SourceZones())
            for zone in source_zones.zones:
                for cls in zone.counted_classes(classes):
                    found += [
                        _zone(node, base_topic, source, zone.name, cls, kind)
                        for kind in ("occupancy", "count")
                    ]
            for line in source_zones.lines:
                found += [_line(node, base_topic, source, line.name, d) for d in ("in", "out")]
        components |= {component["unique_id"]: component for component in found}
    return {
        "dev": {
            "ids": [node],
            "name": device_name,
            "mf": "nvr_inference",
            "mdl": "InferencePipeline",
        },
        "o": host.origin(),
        "avty": [{"t": availability_topic(base_topic), "val_tpl": "{{ value_json.state }}"}],
        "cmps": components,
        "qos": 0,
    }
