"""TLS to the broker: the worker's context (CA, client certificate, minimum version).

Built from `MqttSettings` alone (no paho here): `make_client` hands it to paho, and a failed
connect asks `tls_hint` what the person should look at. Every error names the file at fault.
"""

from __future__ import annotations

import ssl

from ..config.worker_settings import MqttSettings
from ..errors import EngineError

_TLS_VERSIONS = {"1.2": ssl.TLSVersion.TLSv1_2, "1.3": ssl.TLSVersion.TLSv1_3}


def tls_context(mqtt: MqttSettings) -> ssl.SSLContext:
    """Build the TLS context: the CA (or the system's), the client certificate, the floor.

    Raises `EngineError` with the file at fault: a CA that is not a certificate, a certificate
    and key that do not match, or a key that is encrypted (the worker runs unattended).
    """
    try:
        context = ssl.create_default_context(cafile=mqtt.tls_ca)
    except (OSError, ssl.SSLError) as err:
        raise EngineError(f"cannot use the TLS CA file {mqtt.tls_ca}: {_ssl_reason(err)}") from None
    if mqtt.tls_insecure:
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    if mqtt.tls_cert:
        try:
            context.load_cert_chain(mqtt.tls_cert, mqtt.tls_key, password=_no_key_password)
        except (OSError, ssl.SSLError) as err:
            key = (
                f" and key {mqtt.tls_key}"
                if mqtt.tls_key
                else " (no tls_key given: the key must then be in the certificate file)"
            )
            raise EngineError(
                f"cannot use the TLS client certificate {mqtt.tls_cert}{key}: {_ssl_reason(err)}"
            ) from None
    if mqtt.tls_min_version:
        context.minimum_version = _TLS_VERSIONS[mqtt.tls_min_version]
    return context


def _no_key_password() -> str:
    """Refuse an encrypted key at once (OpenSSL would ask for its password on the terminal)."""
    raise EngineError("the key is encrypted; give an unencrypted key, readable by this user only")


def _ssl_reason(err: Exception) -> str:
    if isinstance(err, EngineError):
        return str(err)
    return getattr(err, "reason", None) or getattr(err, "strerror", None) or str(err)


def tls_hint(mqtt: MqttSettings, err: ssl.SSLError | None) -> str:
    """Return what to check after a TLS connect failed (empty without TLS).

    `err`: the handshake's error; None when the broker closed the connection after it, which
    over TLS is most often a client certificate it requires (TLS 1.3 checks it after the
    client thinks the handshake is over) or refuses.
    """
    if not mqtt.tls:
        return ""
    text = str(err or "").upper()
    if "VERSION" in text:
        floor = f" (tls_min_version {mqtt.tls_min_version})" if mqtt.tls_min_version else ""
        return f"; the broker and this worker share no TLS version{floor}"
    if "VERIFY" in text:
        return "; check tls_ca (the CA that signed the broker's certificate) and mqtt_host"
    if not mqtt.tls_cert:
        return "; if the broker requires a client certificate, give tls_cert and tls_key"
    return f"; check that the broker accepts the client certificate {mqtt.tls_cert}"
