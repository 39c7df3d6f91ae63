"""Home Assistant MQTT discovery payloads (device-based), shared by the integration and worker.

Each retained config on `<prefix>/device/<node>/config` describes one device and all of its
components; an empty retained payload on the same topic removes them. Built by the control
plane from a `DiscoverySpec`, so both hosts announce the same way; each entity in it comes
from discovery_entities.py.

The worker has no other way into Home Assistant, so its announcement *is* its device page, and
it mirrors the embedded integration's: a hub device named after the worker (global pause switch,
state) and one device per camera, hanging from the hub, named after the camera. Home Assistant
names an entity `<device> <entity>`, so the ids come out as the integration's
(`switch.porch_pause_detections`, `sensor.porch_processing_rate`, ...) and automations carry over.
The integration has native entities for all that; it announces only what it has none for
(object counts and per-class occupancy, for any MQTT consumer), on one device of its own.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from ..contract.host import PROJECT_URL, VERSION, HostInfo
from ..contract.topics import discovery_topic, source_node
from ..objects.zones import SourceZones
from ..video.sources import SourceConfig
from .entities import (
    ComponentContext,
    hub_state,
    objects_sensor,
    occupancy,
    pause_switch,
    source_components,
)

DEFAULT_PREFIX = "homeassistant"

WORKER_DOCS_PATH = "blob/HEAD/docs/worker.md"
"""The worker's page, docs/worker.md, below a GitHub repository's address (HEAD: its default
branch), so the link follows the repository whatever that branch is called."""
WORKER_DOCS_URL = f"{PROJECT_URL}/{WORKER_DOCS_PATH}"
"""The device page's link: where the worker is explained."""


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
    ctx = ComponentContext(spec.node, base_topic, per_source_devices=spec.include_control)
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
                objects_sensor(ctx, source),
                *(occupancy(ctx, source, cls) for cls in classes),
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
    hub_components = [pause_switch(ctx, None), hub_state(ctx)]
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
        found = source_components(
            ctx, source, classes, spec.zones.get(source.source_id, SourceZones()), event_types
        )
        configs[discovery_topic(spec.prefix, node)] = {
            "dev": device
            | {
                "ids": [node],
                "name": source.display_name,
                "mdl": source.device_model,
                "via_device": spec.node,
                # Its area (`sa`: suggested_area): Home Assistant's Overview groups by area.
                **({"sa": source.area} if source.area else {}),
            },
            "cmps": {c["unique_id"]: c for c in found},
        } | common
    return configs
