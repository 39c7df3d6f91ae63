"""The SSD text graph generator on a small hand-written graph (pure text, no OpenCV)."""

from __future__ import annotations

import pytest

from custom_components.nvr_inference.engine.detect.ssd_graph import (
    INPUT_NAME,
    node_text,
    parse_nodes,
    prune,
)

GRAPH = "\n".join(
    [
        node_text("image", "Placeholder", dtype="DT_UINT8"),
        node_text("Preprocessor/sub", "Sub", ["image", "Preprocessor/sub/y"]),
        node_text("Preprocessor/sub/y", "Const", dtype="DT_FLOAT"),
        node_text("net/input", "Identity", ["Preprocessor/sub"]),
        node_text("net/weights", "Const", dtype="DT_FLOAT"),
        node_text("net/weights/read", "Identity", ["net/weights"]),
        node_text("net/assert", "Assert", ["net/input"]),
        node_text(
            "net/conv", "Conv2D", ["net/input", "net/weights/read", "^net/assert"], padding="SAME"
        ),
        node_text("unused", "Relu", ["net/conv"]),
    ]
)


def test_prune_keeps_what_the_outputs_need_from_the_new_input() -> None:
    nodes = parse_nodes(GRAPH)
    assert [n.name for n in nodes][:2] == ["image", "Preprocessor/sub"]
    kept = prune(nodes, ["net/conv"], "net/input")
    names = [parse_nodes(text)[0].name for text in kept]
    # Constants come from the .pb; the pre-processor, the assert and what is unused are gone.
    assert names == ["net/weights/read", "net/conv"]
    conv = parse_nodes(kept[1])[0]
    assert conv.inputs == (INPUT_NAME, "net/weights/read")  # no control edge
    assert 's: "SAME"' in kept[1]  # attributes are kept as they were


def test_prune_names_a_missing_node() -> None:
    with pytest.raises(ValueError, match="no node 'nowhere'"):
        prune(parse_nodes(GRAPH), ["nowhere"], "net/input")


def test_node_text_writes_each_attribute_type() -> None:
    text = node_text("n", "PriorBox", ["a"], flip=False, top_k=3, f=0.5, width=[1.0, 2.5])
    assert "b: false" in text and "i: 3" in text and "f: 0.5" in text
    assert "float_val: 1.0" in text and "float_val: 2.5" in text and "size: 2" in text
    with pytest.raises(TypeError):
        node_text("n", "X", bad=object())
