"""What one worker runs on: the broker, its name and topics, its sources and detector.

Plain frozen dataclasses, apart from paho and argparse: the command line builds them
(`config.resolve_config`), the paho host runs on them (`service.Worker`), and Home Assistant
builds them from an entry to hand it over to a worker (`yaml_export`), importing neither the
MQTT client nor the command line.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
import os
from pathlib import Path
import socket

from ..contract.host import STATUS_INTERVAL, HostInfo, HostKind
from ..contract.topics import node_id
from ..detect.spec import DetectorSpec
from ..objects.tracking import TrackingOptions
from ..objects.zones import SourceZones
from ..video.sources import SourceConfig
from .camera import CameraSettings


def default_state_file(name: str) -> Path:
    """Return where a worker keeps its pause: `$XDG_STATE_HOME/nvr-inference/<node>.json`."""
    state_home = os.environ.get("XDG_STATE_HOME") or str(Path.home() / ".local" / "state")
    return Path(state_home) / "nvr-inference" / f"{node_id(f'nvr_worker_{name}')}.json"


@dataclass(frozen=True, slots=True)
class MqttSettings:
    """How to reach the broker. `password` never appears in a repr, a log or a payload."""

    host: str = "127.0.0.1"
    port: int = 1883
    username: str | None = None
    password: str | None = field(default=None, repr=False)
    tls: bool = False
    tls_ca: str | None = None
    tls_insecure: bool = False
    tls_cert: str | None = None  # the client's certificate (mutual TLS); PEM
    tls_key: str | None = None  # its private key (None: in the certificate file); PEM
    tls_min_version: str | None = None  # "1.2" or "1.3"; None: Python's default (1.2)
    keepalive: int = 30
    connect_timeout: float = 10.0


@dataclass(frozen=True, slots=True)
class WorkerSettings:
    """Everything one worker needs; built by the CLI from flags and the config file."""

    name: str
    mqtt: MqttSettings = field(default_factory=MqttSettings)
    base_topic: str = "nvr"
    discovery_prefix: str = "homeassistant"
    sources: tuple[SourceConfig, ...] = ()
    detector: DetectorSpec | None = None
    api_key: str | None = field(default=None, repr=False)
    max_fps: float | None = None
    status_interval: float = STATUS_INTERVAL
    state_file: Path | None = None  # None: default_state_file(name)
    tracking: TrackingOptions = field(default_factory=TrackingOptions)
    zones: Mapping[int, SourceZones] = field(default_factory=dict)
    cameras: Mapping[int, CameraSettings] = field(default_factory=dict)  # each one's own

    @property
    def node(self) -> str:
        """The discovery node id, also the MQTT client id: `nvr_worker_<name>`."""
        return node_id(f"nvr_worker_{self.name}")

    @property
    def host(self) -> HostInfo:
        """This worker's identity on the broker: its name on this machine."""
        return HostInfo(f"worker:{self.node}@{socket.gethostname()}", HostKind.WORKER, self.name)

    @property
    def pause_file(self) -> Path:
        """Where the pause is kept."""
        return self.state_file or default_state_file(self.name)


def describe_settings(settings: WorkerSettings) -> Iterable[str]:
    """Lines for the startup log, without secrets."""
    mqtt = settings.mqtt
    auth = f" as user {mqtt.username}" if mqtt.username else ""
    tls = " with TLS" if mqtt.tls else ""
    if mqtt.tls and mqtt.tls_cert:
        tls += f" and the client certificate {mqtt.tls_cert}"
    if mqtt.tls and mqtt.tls_min_version:
        tls += f" (TLS {mqtt.tls_min_version} or newer)"
    yield f"broker {mqtt.host}:{mqtt.port}{auth}{tls}, base topic {settings.base_topic!r}"
    yield f"pause kept in {settings.pause_file}"
    for source in settings.sources:
        loop = " (loop)" if source.loop else ""
        yield f"source {source.source_id} {source.display_name}: {source.safe_reference}{loop}"
