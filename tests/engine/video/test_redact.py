"""Camera credentials never leave in text: every URL style cameras use (issue 21, item 1)."""

from __future__ import annotations

import pytest

from custom_components.nvr_inference.engine.video.sources import (
    redact_text,
    redact_url,
    url_secrets,
)

SECRET = "s3cr3t-Pw"
URLS = {
    "userinfo": f"rtsp://admin:{SECRET}@192.0.2.10:554/Streaming/Channels/101",
    "at in password": f"rtsp://admin:{SECRET}@x@192.0.2.10/stream",
    "percent-encoded": "rtsp://admin:s3cr3t%40Pw@192.0.2.10/stream",
    "reolink": f"rtmp://192.0.2.11/bcs/channel0_main.bcs?channel=0&stream=0&user=admin&password={SECRET}",
    "dahua/amcrest": f"http://192.0.2.12/cgi-bin/mjpg/video.cgi?channel=1&user=admin&pwd={SECRET}",
    "foscam": f"http://192.0.2.13/videostream.cgi?loginuse=admin&loginpas={SECRET}",
    "token": f"https://relay.example/live.m3u8?token={SECRET}&q=1",
    "upper case key": f"http://192.0.2.14/video?USER=admin&PassWord={SECRET}",
}


@pytest.mark.parametrize("url", URLS.values(), ids=URLS.keys())
def test_the_secret_is_gone_and_the_host_stays(url: str) -> None:
    shown = redact_url(url)
    assert SECRET not in shown
    assert "s3cr3t" not in shown  # no tail of it either (`p@ss@host` split at the first `@`)
    assert "192.0.2." in shown or "relay.example" in shown
    assert "***" in shown


@pytest.mark.parametrize("url", URLS.values(), ids=URLS.keys())
def test_the_secret_is_gone_from_any_text(url: str) -> None:
    text = f"[ERROR] cannot open source 3 ({url}): connection refused; retrying {url}"
    shown = redact_text(text)
    assert "s3cr3t" not in shown
    assert shown.startswith("[ERROR] cannot open source 3 (")
    assert "connection refused; retrying" in shown
    assert shown.endswith(redact_url(url))


def test_what_is_not_a_secret_stays() -> None:
    for text in (
        "rtsp://192.0.2.10/stream?channel=1&subtype=0",
        "/media/porch.mp4",
        "mail me@example.com about rtsp://cam.local/stream",
        "rtsp://cam.local/path?q=a@b",
    ):
        assert redact_text(text) == text
    assert redact_url("rtsp://cam/s?channel=0&user=admin") == "rtsp://cam/s?channel=0&user=***"


def test_url_secrets_names_each_form() -> None:
    assert url_secrets(URLS["percent-encoded"]) == ["s3cr3t%40Pw", "s3cr3t@Pw"]
    assert url_secrets(URLS["reolink"]) == [SECRET]
    assert url_secrets(URLS["at in password"]) == [f"{SECRET}@x"]
    assert url_secrets("rtsp://192.0.2.10/stream") == []
