"""The entities of Home Assistant MQTT discovery: one component each, as a host announces it.

Each function returns one component of a device-based discovery config (discovery.py puts
them on their devices); `source_components` is everything a worker shows of one camera. The
keys are the long and short forms Home Assistant documents (`p`, `avty`, `val_tpl`, ...).

Nothing shown as current may be stale. Every entity follows the host's availability; the ones
that show what a camera sees now (counts, occupancy, the snapshot, rates, events, zones) also
follow that camera's entry in the retained status: unavailable while it is paused (globally or
by itself) or not delivering frames. The switches and state sensors stay available and say why.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
import json
from typing import Any

from ..contract.status import HUB_STATES, SOURCE_STATES
from ..contract.topics import (
    availability_topic,
    control_topic,
    detections_topic,
    node_id,
    snapshot_topic,
    source_topic,
)
from ..objects.zones import SourceZones
from ..video.sources import SourceConfig


@dataclass(frozen=True, slots=True)
class ComponentContext:
    """What every component of one announcement needs."""

    node: str
    base: str
    per_source_devices: bool

    @property
    def status(self) -> str:
        """Return the retained status topic, which most components read."""
        return control_topic(self.base, "status")

    def name(self, source: SourceConfig, name: str) -> str:
        """Return the entity's name (on a source's own device, the device says which camera)."""
        return name if self.per_source_devices else f"{source.display_name} {name}"

    def uid(self, source: SourceConfig, key: str) -> str:
        """Return a source's component id (stable: Home Assistant keys entities by it)."""
        return f"{self.node}_s{source.source_id}_{key}"

    def host_availability(self) -> dict[str, str]:
        """Return the availability every component follows: the host's own."""
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
        """Return the Jinja expression of one key of a source's entry in the status."""
        return f"value_json.sources['{source.source_id}'].{key}"


def _attributes_template(fields: Mapping[str, str]) -> str:
    """Return a `json_attributes_template` picking `fields` (name -> Jinja expression)."""
    body = ", ".join(f"{json.dumps(k)}: {v}" for k, v in fields.items())
    return f"{{{{ {{{body}}} | tojson }}}}"


def objects_sensor(ctx: ComponentContext, source: SourceConfig) -> dict[str, Any]:
    """Return the sensor counting a source's detections in its latest frame."""
    return ctx.live(
        source,
        {
            "p": "sensor",
            "name": ctx.name(source, "Objects"),
            "unique_id": ctx.uid(source, "objects"),
            "state_topic": detections_topic(ctx.base, source.source_id),
            "value_template": "{{ value_json.detections | length }}",
            "state_class": "measurement",  # no unit: "1 objects" reads wrong, units do not plural
            "icon": "mdi:counter",
        },
    )


def occupancy(ctx: ComponentContext, source: SourceConfig, cls: str) -> dict[str, Any]:
    """Return the binary sensor that is on while a source's latest frame shows a `cls`."""
    return ctx.live(
        source,
        {
            "p": "binary_sensor",
            "name": ctx.name(source, f"{cls[:1].upper()}{cls[1:]} occupancy"),  # sentence case
            "unique_id": ctx.uid(source, f"{node_id(cls)}_occupancy"),
            "state_topic": detections_topic(ctx.base, source.source_id),
            "value_template": (
                "{{ 'ON' if value_json.detections | selectattr('class', 'equalto', "
                f"{json.dumps(cls)}) | list | count > 0 else 'OFF' }}}}"
            ),
            "device_class": "occupancy",
        },
    )


def pause_switch(ctx: ComponentContext, source: SourceConfig | None) -> dict[str, Any]:
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


def hub_state(ctx: ComponentContext) -> dict[str, Any]:
    """Return the host's state sensor (paused, running, degraded, ...), why as attributes."""
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


def _source_state(ctx: ComponentContext, source: SourceConfig) -> dict[str, Any]:
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


def _rate_sensor(ctx: ComponentContext, source: SourceConfig, key: str) -> dict[str, Any]:
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


def _snapshot(ctx: ComponentContext, source: SourceConfig) -> dict[str, Any]:
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


def _event(
    ctx: ComponentContext, source: SourceConfig, event_types: Sequence[str]
) -> dict[str, Any]:
    return ctx.live(
        source,
        {
            "p": "event",
            "name": ctx.name(source, "Object events"),  # not "Objects": that is the count
            "unique_id": ctx.uid(source, "objects_event"),
            "state_topic": source_topic(ctx.base, source.source_id, "event"),
            "event_types": list(event_types),
            "icon": "mdi:motion-sensor",
        },
    )


def _event_image(ctx: ComponentContext, source: SourceConfig) -> dict[str, Any]:
    return {
        "p": "image",
        "name": ctx.name(source, "Last event"),
        "unique_id": ctx.uid(source, "last_event"),
        "image_topic": source_topic(ctx.base, source.source_id, "event_snapshot"),
        "content_type": "image/jpeg",
    }


def _zone(
    ctx: ComponentContext, source: SourceConfig, zone: str, cls: str, kind: str
) -> dict[str, Any]:
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


def _line(ctx: ComponentContext, source: SourceConfig, line: str, direction: str) -> dict[str, Any]:
    return {
        "p": "sensor",
        "name": f"{line} {direction}",
        "unique_id": ctx.uid(source, f"line_{node_id(line)}_{direction}"),
        "state_topic": source_topic(ctx.base, source.source_id, "lines"),
        "value_template": f"{{{{ value_json[{json.dumps(line)}].{direction} }}}}",
        "state_class": "total_increasing",
        "icon": "mdi:transit-transfer",
    }


def source_components(
    ctx: ComponentContext,
    source: SourceConfig,
    classes: Sequence[str],
    zones: SourceZones,
    event_types: Sequence[str],
) -> list[dict[str, Any]]:
    """Everything the worker shows of one camera (the integration's source device)."""
    found = [
        pause_switch(ctx, source),
        _source_state(ctx, source),
        objects_sensor(ctx, source),
        *(occupancy(ctx, source, cls) for cls in classes),
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
