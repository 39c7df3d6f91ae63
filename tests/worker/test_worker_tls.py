"""TLS to the broker: mutual TLS (a client certificate), a minimum version, clear failures.

The certificates are made here with openssl (a CA, the broker's for 127.0.0.1, the worker's);
mosquitto listens twice: plain for the independent subscriber, TLS with `require_certificate
true` for the worker.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
import contextlib
from dataclasses import dataclass
from pathlib import Path
import shutil
import socket
import ssl
import subprocess
import tempfile
import threading

import pytest

from custom_components.nvr_inference.engine.config.grammar import ConfigError
from custom_components.nvr_inference.engine.config.resolve import resolve_config
from custom_components.nvr_inference.engine.errors import EngineError
from custom_components.nvr_inference.engine.worker.mqtt import tls_context

from ..mqtt_helpers import Broker, Subscriber, free_port, run_broker
from .conftest import WorkerProcess, run_worker_once, status_of

pytestmark = pytest.mark.pipeline

Spawn = Callable[..., WorkerProcess]


@dataclass(frozen=True)
class Pki:
    """The files openssl made."""

    ca: Path
    server_cert: Path
    server_key: Path
    client_cert: Path
    client_key: Path
    other_key: Path  # a key that belongs to no certificate here


def _openssl(*args: str) -> None:
    subprocess.run(["openssl", *args], check=True, capture_output=True, timeout=60)


@pytest.fixture(scope="module")
def pki() -> Iterator[Pki]:
    """A CA, a server certificate for 127.0.0.1 and a client certificate, signed by the CA.

    In a folder of its own that others may read: mosquitto started as root reads its files as
    the `mosquitto` user, who cannot enter pytest's private temporary folder.
    """
    d = Path(tempfile.mkdtemp(prefix="nvr-pki-"))
    d.chmod(0o755)
    try:
        yield _make_pki(d)
    finally:
        shutil.rmtree(d)


def _make_pki(d: Path) -> Pki:
    _openssl(
        "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=nvr test CA",
        "-addext", "basicConstraints=critical,CA:TRUE",
        "-addext", "keyUsage=critical,keyCertSign,cRLSign",
        "-keyout", str(d / "ca.key"), "-out", str(d / "ca.pem"),
    )  # fmt: skip
    # What Python's strict verification (3.13) asks of a chain: key usages, key identifiers.
    common = (
        "basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature,keyEncipherment\n"
        "subjectKeyIdentifier=hash\nauthorityKeyIdentifier=keyid,issuer\n"
    )
    for name, extension in (
        ("server", "subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth"),
        ("client", "extendedKeyUsage=clientAuth"),
    ):
        _openssl(
            "req", "-newkey", "rsa:2048", "-nodes", "-subj", f"/CN=nvr test {name}",
            "-keyout", str(d / f"{name}.key"), "-out", str(d / f"{name}.csr"),
        )  # fmt: skip
        (d / f"{name}.ext").write_text(common + extension + "\n")
        _openssl(
            "x509", "-req", "-in", str(d / f"{name}.csr"), "-CA", str(d / "ca.pem"),
            "-CAkey", str(d / "ca.key"), "-CAcreateserial", "-days", "2",
            "-extfile", str(d / f"{name}.ext"), "-out", str(d / f"{name}.pem"),
        )  # fmt: skip
    _openssl("genrsa", "-out", str(d / "other.key"), "2048")
    for file in d.iterdir():
        file.chmod(0o644)  # test keys: mosquitto must read its own
    return Pki(
        d / "ca.pem", d / "server.pem", d / "server.key", d / "client.pem", d / "client.key",
        d / "other.key",
    )  # fmt: skip


@dataclass(frozen=True)
class TlsBroker:
    """A mosquitto with a plain listener (`plain`) and a mutual-TLS one on `tls_port`."""

    plain: Broker
    tls_port: int


@pytest.fixture
def tls_broker(pki: Pki, socket_enabled: None) -> Iterator[TlsBroker]:
    tls_port = free_port()
    extra = (
        f"listener {tls_port} 127.0.0.1\ncafile {pki.ca}\ncertfile {pki.server_cert}\n"
        f"keyfile {pki.server_key}\nrequire_certificate true\n"
    )
    with run_broker(extra) as broker:
        yield TlsBroker(broker, tls_port)


@pytest.fixture
def tls12_server(pki: Pki, socket_enabled: None) -> Iterator[int]:
    """A TLS server that speaks TLS 1.2 at most (mosquitto's `tls_version` is only a floor).

    It stands for an old broker: the handshake is all a worker with `--tls-min-version 1.3`
    gets to. Returns its port.
    """
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.maximum_version = ssl.TLSVersion.TLSv1_2
    context.load_cert_chain(pki.server_cert, pki.server_key)
    listener = socket.create_server(("127.0.0.1", 0))
    listener.settimeout(0.1)  # accept() in a thread is not woken by close(): look at `stop`
    stop = threading.Event()

    def serve() -> None:
        while not stop.is_set():
            try:
                conn, _addr = listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            conn.settimeout(10)
            with conn, contextlib.suppress(OSError):
                context.wrap_socket(conn, server_side=True).close()

    thread = threading.Thread(target=serve, name="tls12-server")
    thread.start()
    try:
        yield int(listener.getsockname()[1])
    finally:
        stop.set()
        listener.close()
        thread.join()


def _worker_args(port: int, video: Path, *tls: str) -> list[str]:
    return [
        "--mqtt-port", str(port), "--name", "tls", "--detector", "motion", "--loop",
        "--source", f"Cam={video}", *tls,
    ]  # fmt: skip


def _client_tls(pki: Pki) -> list[str]:
    return [
        "--tls-ca",
        str(pki.ca),
        "--tls-cert",
        str(pki.client_cert),
        "--tls-key",
        str(pki.client_key),
    ]


def test_mutual_tls_connects_and_publishes(
    spawn_worker: Spawn, tls_broker: TlsBroker, pki: Pki, sample_video: Path
) -> None:
    subscriber = Subscriber(tls_broker.plain, ["nvr/#"])
    try:
        worker = spawn_worker(
            *_worker_args(
                tls_broker.tls_port, sample_video, *_client_tls(pki), "--tls-min-version", "1.2"
            )
        )
        subscriber.wait_for(status_of("nvr", lambda s: s["state"] == "running"), 60)
        subscriber.wait_for(lambda m: m.topic == "nvr/detections/0", 30)
        assert worker.stop()[0] == 0
    finally:
        subscriber.close()


def test_without_the_client_certificate_the_worker_exits_3_with_one_line(
    tls_broker: TlsBroker, pki: Pki, sample_video: Path
) -> None:
    done = run_worker_once(
        *_worker_args(tls_broker.tls_port, sample_video, "--tls-ca", str(pki.ca))
    )
    assert done.returncode == 3, done.stderr
    line = _one_line(done.stderr)
    assert "closed the connection before answering" in line
    assert "if the broker requires a client certificate, give tls_cert and tls_key" in line


def test_below_the_minimum_tls_version_the_worker_exits_3_with_one_line(
    tls12_server: int, pki: Pki, sample_video: Path
) -> None:
    done = run_worker_once(
        *_worker_args(
            tls12_server, sample_video, "--tls-ca", str(pki.ca), "--tls-min-version", "1.3"
        )
    )
    assert done.returncode == 3, done.stderr
    line = _one_line(done.stderr)
    assert "the TLS handshake with the MQTT broker" in line
    assert "share no TLS version (tls_min_version 1.3)" in line


def _one_line(stderr: str) -> str:
    lines = [line for line in stderr.splitlines() if line.strip()]
    assert len(lines) == 1, stderr
    assert lines[0].startswith("nvr-inference: error: "), lines
    return lines[0]


def test_tls_options_are_validated(pki: Pki) -> None:
    base = {"sources": ["/a.avi"], "detector": "motion", "name": "x"}
    settings = resolve_config(
        base
        | {"tls_cert": str(pki.client_cert), "tls_key": str(pki.client_key)}
        | {"tls_min_version": "1.3"},
        {},
    ).settings.mqtt
    assert settings.tls
    assert settings.port == 8883
    assert tls_context(settings).minimum_version.name == "TLSv1_3"
    for options, message in (
        ({"tls_key": str(pki.client_key)}, "tls_key needs tls_cert"),
        ({"tls_cert": "/nonexistent.pem"}, "does not exist"),
        ({"tls_min_version": "1.1"}, "tls_min_version must be one of 1.2, 1.3"),
    ):
        with pytest.raises(ConfigError, match=message):
            resolve_config(base | options, {})
    mismatched = resolve_config(
        base | {"tls_cert": str(pki.client_cert), "tls_key": str(pki.other_key)}, {}
    ).settings.mqtt
    with pytest.raises(EngineError, match="cannot use the TLS client certificate"):
        tls_context(mismatched)
    no_key = resolve_config(base | {"tls_cert": str(pki.client_cert)}, {}).settings.mqtt
    with pytest.raises(EngineError, match="no tls_key given"):
        tls_context(no_key)
    not_a_ca = resolve_config(base | {"tls_ca": str(pki.client_key)}, {}).settings.mqtt
    with pytest.raises(EngineError, match="cannot use the TLS CA file"):
        tls_context(not_a_ca)


def test_a_bad_tls_file_exits_2_with_one_line(
    pki: Pki, sample_video: Path, socket_enabled: None
) -> None:
    mismatched = ["--tls-cert", str(pki.client_cert), "--tls-key", str(pki.other_key)]
    done = run_worker_once(*_worker_args(free_port(), sample_video, *mismatched))
    assert done.returncode == 2, done.stderr
    assert "cannot use the TLS client certificate" in _one_line(done.stderr)
