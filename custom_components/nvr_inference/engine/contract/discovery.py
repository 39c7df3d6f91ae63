"""Home Assistant MQTT discovery payloads (device-based), shared by the integration and worker.

Each retained config on `<prefix>/device/<node>/config` describes one device and all of its
components; an empty retained payload on the same topic removes them. Built by the control
plane from a `DiscoverySpec`, so both hosts announce the same way.

The worker has no other way into Home Assistant, so its announcement *is* its device page, and
it mirrors the embedded integration's: a hub device named after the worker (global pause switch,
state) and one device per camera, hanging from the hub, named after the camera. Home Assistant
names an entity `<device> <entity>`, so the ids come out as the integration's
(`switch.porch_pause_detections`, `sensor.porch_processing_rate`, ...) and automations carry over.
The integration has native entities for all that; it announces only what it has none for
(object counts and per-class occupancy, for any MQTT consumer), on one device of its own.

Nothing shown as current may be stale. Every entity follows the host's availability; the ones
that show what a camera sees now (counts, occupancy, the snapshot, rates, events, zones) also
follow that camera's entry in the retained status: unavailable while it is paused (globally or
by itself) or not delivering frames. The switches and state sensors stay available and say why.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
import json
import re
from typing import Any

from ..objects.events import source_topic
from .host import PROJECT_URL, VERSION, HostInfo
from .messages import detections_topic
from ..video.sources import SourceConfig
from .status import HUB_STATES, SOURCE_STATES, availability_topic, control_topic
from ..objects.zones import SourceZones

DEFAULT_PREFIX = "homeassistant"

WORKER_DOCS_PATH = "blob/HEAD/docs/worker.md"
"""The worker's page, docs/worker.md, below a GitHub repository's address (HEAD: its default
branch), so the link follows the repository whatever that branch is called."""
WORKER_DOCS_URL = f"{PROJECT_URL}/{WORKER_DOCS_PATH}"
"""The device page's link: where the worker is explained."""


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


def snapshot_topic(base_topic: str, source_id: int) -> str:
    """Return where a source's latest snapshot (JPEG, not retained) is published."""
    return source_topic(base_topic, source_id, "snapshot")


@dataclass(frozen=True, slots=True)
class _Ctx:
    """What every component of one announcement needs."""

    node: str
    base: str
    per_source_devices: bool

    @property
    def status(self) -> str:
        return control_topic(self.base, "status")

    def name(self, source: SourceConfig, name: str) -> str:
        """Return the entity's name (on a source's own device, the device says which camera)."""
        return name if self.per_source_devices else f"{source.display_name} {name}"

    def uid(self, source: SourceConfig, key: str) -> str:
        return f"{self.node}_s{source.source_id}_{key}"

    def host_availability(self) -> dict[str, str]:
        return {"t": availability_topic(self.base), "val_tpl": "{{ value_json.state }}"}

    def live(self, source: SourceConfig, component: dict[str, Any]) -> dict[str, Any]:
        """Make `component` unavailable while its source is paused or not delivering."""
        entry = f"value_json.sources['{source.source_id}']"
        live = {
            "t": self.status,
            "val_tpl": (
                f"{{{{ 'online' if {entry}.available and not {entry}.paused else 'offline' }}}}"
            ),
        }
        return component | {"avty": [self.host_availability(), live], "avty_mode": "all"}

    def source_value(self, source: SourceConfig, key: str) -> str:
        return f"value_json.sources['{source.source_id}'].{key}"


def _attributes_template(fields: Mapping[str, str]) -> str:
    """Return a `json_attributes_template` picking `fields` (name -> Jinja expression)."""
    body = ", ".join(f"{json.dumps(k)}: {v}" for k, v in fields.items())
    return f"{{{{ {{{body}}} | tojson }}}}"


def _objects_sensor(ctx: _Ctx, source: SourceConfig) -> dict[str, Any]:
    return ctx.live(
        source,
        {
            "p": "sensor",
            "name": ctx.name(source, "Objects"),
            "unique_id": ctx.uid(source, "objects"),
            "state_topic": detections_topic(ctx.base, source.source_id),
            "value_template": "{{ value_json.detections | length }}",
            "state_class": "measurement",
            "unit_of_measurement": "objects",
            "icon": "mdi:counter",
        },
    )


def _occupancy(ctx: _Ctx, source: SourceConfig, cls: str) -> dict[str, Any]:
    return ctx.live(
        source,
        {
            "p": "binary_sensor",
            "name": ctx.name(source, f"{cls} occupancy"),
            "unique_id": ctx.uid(source, f"{node_id(cls)}_occupancy"),
            "state_topic": detections_topic(ctx.base, source.source_id),
            "value_template": (
                "{{ 'ON' if value_json.detections | selectattr('class', 'equalto', "
                f"{json.dumps(cls)}) | list | count > 0 else 'OFF' }}}}"
            ),
            "device_class": "occupancy",
        },
    )


def _pause_switch(ctx: _Ctx, source: SourceConfig | None) -> dict[str, Any]:
    """Return a pause switch: it shows its own setting; the effective pause is an attribute."""
    on: dict[str, str | int]
    off: dict[str, str | int]
    if source is None:
        on, off = {"command": "pause"}, {"command": "resume"}
        template = "{{ 'ON' if value_json.paused else 'OFF' }}"
        name, key = "Pause detections", "pause"
        attributes = _attributes_template({"reason": "value_json.reason"})
    else:
        sid = source.source_id
        on = {"command": "pause", "source_id": sid}
        off = {"command": "resume", "source_id": sid}
        template = f"{{{{ 'ON' if {ctx.source_value(source, 'paused_by_source')} else 'OFF' }}}}"
        name, key = ctx.name(source, "Pause detections"), f"s{sid}_pause"
        attributes = _attributes_template(
            {"paused": ctx.source_value(source, "paused"), "paused_globally": "value_json.paused"}
        )
    return {
        "p": "switch",
        "name": name,
        "unique_id": f"{ctx.node}_{key}",
        "command_topic": control_topic(ctx.base, "commands"),
        "payload_on": json.dumps(on),
        "payload_off": json.dumps(off),
        "state_topic": ctx.status,
        "value_template": template,
        "state_on": "ON",
        "state_off": "OFF",
        "json_attributes_topic": ctx.status,
        "json_attributes_template": attributes,
        "icon": "mdi:pause-circle",
    }


def _hub_state(ctx: _Ctx) -> dict[str, Any]:
    return {
        "p": "sensor",
        "name": "State",
        "unique_id": f"{ctx.node}_state",
        "state_topic": ctx.status,
        "value_template": "{{ value_json.state }}",
        "device_class": "enum",
        "options": list(HUB_STATES),
        "json_attributes_topic": ctx.status,
        "json_attributes_template": _attributes_template(
            {
                "reason": "value_json.reason",
                "changed": "value_json.changed",
                "store_error": "value_json.store_error",
            }
        ),
    }


def _source_state(ctx: _Ctx, source: SourceConfig) -> dict[str, Any]:
    """Return the camera's state sensor (paused wins over running), why as attributes."""
    return {
        "p": "sensor",
        "name": ctx.name(source, "State"),
        "unique_id": ctx.uid(source, "state"),
        "state_topic": ctx.status,
        "value_template": f"{{{{ {ctx.source_value(source, 'state')} }}}}",
        "device_class": "enum",
        "options": list(SOURCE_STATES),
        "json_attributes_topic": ctx.status,
        "json_attributes_template": _attributes_template(
            {
                key: ctx.source_value(source, key)
                for key in ("error", "stream_paused", "paused", "paused_by_source")
            }
            | {"paused_globally": "value_json.paused"}
        ),
    }


def _rate_sensor(ctx: _Ctx, source: SourceConfig, key: str) -> dict[str, Any]:
    name, extra = {
        "fps": ("Processing rate", {"unit_of_measurement": "fps"}),
        "inference_ms": (
            "Inference latency",
            {"unit_of_measurement": "ms", "device_class": "duration"},
        ),
    }[key]
    return ctx.live(
        source,
        {
            "p": "sensor",
            "name": ctx.name(source, name),
            "unique_id": ctx.uid(source, key),
            "state_topic": ctx.status,
            "value_template": f"{{{{ {ctx.source_value(source, key)} }}}}",
            "state_class": "measurement",
            "entity_category": "diagnostic",
            "suggested_display_precision": 1,
        }
        | extra,
    )


def _snapshot(ctx: _Ctx, source: SourceConfig) -> dict[str, Any]:
    return ctx.live(
        source,
        {
            "p": "image",
            "name": ctx.name(source, "Snapshot"),
            "unique_id": ctx.uid(source, "snapshot"),
            "image_topic": snapshot_topic(ctx.base, source.source_id),
            "content_type": "image/jpeg",
        },
    )


def _event(ctx: _Ctx, source: SourceConfig, event_types: Sequence[str]) -> dict[str, Any]:
    return ctx.live(
        source,
        {
            "p": "event",
            "name": ctx.name(source, "Objects"),
            "unique_id": ctx.uid(source, "objects_event"),
            "state_topic": source_topic(ctx.base, source.source_id, "event"),
            "event_types": list(event_types),
            "icon": "mdi:motion-sensor",
        },
    )


def _event_image(ctx: _Ctx, source: SourceConfig) -> dict[str, Any]:
    return {
        "p": "image",
        "name": ctx.name(source, "Last event"),
        "unique_id": ctx.uid(source, "last_event"),
        "image_topic": source_topic(ctx.base, source.source_id, "event_snapshot"),
        "content_type": "image/jpeg",
    }


def _zone(ctx: _Ctx, source: SourceConfig, zone: str, cls: str, kind: str) -> dict[str, Any]:
    value = f"value_json[{json.dumps(zone)}][{json.dumps(cls)}]"
    common = {
        "unique_id": ctx.uid(source, f"zone_{node_id(zone)}_{node_id(cls)}_{kind}"),
        "state_topic": source_topic(ctx.base, source.source_id, "zones"),
    }
    if kind == "occupancy":
        found = common | {
            "p": "binary_sensor",
            "name": f"{zone} {cls} occupancy",
            "value_template": f"{{{{ 'ON' if {value} > 0 else 'OFF' }}}}",
            "device_class": "occupancy",
        }
    else:
        found = common | {
            "p": "sensor",
            "name": f"{zone} {cls} count",
            "value_template": f"{{{{ {value} }}}}",
            "state_class": "measurement",
            "icon": "mdi:account-multiple",
        }
    return ctx.live(source, found)


def _line(ctx: _Ctx, source: SourceConfig, line: str, direction: str) -> dict[str, Any]:
    return {
        "p": "sensor",
        "name": f"{line} {direction}",
        "unique_id": ctx.uid(source, f"line_{node_id(line)}_{direction}"),
        "state_topic": source_topic(ctx.base, source.source_id, "lines"),
        "value_template": f"{{{{ value_json[{json.dumps(line)}].{direction} }}}}",
        "state_class": "total_increasing",
        "icon": "mdi:transit-transfer",
    }


def _source_components(
    ctx: _Ctx,
    source: SourceConfig,
    classes: Sequence[str],
    zones: SourceZones,
    event_types: Sequence[str],
) -> list[dict[str, Any]]:
    """Everything the worker shows of one camera (the integration's source device)."""
    found = [
        _pause_switch(ctx, source),
        _source_state(ctx, source),
        _objects_sensor(ctx, source),
        *(_occupancy(ctx, source, cls) for cls in classes),
        _snapshot(ctx, source),
        *(_rate_sensor(ctx, source, key) for key in ("fps", "inference_ms")),
    ]
    if event_types:
        found += [_event(ctx, source, event_types), _event_image(ctx, source)]
    for zone in zones.zones:
        for cls in zone.counted_classes(classes):
            found += [_zone(ctx, source, zone.name, cls, kind) for kind in ("occupancy", "count")]
    for line in zones.lines:
        found += [_line(ctx, source, line.name, d) for d in ("in", "out")]
    return found


@dataclass(frozen=True, slots=True)
class DiscoverySpec:
    """What a host announces: its device(s), and whether the whole device page comes with it.

    The integration has native switches and sensors, so it announces only object counts and
    occupancy (`include_control` False, one device); the worker, which has no other way into
    Home Assistant, announces everything, on a hub device and one device per source.
    """

    node: str
    device_name: str
    include_control: bool
    prefix: str = DEFAULT_PREFIX
    zones: Mapping[int, SourceZones] = field(default_factory=dict)

    @property
    def topic(self) -> str:
        """Return the hub's (or the only device's) retained config topic."""
        return discovery_topic(self.prefix, self.node)

    def topics(self, source_ids: Iterable[int]) -> list[str]:
        """Return every config topic this host announces on, the hub's first."""
        if not self.include_control:
            return [self.topic]
        nodes = [source_node(self.node, sid) for sid in source_ids]
        return [self.topic, *(discovery_topic(self.prefix, n) for n in nodes)]


def build_discovery(
    spec: DiscoverySpec,
    *,
    base_topic: str,
    sources: Iterable[SourceConfig],
    classes: Sequence[str],
    host: HostInfo,
    event_types: Sequence[str] = (),
) -> dict[str, dict[str, Any]]:
    """Build every discovery config of a host: topic -> config, the hub's first."""
    source_list = list(sources)
    ctx = _Ctx(spec.node, base_topic, per_source_devices=spec.include_control)
    common = {
        "o": host.origin(),
        "avty": [ctx.host_availability()],
        "qos": 0,
    }
    device = {"mf": "nvr_inference", "sw": VERSION}
    if not spec.include_control:
        components = [
            c
            for source in source_list
            for c in (
                _objects_sensor(ctx, source),
                *(_occupancy(ctx, source, cls) for cls in classes),
            )
        ]
        return {
            spec.topic: {
                "dev": device
                | {"ids": [spec.node], "name": spec.device_name, "mdl": "InferencePipeline"},
                "cmps": {c["unique_id"]: c for c in components},
            }
            | common
        }
    hub_components = [_pause_switch(ctx, None), _hub_state(ctx)]
    configs = {
        spec.topic: {
            "dev": device
            | {
                "ids": [spec.node],
                "name": spec.device_name,
                "mdl": "Worker",
                "cu": WORKER_DOCS_URL,
            },
            "cmps": {c["unique_id"]: c for c in hub_components},
        }
        | common
    }
    for source in source_list:
        node = source_node(spec.node, source.source_id)
        found = _source_components(
            ctx, source, classes, spec.zones.get(source.source_id, SourceZones()), event_types
        )
        configs[discovery_topic(spec.prefix, node)] = {
            "dev": device
            | {
                "ids": [node],
                "name": source.display_name,
                "mdl": f"{source.kind.value} source {source.source_id}",
                "via_device": spec.node,
            },
            "cmps": {c["unique_id"]: c for c in found},
        } | common
    return configs
