"""Write a trained :class:`~vigil.train.mlp.FeedForwardNet` as a small ONNX graph.

The graph is built by hand with ``onnx.helper`` from the trained weights rather than with
``torch.onnx.export``: torch 2.13's exporter goes through dynamo and onnxscript, which
emits version-dependent graphs (extra Casts, Shape/Gather chains, BatchNormalization and
standardization as separate nodes) and pulls onnxscript into the train extra. Scoring
speed is dominated by a handful of matrix products, so we want exactly those and nothing
else, in a graph a reviewer can read and that does not change with the torch version:

    features [N, F] float32
      -> Gemm (standardization and batch norm folded in) -> LeakyRelu   (per hidden layer)
      -> Gemm -> logit_column [N, 1] -> Squeeze -> logit [N] -> Sigmoid -> probability [N]

A net trained with an offset column (``MLPConfig.offset_column``: the net corrects a
column that already is a log-odds) adds that column, times its learned scale, before the
Sigmoid; the offset is read from the raw features, as in torch:

    features -> Gather(axis=1) -> offset [N] -> Mul offset_scale -> offset_term [N]
    Squeeze -> correction [N] -> Add offset_term -> logit [N] -> Sigmoid -> probability [N]

Only weights go in; the model file is plain ONNX (never pickle), checked with
``onnx.checker`` before it is returned.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np
from numpy.typing import NDArray

from vigil.errors import MissingExtra, ModelError

try:
    import onnx
    from onnx import TensorProto, helper, numpy_helper
except ImportError as exc:  # the `train` extra is not installed
    raise MissingExtra("onnx", "train") from exc

if TYPE_CHECKING:
    import torch

    from vigil.train.mlp import FeedForwardNet

#: ONNX operator set. 17 is read by every onnxruntime vigil supports (>= 1.20) and by the
#: runtimes bundled with Spark and Snowflake; the graph uses nothing newer.
OPSET = 17

#: IR version matching opset 17, so older onnxruntime builds accept the file.
IR_VERSION = 8

#: Input and output names the runtime looks for.
INPUT = "features"
OUTPUTS = ("probability", "logit")


def export_onnx(
    model: FeedForwardNet,
    n_features: int,
    *,
    feature_names: Sequence[str] | None = None,
    doc: str = "",
) -> bytes:
    """The model as ONNX bytes: input ``features`` [N, n_features] float32, outputs
    ``probability`` and ``logit``, both float32 [N].

    The net is exported in eval mode: batch norms use their running statistics and
    dropout is off. Folded weights are computed in float64 and stored as float32.
    The same model gives the same bytes.

    Args:
        model: a trained net (as returned in :class:`~vigil.train.mlp.TrainResult`).
        n_features: the matrix width the extractor produces; must match the model.
        feature_names: the column names, recorded in the model's metadata.
        doc: free text stored as the model's doc string.

    Raises:
        ModelError: the model's width or the number of names differs from ``n_features``.
    """
    import vigil

    if model.n_features != n_features:
        raise ModelError(
            f"model was trained on {model.n_features} features, asked to export for "
            f"{n_features}; export with the extractor the model was trained on"
        )
    if feature_names is not None and len(feature_names) != n_features:
        raise ModelError(f"got {len(feature_names)} feature names for {n_features} features")

    mean = _f64(model.mean)
    std = _f64(model.std)
    nodes = []
    initializers = []
    current = INPUT
    for i, layer in enumerate(model.hidden_layers()):
        weight = _f64(layer.linear.weight)  # [out, in]
        bias = np.zeros(weight.shape[0]) if layer.linear.bias is None else _f64(layer.linear.bias)
        if i == 0:
            # W ((x - mean) / std) + b  ==  (W / std) x + (b - W @ (mean / std))
            bias = bias - weight @ (mean / std)
            weight = weight / std
        norm = layer.norm
        if norm.running_mean is None or norm.running_var is None:
            raise ModelError("batch norm without running statistics cannot be folded")
        gamma = _f64(norm.weight) if norm.weight is not None else np.ones(weight.shape[0])
        beta = _f64(norm.bias) if norm.bias is not None else np.zeros(weight.shape[0])
        # BN(z) = gamma * (z - running_mean) / sqrt(running_var + eps) + beta
        scale = gamma / np.sqrt(_f64(norm.running_var) + norm.eps)
        weight = scale[:, None] * weight
        bias = scale * (bias - _f64(norm.running_mean)) + beta
        w_name, b_name, z_name, h_name = f"w{i}", f"b{i}", f"z{i}", f"h{i}"
        initializers += [_tensor(weight, w_name), _tensor(bias, b_name)]
        nodes.append(helper.make_node("Gemm", [current, w_name, b_name], [z_name], transB=1))
        nodes.append(
            helper.make_node("LeakyRelu", [z_name], [h_name], alpha=float(layer.negative_slope))
        )
        current = h_name
    initializers += [
        _tensor(_f64(model.head.weight), "w_out"),
        _tensor(_f64(model.head.bias), "b_out"),
        numpy_helper.from_array(np.array([1], dtype=np.int64), "squeeze_axes"),
    ]
    net_logit = "logit" if model.offset_column is None else "correction"
    nodes += [
        helper.make_node("Gemm", [current, "w_out", "b_out"], ["logit_column"], transB=1),
        helper.make_node("Squeeze", ["logit_column", "squeeze_axes"], [net_logit]),
    ]
    if model.offset_column is not None:
        if model.offset_scale is None:
            raise ModelError("a net with an offset column must have an offset scale")
        initializers += [
            # A scalar index: Gather drops axis 1, so the offset is [N] like the logit.
            numpy_helper.from_array(np.array(model.offset_column, dtype=np.int64), "offset_index"),
            _tensor(_f64(model.offset_scale), "offset_scale"),
        ]
        nodes += [
            helper.make_node("Gather", [INPUT, "offset_index"], ["offset"], axis=1),
            helper.make_node("Mul", ["offset", "offset_scale"], ["offset_term"]),
            helper.make_node("Add", [net_logit, "offset_term"], ["logit"]),
        ]
    nodes.append(helper.make_node("Sigmoid", ["logit"], ["probability"]))
    graph = helper.make_graph(
        nodes,
        "vigil_feed_forward",
        [helper.make_tensor_value_info(INPUT, TensorProto.FLOAT, ["N", n_features])],
        [helper.make_tensor_value_info(name, TensorProto.FLOAT, ["N"]) for name in OUTPUTS],
        initializer=initializers,
    )
    onnx_model = helper.make_model(
        graph,
        opset_imports=[helper.make_opsetid("", OPSET)],
        ir_version=IR_VERSION,
        producer_name="vigil",
        producer_version=vigil.__version__,
        doc_string=doc,
    )
    metadata = {
        "vigil.n_features": str(n_features),
        "vigil.architecture": model.architecture,
        "vigil.outputs": ",".join(OUTPUTS),
    }
    if model.offset_column is not None:
        metadata["vigil.offset_column"] = str(model.offset_column)
    return finish_model(onnx_model, metadata, feature_names)


def finish_model(
    model: onnx.ModelProto, metadata: dict[str, str], feature_names: Sequence[str] | None
) -> bytes:
    """The model's bytes with its metadata (and feature names) set, after ONNX's full check."""
    if feature_names is not None:
        metadata["vigil.feature_names"] = json.dumps(list(feature_names))
    helper.set_model_props(model, metadata)
    onnx.checker.check_model(model, full_check=True)
    data: bytes = model.SerializeToString()
    return data


def _f64(tensor: torch.Tensor) -> NDArray[np.float64]:
    return np.asarray(tensor.detach().double().cpu().numpy(), dtype=np.float64)


def _tensor(values: NDArray[np.float64], name: str) -> onnx.TensorProto:
    """A float32 initializer from float64 values (folding is done in float64)."""
    return numpy_helper.from_array(np.ascontiguousarray(values, dtype=np.float32), name)


__all__ = ["IR_VERSION", "OPSET", "export_onnx"]
