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
from dataclasses import dataclass
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


@dataclass(frozen=True)
class _Folded:
    """A net as plain float64 matrices: standardization and batch norms folded in."""

    layers: list[tuple[NDArray[np.float64], NDArray[np.float64]]]  # (weight [out, in], bias)
    slopes: list[float]
    head_weight: NDArray[np.float64]  # [1, last]
    head_bias: NDArray[np.float64]  # [1]
    offset_scale: float | None


def _fold(model: FeedForwardNet) -> _Folded:
    mean = _f64(model.mean)
    std = _f64(model.std)
    layers = []
    slopes = []
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
        layers.append((scale[:, None] * weight, scale * (bias - _f64(norm.running_mean)) + beta))
        slopes.append(float(layer.negative_slope))
    offset_scale = None
    if model.offset_column is not None:
        if model.offset_scale is None:
            raise ModelError("a net with an offset column must have an offset scale")
        offset_scale = float(_f64(model.offset_scale))
    return _Folded(layers, slopes, _f64(model.head.weight), _f64(model.head.bias), offset_scale)


def _mean_of(nets: list[_Folded]) -> _Folded:
    """One net whose logit is the mean of ``nets``' logits, exactly.

    The first layers are stacked (all read the same input), later layers and the heads
    are block-diagonal (each net reads only its own units), and the head and the offset
    scale are divided by the number of nets. LeakyReLU is element-wise, so each block
    computes exactly its own net.
    """
    if len(nets) == 1:
        return nets[0]
    k = len(nets)
    layers = []
    for j in range(len(nets[0].layers)):
        weights = [net.layers[j][0] for net in nets]
        weight = np.vstack(weights) if j == 0 else _block_diagonal(weights)
        layers.append((weight, np.concatenate([net.layers[j][1] for net in nets])))
    head_weight = np.hstack([net.head_weight for net in nets]) / k
    head_bias = np.array([np.mean([net.head_bias[0] for net in nets])])
    scales = [net.offset_scale for net in nets if net.offset_scale is not None]
    offset_scale = float(np.mean(scales)) if scales else None
    return _Folded(layers, nets[0].slopes, head_weight, head_bias, offset_scale)


def _block_diagonal(blocks: list[NDArray[np.float64]]) -> NDArray[np.float64]:
    out = np.zeros((sum(b.shape[0] for b in blocks), sum(b.shape[1] for b in blocks)))
    row = column = 0
    for block in blocks:
        out[row : row + block.shape[0], column : column + block.shape[1]] = block
        row += block.shape[0]
        column += block.shape[1]
    return out


def export_onnx(
    model: FeedForwardNet | Sequence[FeedForwardNet],
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

    Several nets (the same architecture, e.g. trained from different seeds) export as one
    graph of the same shape whose logit is the mean of theirs (see :func:`_mean_of`).

    Args:
        model: a trained net (as returned in :class:`~vigil.train.mlp.TrainResult`), or
            several.
        n_features: the matrix width the extractor produces; must match the model.
        feature_names: the column names, recorded in the model's metadata.
        doc: free text stored as the model's doc string.

    Raises:
        ModelError: the model's width or the number of names differs from ``n_features``,
            or several nets differ in architecture.
    """
    import vigil

    nets: list[FeedForwardNet] = list(model) if isinstance(model, Sequence) else [model]
    if not nets:
        raise ModelError("no net to export")
    first = nets[0]
    if first.n_features != n_features:
        raise ModelError(
            f"model was trained on {first.n_features} features, asked to export for "
            f"{n_features}; export with the extractor the model was trained on"
        )
    if any(net.architecture != first.architecture for net in nets):
        raise ModelError(
            "nets of different architectures cannot be exported as one model: "
            + "; ".join(sorted({net.architecture for net in nets}))
        )
    if feature_names is not None and len(feature_names) != n_features:
        raise ModelError(f"got {len(feature_names)} feature names for {n_features} features")

    folded = _mean_of([_fold(net) for net in nets])
    nodes = []
    initializers = []
    current = INPUT
    for i, ((weight, bias), slope) in enumerate(zip(folded.layers, folded.slopes, strict=True)):
        w_name, b_name, z_name, h_name = f"w{i}", f"b{i}", f"z{i}", f"h{i}"
        initializers += [_tensor(weight, w_name), _tensor(bias, b_name)]
        nodes.append(helper.make_node("Gemm", [current, w_name, b_name], [z_name], transB=1))
        nodes.append(helper.make_node("LeakyRelu", [z_name], [h_name], alpha=slope))
        current = h_name
    initializers += [
        _tensor(folded.head_weight, "w_out"),
        _tensor(folded.head_bias, "b_out"),
        numpy_helper.from_array(np.array([1], dtype=np.int64), "squeeze_axes"),
    ]
    net_logit = "logit" if folded.offset_scale is None else "correction"
    nodes += [
        helper.make_node("Gemm", [current, "w_out", "b_out"], ["logit_column"], transB=1),
        helper.make_node("Squeeze", ["logit_column", "squeeze_axes"], [net_logit]),
    ]
    if folded.offset_scale is not None:
        initializers += [
            # A scalar index: Gather drops axis 1, so the offset is [N] like the logit.
            numpy_helper.from_array(np.array(first.offset_column, dtype=np.int64), "offset_index"),
            _tensor(np.array(folded.offset_scale), "offset_scale"),
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
    architecture = first.architecture
    if len(nets) > 1:
        architecture = f"mean logit of {len(nets)} nets: {architecture}"
    metadata = {
        "vigil.n_features": str(n_features),
        "vigil.architecture": architecture,
        "vigil.outputs": ",".join(OUTPUTS),
    }
    if first.offset_column is not None:
        metadata["vigil.offset_column"] = str(first.offset_column)
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
