"""A tiny ONNX object detector, built at test time, as a Roboflow model package folder.

No weights of any trained model: the graph ignores the image's content and outputs one fixed
box for a known class, in YOLOv8's layout (`[batch, 4 + classes, candidates]`: box centre and
size in network-input pixels, then one score per class), among two low-scoring candidates that
the loader's confidence filter and NMS must drop.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

CLASS_NAMES = ("cat", "lamp")
INPUT_SIZE = 320
# The box in network-input pixels (centre x, centre y, width, height) and its class and score.
BOX = (160.0, 160.0, 64.0, 96.0)
CLASS_ID = 1
SCORE = 0.9


def expected_detection(width: int, height: int) -> dict[str, object]:
    """The detection the package must produce on a `width` x `height` frame (stretch resize)."""
    sx, sy = width / INPUT_SIZE, height / INPUT_SIZE
    cx, cy, w, h = BOX
    return {
        "class": CLASS_NAMES[CLASS_ID],
        "class_id": CLASS_ID,
        "confidence": SCORE,
        "x": cx * sx,
        "y": cy * sy,
        "width": w * sx,
        "height": h * sy,
    }


def fixed_output() -> np.ndarray:
    """The network's output: three candidates, the first one the box."""
    candidates = [
        # centre x, centre y, width, height, score of cat, score of lamp
        (*BOX, 0.05, SCORE),
        (100.0, 50.0, 20.0, 20.0, 0.01, 0.01),
        (250.0, 250.0, 30.0, 30.0, 0.02, 0.01),
    ]
    return np.array(candidates, np.float32).T[None]  # [1, 4 + classes, candidates]


def write_model_package(folder: Path) -> Path:
    """Write model_config.json, weights.onnx, class_names.txt and inference_config.json."""
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    folder.mkdir(parents=True, exist_ok=True)
    out = fixed_output()
    graph = helper.make_graph(
        [
            # output = fixed + 0 * mean(image): the image flows through, its content does not.
            helper.make_node("ReduceMean", ["images"], ["mean"], keepdims=0),
            helper.make_node("Mul", ["mean", "zero"], ["nothing"]),
            helper.make_node("Add", ["fixed", "nothing"], ["output0"]),
        ],
        "fixed_box",
        [
            helper.make_tensor_value_info(
                "images", TensorProto.FLOAT, [1, 3, INPUT_SIZE, INPUT_SIZE]
            )
        ],
        [helper.make_tensor_value_info("output0", TensorProto.FLOAT, list(out.shape))],
        initializer=[
            numpy_helper.from_array(out, name="fixed"),
            numpy_helper.from_array(np.array(0.0, np.float32), name="zero"),
        ],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)], ir_version=8)
    onnx.checker.check_model(model)
    onnx.save(model, str(folder / "weights.onnx"))
    write_package_metadata(folder)
    return folder


def write_package_metadata(
    folder: Path,
    *,
    class_names: tuple[str, ...] = CLASS_NAMES,
    input_size: int = INPUT_SIZE,
    backend: str = "onnx",
) -> None:
    """Write the three text files of a YOLOv8 package in Roboflow's layout.

    The light profile's tests use them alone; benchmarks/gpu_bench.py writes its packages
    (other classes, size and backend) with it too, so the layout is written in one place.
    """
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "class_names.txt").write_text("\n".join(class_names) + "\n")
    (folder / "model_config.json").write_text(
        json.dumps(
            {
                "model_architecture": "yolov8",
                "task_type": "object-detection",
                "backend_type": backend,
            }
        )
    )
    (folder / "inference_config.json").write_text(
        json.dumps(
            {
                "network_input": {
                    "training_input_size": {"height": input_size, "width": input_size},
                    "dynamic_spatial_size_supported": False,
                    "color_mode": "rgb",
                    "resize_mode": "stretch",
                    "input_channels": 3,
                    "scaling_factor": 255,
                },
                "forward_pass": {"static_batch_size": 1},
                "post_processing": {"type": "nms", "fused": False},
            }
        )
    )
