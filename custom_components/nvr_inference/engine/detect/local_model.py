"""Your own model, offline: a model package in a local folder, loaded by Roboflow's own loader.

`inference`'s model loader (`inference_models`) reads a *model package* from a folder when it is
allowed to (`ALLOW_INFERENCE_MODELS_DIRECTLY_ACCESS_LOCAL_PACKAGES`; see `roboflow.py`): no API
key, no network. For an ONNX object detector (YOLOv8 and the like) the folder holds:

- `model_config.json`: `{"model_architecture": "yolov8", "task_type": "object-detection",
  "backend_type": "onnx"}`;
- `weights.onnx`: the network; its output is `[batch, 4 + classes, candidates]` (box centre and
  size in network-input pixels, then one score per class);
- `class_names.txt`: one class name per line, in the order of the scores;
- `inference_config.json`: how images enter the network (`network_input`: the training input
  size, the resize mode, colour order, scaling) and what comes out (`post_processing`, which must
  be `{"type": "nms", ...}`).

`check_local_model` reads these before anything is saved or started and names the file that is
missing or wrong; the loader then checks the rest (the ONNX graph itself) when it loads them.
Needs no `inference`: it works, and says what is wrong, in the light profile too.
"""

from __future__ import annotations

from dataclasses import dataclass
import json
from pathlib import Path
from typing import Any

from ..errors import LocalModelError

LOCAL_PREFIX = "local:"
MODEL_CONFIG = "model_config.json"
WEIGHTS = "weights.onnx"
CLASS_NAMES = "class_names.txt"
INFERENCE_CONFIG = "inference_config.json"
PACKAGE_FILES = (MODEL_CONFIG, WEIGHTS, CLASS_NAMES, INFERENCE_CONFIG)
RESIZE_MODES = ("stretch", "letterbox", "center-crop", "letterbox-reflect-edges", "fit-longer-edge")


@dataclass(frozen=True, slots=True)
class LocalModel:
    """What a checked model folder declares."""

    folder: Path
    architecture: str
    class_names: tuple[str, ...]
    input_size: tuple[int, int]  # width, height the network was trained at


def _read_json(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as err:
        raise LocalModelError(f"cannot read {path}: {err}") from None
    except ValueError as err:
        raise LocalModelError(f"{path} is not valid JSON ({err})") from None
    if not isinstance(data, dict):
        raise LocalModelError(f"{path} must hold a JSON object")
    return data


def _field(data: dict[str, Any], path: Path, *keys: str) -> Any:
    value: Any = data
    for depth, key in enumerate(keys):
        if not isinstance(value, dict) or key not in value:
            raise LocalModelError(f"{path} has no {'.'.join(keys[: depth + 1])}")
        value = value[key]
    return value


def check_local_model(folder: str | Path) -> LocalModel:
    """Check a model package folder; raise `LocalModelError` naming the file that is wrong."""
    root = Path(folder)
    if not root.is_absolute():
        raise LocalModelError(f"the model folder must be an absolute path, got {str(folder)!r}")
    if not root.is_dir():
        raise LocalModelError(f"the model folder {root} does not exist (or is not a folder)")
    missing = [name for name in PACKAGE_FILES if not (root / name).is_file()]
    if missing:
        raise LocalModelError(f"the model folder {root} has no {', '.join(missing)}")

    config_path = root / MODEL_CONFIG
    config = _read_json(config_path)
    if _field(config, config_path, "task_type") != "object-detection":
        raise LocalModelError(
            f"{config_path}: task_type must be object-detection (boxes), got "
            f"{config['task_type']!r}"
        )
    backend = config.get("backend_type", "onnx")
    if backend != "onnx":
        raise LocalModelError(f"{config_path}: backend_type must be onnx, got {backend!r}")
    architecture = _field(config, config_path, "model_architecture")
    if not isinstance(architecture, str) or not architecture:
        raise LocalModelError(f"{config_path}: model_architecture must be a name, e.g. yolov8")

    weights = root / WEIGHTS
    if weights.stat().st_size == 0:
        raise LocalModelError(f"{weights} is empty")

    names_path = root / CLASS_NAMES
    try:
        lines = names_path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as err:
        raise LocalModelError(f"cannot read {names_path}: {err}") from None
    class_names = tuple(line.strip() for line in lines if line.strip())
    if not class_names:
        raise LocalModelError(f"{names_path} lists no class (one name per line)")

    inference_path = root / INFERENCE_CONFIG
    inference = _read_json(inference_path)
    post = _field(inference, inference_path, "post_processing", "type")
    if post != "nms":
        raise LocalModelError(
            f"{inference_path}: post_processing.type must be nms for object detection, got {post!r}"
        )
    resize = _field(inference, inference_path, "network_input", "resize_mode")
    if resize not in RESIZE_MODES:
        raise LocalModelError(
            f"{inference_path}: network_input.resize_mode must be one of "
            f"{', '.join(RESIZE_MODES)}, got {resize!r}"
        )
    size = _field(inference, inference_path, "network_input", "training_input_size")
    width = size.get("width") if isinstance(size, dict) else None
    height = size.get("height") if isinstance(size, dict) else None
    if not (isinstance(width, int) and isinstance(height, int) and width > 0 and height > 0):
        raise LocalModelError(
            f"{inference_path}: network_input.training_input_size needs positive integer "
            "width and height"
        )
    return LocalModel(root, architecture, class_names, (width, height))
