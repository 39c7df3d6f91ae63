"""`nvr-inference models fetch` and `sample-video --scene objects`, as a user runs them.

Each test runs the command line as a subprocess (the same `nvr-inference` the worker tests
run: `$NVR_WORKER_CMD` or this Python on the sources), so exit codes, stdout and the one error
line are what a shell sees. The fetch is given `--from` a copy of the model scripts/setup
fetched: npm itself is exercised by scripts/setup and
tests/engine/detect/test_objects.py, and a test must not reach the network.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
import shutil
import subprocess

import cv2
import pytest

from custom_components.nvr_inference.engine.detect.model_files import (
    COCO_MODEL,
    COCO_MODEL_SHA256,
    coco_model_path,
)
from custom_components.nvr_inference.engine.errors import DetectorError
from custom_components.nvr_inference.engine.samples.objects_scene import OBJECTS_FRAMES

from .conftest import ROOT, WORKER_CMD, worker_env

pytestmark = pytest.mark.pipeline


def _run(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*WORKER_CMD, *args],
        cwd=ROOT,
        env=worker_env(env),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def _one_error_line(done: subprocess.CompletedProcess[str]) -> str:
    lines = [line for line in done.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, done.stderr
    assert lines[0].startswith("nvr-inference"), done.stderr  # `nvr-inference models:` too
    assert ": error: " in lines[0] and "Traceback" not in done.stderr
    assert done.stdout == ""
    return lines[0]


@pytest.fixture
def google_copy(tmp_path: Path) -> Path:
    """A copy of the verified model, as a user who downloaded Google's file would have it."""
    try:
        installed = coco_model_path()
    except DetectorError as err:
        pytest.fail(str(err))
    copy = tmp_path / "download" / COCO_MODEL
    copy.parent.mkdir()
    shutil.copyfile(installed, copy)
    return copy


def test_models_fetch_from_a_file_installs_the_checked_model(
    google_copy: Path, tmp_path: Path
) -> None:
    target = tmp_path / "models" / "nested"
    done = _run("models", "fetch", "--dir", str(target), "--from", str(google_copy))
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == str(target / COCO_MODEL)
    assert done.stderr == ""
    assert hashlib.sha256((target / COCO_MODEL).read_bytes()).hexdigest() == COCO_MODEL_SHA256
    assert sorted(p.name for p in target.iterdir()) == [COCO_MODEL]  # no partial file left

    # Already there: the same answer, nothing asked of npm (PATH without it proves it).
    again = _run("models", "fetch", "--dir", str(target), env={"PATH": "/nonexistent"})
    assert again.returncode == 0, again.stderr
    assert again.stdout.strip() == str(target / COCO_MODEL)


def test_models_fetch_from_a_wrong_file_fails_with_one_line(tmp_path: Path) -> None:
    wrong = tmp_path / COCO_MODEL
    wrong.write_bytes(b"not the model" * 1000)
    target = tmp_path / "models"
    done = _run("models", "fetch", "--dir", str(target), "--from", str(wrong))
    assert done.returncode == 2
    line = _one_error_line(done)
    assert f"{wrong} is not the expected file" in line
    assert COCO_MODEL_SHA256 in line
    assert not (target / COCO_MODEL).exists()


def test_models_fetch_from_a_missing_file_and_without_an_action(tmp_path: Path) -> None:
    missing = _run("models", "fetch", "--dir", str(tmp_path), "--from", "/nonexistent.tflite")
    assert missing.returncode == 2
    assert "cannot read /nonexistent.tflite" in _one_error_line(missing)

    bare = _run("models")
    assert bare.returncode == 2
    assert "the following arguments are required: action" in _one_error_line(bare)


def test_models_fetch_is_in_the_help() -> None:
    done = _run("models", "fetch", "--help")
    assert done.returncode == 0
    assert "--from FILE" in done.stdout
    assert "sha256" in done.stdout


def test_sample_video_objects_scene_is_a_readable_video(tmp_path: Path) -> None:
    target = tmp_path / "objects.avi"
    done = _run("sample-video", str(target), "--scene", "objects")
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == str(target)
    capture = cv2.VideoCapture(str(target))
    try:
        assert int(capture.get(cv2.CAP_PROP_FRAME_COUNT)) == OBJECTS_FRAMES
        assert (capture.get(cv2.CAP_PROP_FRAME_WIDTH), capture.get(cv2.CAP_PROP_FRAME_HEIGHT)) == (
            640,
            480,
        )
        capture.set(cv2.CAP_PROP_POS_FRAMES, 100)  # the motorcycle, the person and the cat
        ok, frame = capture.read()
        assert ok and frame.shape == (480, 640, 3)
    finally:
        capture.release()


def test_sample_video_objects_scene_without_its_photos_fails_with_one_line(
    tmp_path: Path,
) -> None:
    empty = tmp_path / "no-photos"
    empty.mkdir()
    target = tmp_path / "objects.avi"
    done = _run(
        "sample-video", str(target), "--scene", "objects", env={"NVR_PHOTO_DIR": str(empty)}
    )
    assert done.returncode == 2
    line = _one_error_line(done)
    assert f"astronaut.png, motorcycle_left.png, chelsea.png, not all found in {empty}" in line
    assert "--photo" not in line
    assert not target.exists()
    photo = _run("sample-video", str(target), "--scene", "objects", "--photo", "x.png")
    assert photo.returncode == 2
    assert "--photo is for --scene person" in _one_error_line(photo)
