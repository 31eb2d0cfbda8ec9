"""Tiny real ONNX models for tests and examples (needs the `train` extra for onnx)."""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray


def logistic_onnx(weights: NDArray[np.floating], bias: float) -> bytes:
    """A real ONNX model: probability = sigmoid(features @ weights + bias)."""
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    width = len(weights)
    graph = helper.make_graph(
        [
            helper.make_node("MatMul", ["features", "w"], ["z0"]),
            helper.make_node("Add", ["z0", "b"], ["z"]),
            helper.make_node("Sigmoid", ["z"], ["p2"]),
            helper.make_node("Reshape", ["p2", "shape"], ["probability"]),
        ],
        "logistic",
        [helper.make_tensor_value_info("features", TensorProto.FLOAT, ["N", width])],
        [helper.make_tensor_value_info("probability", TensorProto.FLOAT, ["N"])],
        initializer=[
            numpy_helper.from_array(weights.reshape(width, 1).astype(np.float32), "w"),
            numpy_helper.from_array(np.array([bias], dtype=np.float32), "b"),
            numpy_helper.from_array(np.array([-1], dtype=np.int64), "shape"),
        ],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    onnx.checker.check_model(model)
    return bytes(model.SerializeToString())
