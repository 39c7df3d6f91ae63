"""A worker camera's device carries its area, so Home Assistant's Overview shows it there.

Without a suggested area a discovered device is in no area, and Home Assistant's Overview
(2026.11) lists it only under "Devices". The camera's `area:` goes in its device block as `sa`
(the MQTT discovery abbreviation of `suggested_area`); a camera without one has no `sa`.
"""

from __future__ import annotations

from custom_components.nvr_inference.engine.contract.host import HostInfo, HostKind
from custom_components.nvr_inference.engine.discovery.devices import DiscoverySpec, build_discovery
from custom_components.nvr_inference.engine.video.sources import SourceConfig

ME = HostInfo("worker:me@box", HostKind.WORKER, "me")


def _devices(*sources: SourceConfig, include_control: bool = True) -> list[dict[str, object]]:
    spec = DiscoverySpec("nvr_worker_me", "me", include_control=include_control)
    configs = build_discovery(spec, base_topic="nvr", sources=sources, classes=(), host=ME)
    return [config["dev"] for config in configs.values()]


def test_a_camera_with_an_area_suggests_it_and_one_without_suggests_none() -> None:
    hub, porch, gate = _devices(
        SourceConfig(0, "rtsp://porch/x", "Porch", area="Front garden"),
        SourceConfig(1, "rtsp://gate/x", "Gate"),
    )
    assert porch["name"] == "Porch"
    assert porch["sa"] == "Front garden"
    assert "sa" not in gate
    assert "suggested_area" not in gate
    assert "sa" not in hub  # the worker itself is in no camera's area


def test_the_integrations_single_device_suggests_no_area() -> None:
    """The embedded host's one discovery device holds every camera's counts: no one area."""
    (device,) = _devices(
        SourceConfig(0, "rtsp://porch/x", "Porch", area="Front garden"), include_control=False
    )
    assert "sa" not in device
