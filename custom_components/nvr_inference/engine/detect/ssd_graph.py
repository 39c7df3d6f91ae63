"""OpenCV's text graph for a TensorFlow SSD (Object Detection API) frozen graph: our own generator.

OpenCV's DNN module cannot run a TF Object Detection API graph as frozen: its pre-processing runs in
a `while` loop (TensorArrays) and its post-processing (anchor generation, box decoding, NMS) uses
ops OpenCV does not implement. OpenCV's documented way is a *text graph* (a `GraphDef` in protobuf
text format) given beside the frozen `.pb` to `cv2.dnn.readNetFromTensorflow(pb, pbtxt)`: the text
graph names the nodes to build, and the weights are looked up by name in the `.pb`. This module
writes that text graph:

1. `cv2.dnn.writeTextGraph` dumps the frozen graph's structure (no weights) as text.
2. We keep only what computes the box predictor heads (the feature extractor and the 12
   `BoxPredictor_<i>/{BoxEncodingPredictor,ClassPredictor}/BiasAdd` outputs), and feed the
   feature extractor from a plain float input `image_tensor` instead of the pre-processor (the
   caller does that work with `cv2.dnn.blobFromImage`). Constant nodes are dropped from the text:
   OpenCV takes them from the `.pb` by name.
3. We append the SSD head in OpenCV's layers: per feature map a `PriorBox` (the anchors, as
   explicit widths and heights) and a `Flatten` of each prediction; `ConcatV2` of them; a
   `Sigmoid` over the class logits; and one `DetectionOutput` that decodes the boxes against the
   anchors (TensorFlow's box order, hence `loc_pred_transposed`) and runs NMS.

The anchors are TensorFlow's `ssd_anchor_generator` (`SsdAnchors` below). Its parameters are not
in a frozen graph as such, only its folded constants; `SsdAnchors` holds the values read from the
person model's own constants (`MultipleGridAnchorGenerator/*`), which are those of TensorFlow's
`ssdlite_mobilenet_v2` configuration.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
import math
from pathlib import Path
import re
import tempfile

INPUT_NAME = "image_tensor"
OUTPUT_NAME = "detection_out"


@dataclass(frozen=True, slots=True)
class SsdAnchors:
    """TensorFlow's `ssd_anchor_generator`: anchor sizes per feature map, as fractions of the input.

    Layer `i` has scale `min + (max - min) * i / (layers - 1)`. Each aspect ratio `a` gives a box
    `scale * sqrt(a)` wide and `scale / sqrt(a)` high, plus one box of ratio
    `interpolated_ratio` at `sqrt(scale_i * scale_{i+1})` (the last layer's next scale is 1).
    With `reduce_lowest`, the first layer has only three: (0.1, 1), (min, 2), (min, 0.5).
    """

    layers: int = 6
    min_scale: float = 0.2
    max_scale: float = 0.95
    aspect_ratios: tuple[float, ...] = (1.0, 2.0, 0.5, 3.0, 0.3333)
    interpolated_ratio: float = 1.0
    reduce_lowest: bool = True

    def scales(self) -> list[float]:
        """Return each layer's scale, plus 1.0 for the layer after the last."""
        step = (self.max_scale - self.min_scale) / (self.layers - 1)
        return [self.min_scale + step * i for i in range(self.layers)] + [1.0]

    def boxes(self, layer: int) -> list[tuple[float, float]]:
        """Return the (width, height) of each anchor of `layer`, as fractions of the input."""
        scales = self.scales()
        if layer == 0 and self.reduce_lowest:
            pairs = [(0.1, 1.0), (self.min_scale, 2.0), (self.min_scale, 0.5)]
        else:
            scale, after = scales[layer], scales[layer + 1]
            pairs = [(scale, ratio) for ratio in self.aspect_ratios]
            pairs.append((math.sqrt(scale * after), self.interpolated_ratio))
        return [(s * math.sqrt(r), s / math.sqrt(r)) for s, r in pairs]


@dataclass(frozen=True, slots=True)
class SsdHead:
    """What the SSD head needs besides the anchors."""

    num_classes: int  # including the background class 0
    input_size: int = 300
    variances: tuple[float, float, float, float] = (0.1, 0.1, 0.2, 0.2)  # TF's 10, 10, 5, 5
    nms_threshold: float = 0.6
    top_k: int = 100
    confidence_threshold: float = 0.01


@dataclass(frozen=True, slots=True)
class _Node:
    name: str
    op: str
    inputs: tuple[str, ...]
    text: str  # the whole `node { ... }` block


_FIELD = re.compile(r'^  (name|op|input): "(.*)"$', re.MULTILINE)
_CONTROL_INPUT = re.compile(r'^  input: "\^.*"\n', re.MULTILINE)


def parse_nodes(text: str) -> list[_Node]:
    """Split a text GraphDef into its top-level `node { ... }` blocks (other blocks are dropped).

    `writeTextGraph` writes one field per line with two spaces of indent per level, so a node
    starts at a column-0 `node {` and ends at the next column-0 `}`.
    """
    nodes = []
    block: list[str] | None = None
    for line in text.splitlines():
        if block is None:
            if line == "node {":
                block = [line]
            continue
        block.append(line)
        if line == "}":
            body = "\n".join(block)
            fields: dict[str, list[str]] = {"name": [], "op": [], "input": []}
            for key, value in _FIELD.findall(body):
                fields[key].append(value)
            if len(fields["name"]) != 1 or len(fields["op"]) != 1:
                raise ValueError(f"unexpected node block in the text graph: {body[:200]!r}")
            nodes.append(_Node(fields["name"][0], fields["op"][0], tuple(fields["input"]), body))
            block = None
    return nodes


def _source(name: str) -> str:
    """Return the node an input names (`node:1` is output 1 of `node`; `^node` a control edge)."""
    return name.lstrip("^").split(":", 1)[0]


def prune(nodes: Sequence[_Node], outputs: Iterable[str], input_node: str) -> list[str]:
    """Keep what `outputs` need, fed from `input_node` (renamed `INPUT_NAME`); drop constants.

    Returns the kept nodes' text, in the frozen graph's order, with their attributes (strides,
    padding, epsilon, ...) as they were; control edges are dropped (they only order asserts,
    which are gone).
    """
    by_name = {node.name: node for node in nodes}
    needed: set[str] = set()
    stack = list(outputs)
    while stack:
        name = stack.pop()
        if name in needed or name == input_node:
            continue
        node = by_name.get(name)
        if node is None:
            raise ValueError(f"the frozen graph has no node {name!r}")
        if node.op == "Const":
            continue  # OpenCV reads constants from the .pb by name
        needed.add(name)
        stack.extend(_source(i) for i in node.inputs if not i.startswith("^"))
    kept = []
    for node in nodes:
        if node.name not in needed:
            continue
        text = _CONTROL_INPUT.sub("", node.text)
        kept.append(text.replace(f'  input: "{input_node}"\n', f'  input: "{INPUT_NAME}"\n'))
    return kept


# -- writing nodes in protobuf text format --------------------------------------------------------


def _floats(values: Sequence[float]) -> str:
    items = "\n".join(f"        float_val: {v!r}" for v in values)
    return (
        "tensor {\n        dtype: DT_FLOAT\n"
        f"        tensor_shape {{\n          dim {{\n            size: {len(values)}\n"
        f"          }}\n        }}\n{items}\n      }}"
    )


def _attr(key: str, value: object) -> str:
    if isinstance(value, bool):
        body = f"b: {str(value).lower()}"
    elif isinstance(value, int):
        body = f"i: {value}"
    elif isinstance(value, float):
        body = f"f: {value!r}"
    elif isinstance(value, str) and value.startswith("DT_"):
        body = f"type: {value}"
    elif isinstance(value, str):
        body = f's: "{value}"'
    elif isinstance(value, tuple | list):
        body = _floats([float(v) for v in value])
    else:
        raise TypeError(f"cannot write attribute {key}={value!r}")
    return f'  attr {{\n    key: "{key}"\n    value {{\n      {body}\n    }}\n  }}'


def node_text(name: str, op: str, inputs: Sequence[str] = (), **attrs: object) -> str:
    """Write one node; int attrs are `i`, float `f`, bool `b`, `DT_*` a type, sequences floats."""
    lines = [f'  name: "{name}"', f'  op: "{op}"', *(f'  input: "{i}"' for i in inputs)]
    lines += [_attr(key, value) for key, value in attrs.items()]
    return "node {\n" + "\n".join(lines) + "\n}"


def _int_const(name: str, value: int) -> str:
    return (
        f'node {{\n  name: "{name}"\n  op: "Const"\n'
        '  attr {\n    key: "dtype"\n    value {\n      type: DT_INT32\n    }\n  }\n'
        '  attr {\n    key: "value"\n    value {\n      tensor {\n        dtype: DT_INT32\n'
        f"        tensor_shape {{\n        }}\n        int_val: {value}\n      }}\n    }}\n  }}\n}}"
    )


def head_nodes(anchors: SsdAnchors, head: SsdHead) -> list[str]:
    """Return the SSD head in OpenCV's layers, on top of the `BoxPredictor_<i>` outputs."""
    axis = "nvr_ssd/concat_axis"  # a name of ours: it must not exist in the .pb
    nodes = [_int_const(axis, -1)]
    boxes, classes, priors = [], [], []
    for layer in range(anchors.layers):
        box = f"BoxPredictor_{layer}/BoxEncodingPredictor/BiasAdd"
        cls = f"BoxPredictor_{layer}/ClassPredictor/BiasAdd"
        sizes = anchors.boxes(layer)
        nodes.append(node_text(f"{box}/nvr_flatten", "Flatten", [box]))
        nodes.append(node_text(f"{cls}/nvr_flatten", "Flatten", [cls]))
        nodes.append(
            node_text(
                f"nvr_ssd/PriorBox_{layer}",
                "PriorBox",
                [box, INPUT_NAME],
                flip=False,
                clip=False,
                width=[w * head.input_size for w, _h in sizes],
                height=[h * head.input_size for _w, h in sizes],
                variance=list(head.variances),
            )
        )
        boxes.append(f"{box}/nvr_flatten")
        classes.append(f"{cls}/nvr_flatten")
        priors.append(f"nvr_ssd/PriorBox_{layer}")
    for name, parts in (
        ("nvr_ssd/boxes", boxes),
        ("nvr_ssd/class_logits", classes),
        ("nvr_ssd/priors", priors),
    ):
        nodes.append(node_text(name, "ConcatV2", [*parts, axis], N=len(parts)))
    nodes.append(node_text("nvr_ssd/class_scores", "Sigmoid", ["nvr_ssd/class_logits"]))
    nodes.append(
        node_text(
            OUTPUT_NAME,
            "DetectionOutput",
            ["nvr_ssd/boxes", "nvr_ssd/class_scores", "nvr_ssd/priors"],
            num_classes=head.num_classes,
            share_location=True,
            background_label_id=0,
            nms_threshold=head.nms_threshold,
            top_k=head.top_k,
            keep_top_k=head.top_k,
            code_type="CENTER_SIZE",
            confidence_threshold=head.confidence_threshold,
            loc_pred_transposed=True,
        )
    )
    return nodes


def ssd_text_graph(
    frozen_graph_text: str,
    anchors: SsdAnchors,
    head: SsdHead,
    *,
    input_node: str = "FeatureExtractor/MobilenetV2/MobilenetV2/input",
) -> str:
    """Return the text graph for `cv2.dnn.readNetFromTensorflow(pb, <this>)`.

    `frozen_graph_text` is `cv2.dnn.writeTextGraph`'s dump of the `.pb`; `input_node` is where
    the pre-processed image enters the feature extractor.
    """
    outputs = [
        f"BoxPredictor_{layer}/{part}/BiasAdd"
        for layer in range(anchors.layers)
        for part in ("BoxEncodingPredictor", "ClassPredictor")
    ]
    kept = prune(parse_nodes(frozen_graph_text), outputs, input_node)
    parts = [node_text(INPUT_NAME, "Placeholder", dtype="DT_FLOAT")]
    parts += kept
    parts += head_nodes(anchors, head)
    return "\n".join(parts) + "\n"


def dump_frozen_graph(pb: Path) -> str:
    """Return `cv2.dnn.writeTextGraph`'s dump of a frozen graph (its structure, no weights)."""
    import cv2  # noqa: PLC0415 - OpenCV only when a graph is built

    with tempfile.TemporaryDirectory(prefix="nvr-ssd-") as tmp:
        out = Path(tmp) / "frozen.pbtxt"
        cv2.dnn.writeTextGraph(str(pb), str(out))
        return out.read_text(encoding="utf-8")
