"""`nvr-inference sample-video` as a user installed by pip reads it: help and missing photo."""

from __future__ import annotations

from pathlib import Path

import pytest

from custom_components.nvr_inference.engine.samples import photos
from custom_components.nvr_inference.engine.worker.cli import main

pytestmark = pytest.mark.pipeline


def test_help_shows_a_plain_percent(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["sample-video", "--help"])
    text = " ".join(capsys.readouterr().out.split())
    assert "still 90% of the time" in text
    assert "%%" not in text
    assert "scripts/setup" not in text  # a pip install has none


def test_a_pip_install_without_the_photo_is_told_what_it_can_do(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    # An installed package: no source tree (so no photo cache and no scripts/setup), no
    # scikit-image, no $NVR_PHOTO_DIR.
    monkeypatch.setattr(photos, "SOURCE_TREE_PHOTOS", tmp_path / "no-cache")
    monkeypatch.setattr(photos, "SETUP_SCRIPT", tmp_path / "no-scripts" / "setup")
    monkeypatch.setattr(photos, "scikit_image_photos", lambda: None)
    monkeypatch.delenv(photos.PHOTO_DIR_ENV, raising=False)
    assert main(["sample-video", str(tmp_path / "p.avi"), "--scene", "person"]) == 2
    line = capsys.readouterr().err.strip()
    assert "\n" not in line
    assert "scripts/setup" not in line
    assert "pip install scikit-image" in line
    assert "--photo" in line


def test_the_photo_comes_from_scikit_image_when_it_is_installed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from ..photos import photo  # the repository's copy, as scikit-image ships it

    data = tmp_path / "skimage" / "data"
    data.mkdir(parents=True)
    (data / "astronaut.png").write_bytes(photo("astronaut.png").read_bytes())
    monkeypatch.setattr(photos, "SOURCE_TREE_PHOTOS", tmp_path / "no-cache")
    monkeypatch.setattr(photos, "scikit_image_photos", lambda: data)
    monkeypatch.delenv(photos.PHOTO_DIR_ENV, raising=False)
    out = tmp_path / "p.avi"
    assert main(["sample-video", str(out), "--scene", "person", "--frames", "3"]) == 0
    assert out.stat().st_size > 0


def test_in_the_repository_the_message_names_scripts_setup(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(photos, "SOURCE_TREE_PHOTOS", tmp_path / "no-cache")
    monkeypatch.setattr(photos, "scikit_image_photos", lambda: None)
    monkeypatch.delenv(photos.PHOTO_DIR_ENV, raising=False)
    assert photos.SETUP_SCRIPT.is_file()
    with pytest.raises(FileNotFoundError, match="scripts/setup"):
        photos.photo_path("astronaut.png")
