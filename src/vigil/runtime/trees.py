"""Boosted-tree models scored by vigil's compiled tree walk, the rest of the graph by onnxruntime.

The domain and IP models are ONNX graphs of one ``TreeEnsembleRegressor`` (the margin)
followed by a few elementwise nodes (calibration, sigmoid). onnxruntime's tree operator
walks each row through each tree with a compare-and-jump per level; half of those jumps
mispredict, and the model took more than half of a domain batch. The kernel
(``tree_margins`` in ``vigil/features/_kernels.c``) walks 64 rows at a time without a
branch and gives the same float32 margins, bit for bit: it adds the same leaf values in
the same order. The nodes after the trees still run in onnxruntime, as a second graph cut
from the model file, so calibration is whatever the file says.

Nothing here is trusted blindly: :func:`compile_trees` returns None (and the model runs
in onnxruntime as a whole) for any graph it does not fully understand, and
:class:`CompiledTrees` is only used after it matched onnxruntime exactly on a probe batch
built from the model's own thresholds (see ``LoadedScorerModel``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import onnxruntime as ort
from numpy.typing import NDArray

from vigil.features import _accel
from vigil.runtime._onnx_wire import Node, WireError, read_model, write_model

#: The kernel's node record: threshold or leaf value, column, children (x < value: the first).
NODE_DTYPE = np.dtype([("value", "<f4"), ("feature", "<i4"), ("child", "<i4", (2,))])
_MAX_FEATURES = 2**30 - 1
#: Deeper trees than this are left to onnxruntime (the kernel's limit as well).
MAX_DEPTH = 64

_TREE_OP, _ML_DOMAIN = "TreeEnsembleRegressor", "ai.onnx.ml"
_MODES = (b"BRANCH_LT", b"BRANCH_LEQ")
#: The per-node attributes of a ``TreeEnsembleRegressor`` (the trainer copies these from
#: onnxmltools' conversion; the walk reads them).
NODE_ATTRIBUTES = (
    "nodes_treeids",
    "nodes_nodeids",
    "nodes_featureids",
    "nodes_modes",
    "nodes_values",
    "nodes_truenodeids",
    "nodes_falsenodeids",
    "nodes_missing_value_tracks_true",
)
#: Attributes the kernel reproduces; any other (``*_as_tensor``, other aggregates) means
#: the graph stays with onnxruntime. ``nodes_hitrates`` only guides memory layout.
_KNOWN = {
    *NODE_ATTRIBUTES,
    "nodes_hitrates",
    "aggregate_function",
    "base_values",
    "n_targets",
    "post_transform",
    "target_ids",
    "target_nodeids",
    "target_treeids",
    "target_weights",
}


class Unsupported(ValueError):
    """The graph is not one the compiled walk reproduces; onnxruntime runs all of it."""


@dataclass(frozen=True)
class CompiledTrees:
    """A model's tree ensemble as the kernel's arrays, and the rest of its graph.

    ``run`` takes the same feature matrix and output names as the whole model's
    onnxruntime session and returns the same arrays. The kernel knows one split rule,
    ``x < value`` (NaN: the second child); splits that send NaN to their true branch read
    a mirrored column ``-x`` (``width + column``) instead, see :func:`_one_rule`.
    """

    nodes: NDArray[np.void]
    roots: NDArray[np.int32]
    depths: NDArray[np.int32]
    base: float
    width: int
    mirrored: bool
    margin_name: str
    tail: ort.InferenceSession

    def margins(self, features: NDArray[np.float32]) -> NDArray[np.float32]:
        """The ensemble's raw margin per row, shape ``(rows, 1)`` as the graph has it."""
        kernels = _accel.require()
        rows = np.ascontiguousarray(features, dtype=np.float32)
        if rows.ndim != 2 or rows.shape[1] < self.width:
            raise ValueError(f"features must be rows x >= {self.width}, got {rows.shape}")
        if self.mirrored:  # negation is exact and keeps NaN
            read = rows[:, : self.width]
            rows = np.concatenate([read, np.negative(read)], axis=1)
        out = np.empty((rows.shape[0], 1), dtype=np.float32)
        kernels.tree_margins(
            self.nodes, self.roots, self.depths, rows, rows.shape[1], self.base, out
        )
        return out

    def run(self, outputs: list[str], features: NDArray[np.float32]) -> list[NDArray[np.float32]]:
        """The named graph outputs, computed from the compiled margins."""
        result: list[NDArray[np.float32]] = self.tail.run(
            outputs, {self.margin_name: self.margins(features)}
        )
        return result


def compile_trees(model_bytes: bytes, *, threads: int = 1) -> CompiledTrees:
    """The compiled form of a tree-ensemble model file.

    Raises:
        Unsupported: the kernels are not loaded, or the graph is not one input feeding one
            ``TreeEnsembleRegressor`` (SUM, one target, ``BRANCH_LT`` / ``BRANCH_LEQ``
            splits, one weight per leaf) whose output feeds every other node.
    """
    if _accel.kernels is None:
        raise Unsupported("the compiled kernels are not loaded")
    if _TREE_OP.encode() not in model_bytes:  # a network: no need to read its weights
        raise Unsupported("not one input and one TreeEnsembleRegressor")
    try:
        graph = read_model(model_bytes)
    except WireError as exc:
        raise Unsupported(f"unreadable graph: {exc}") from exc
    trees = [n for n in graph.nodes if n.op_type == _TREE_OP and n.domain == _ML_DOMAIN]
    if len(graph.inputs) != 1 or len(trees) != 1:
        raise Unsupported("not one input and one TreeEnsembleRegressor")
    (tree,), (input_name, _) = trees, graph.inputs[0]
    rest = [n for n in graph.nodes if n is not tree]
    if tree.inputs != [input_name] or len(tree.outputs) != 1 or not rest:
        raise Unsupported("the trees must read the input and feed the rest of the graph")
    if any(input_name in n.inputs for n in rest):
        raise Unsupported("other nodes read the model's input")
    if any(name == input_name for name, _ in graph.outputs):
        raise Unsupported("the input is also an output")
    nodes, roots, depths, width, mirrored = _tree_arrays(tree)
    base = _base_value(tree)
    tail_bytes = write_model(graph, rest, [(tree.outputs[0], 2)], graph.initializers)
    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    options.log_severity_level = 3
    try:
        tail = ort.InferenceSession(tail_bytes, options, providers=["CPUExecutionProvider"])
    except Exception as exc:  # onnxruntime raises its own, unexported exception types
        raise Unsupported(f"the graph after the trees does not load on its own: {exc}") from exc
    return CompiledTrees(nodes, roots, depths, base, width, mirrored, tree.outputs[0], tail)


def probe_rows(
    compiled: CompiledTrees, width: int | None = None, rows: int = 256, seed: int = 0
) -> NDArray[np.float32]:
    """Feature rows that exercise every split: each value is a threshold of its column,
    the float just below or above it, NaN or an infinity (the edges where a walk that
    compares differently would part from onnxruntime's). ``width``: the model's input
    width, when it has more columns than the trees read."""
    rng = np.random.default_rng(seed)
    internal = compiled.nodes["child"][:, 0] != np.arange(len(compiled.nodes))
    feature = compiled.nodes["feature"][internal]
    threshold = compiled.nodes["value"][internal]
    mirror = feature >= compiled.width  # -x < value: the split sits at -value
    feature = np.where(mirror, feature - compiled.width, feature)
    threshold = np.where(mirror, -threshold, threshold).astype(np.float32)
    width = max(width or 0, compiled.width)
    out = rng.normal(0.0, 10.0, size=(rows, width)).astype(np.float32)
    for column in range(width):
        own = threshold[feature == column]
        if own.size == 0:
            continue
        at = rng.choice(own, rows)
        side = rng.integers(-1, 2, rows)  # just below, exactly at, just above
        out[:, column] = np.where(
            side < 0,
            np.nextafter(at, np.float32(-np.inf)),
            np.where(side > 0, np.nextafter(at, np.float32(np.inf)), at),
        )
    special = rng.random(out.shape)
    out[special < 0.05] = np.nan
    out[(special >= 0.05) & (special < 0.07)] = np.inf
    out[(special >= 0.07) & (special < 0.09)] = -np.inf
    return out


def _tree_arrays(
    tree: Node,
) -> tuple[NDArray[np.void], NDArray[np.int32], NDArray[np.int32], int, bool]:
    """The kernel's nodes, each tree's root and depth (in onnxruntime's summation order:
    trees by first appearance), the number of feature columns read, and whether any
    split reads a mirrored column."""
    a = tree.attributes
    if set(a) - _KNOWN:
        raise Unsupported(f"attributes the walk does not reproduce: {sorted(set(a) - _KNOWN)}")
    if a.get("n_targets", 1) != 1 or a.get("aggregate_function", b"SUM") != b"SUM":
        raise Unsupported("only one target summed over the trees")
    if a.get("post_transform", b"NONE") != b"NONE":
        raise Unsupported("only post_transform NONE")
    tree_ids = _ints(a, "nodes_treeids")
    node_ids = _ints(a, "nodes_nodeids")
    count = len(tree_ids)
    modes = a.get("nodes_modes")
    if not isinstance(modes, list) or len(modes) != count or count == 0:
        raise Unsupported("nodes_modes must name every node")
    columns = {
        name: _ints(a, name, count)
        for name in ("nodes_featureids", "nodes_truenodeids", "nodes_falsenodeids")
    }
    columns["nodes_missing_value_tracks_true"] = (
        _ints(a, "nodes_missing_value_tracks_true", count)
        if "nodes_missing_value_tracks_true" in a
        else np.zeros(count, dtype=np.int64)
    )
    values = _floats(a, "nodes_values", count)
    leaf = np.array([m == b"LEAF" for m in modes], dtype=bool)
    if any(m not in _MODES and m != b"LEAF" for m in modes):
        raise Unsupported(f"split modes other than {sorted(_MODES)}")
    leq = np.array([m == b"BRANCH_LEQ" for m in modes], dtype=bool)

    # Position of each (tree, node id) pair: trees in order of first appearance.
    order_of_tree = {t: i for i, t in enumerate(dict.fromkeys(tree_ids.tolist()))}
    tree_index = np.array([order_of_tree[t] for t in tree_ids.tolist()], dtype=np.int64)
    key = tree_index * (1 << 32) + node_ids
    if node_ids.min() < 0 or node_ids.max() >= 1 << 31 or len(np.unique(key)) != count:
        raise Unsupported("node ids must be unique within a tree")
    sorter = np.argsort(key, kind="stable")
    sorted_keys = key[sorter]

    def position(tree_of: NDArray[np.int64], ids: NDArray[np.int64]) -> NDArray[np.int64]:
        wanted = tree_of * (1 << 32) + ids
        at = np.searchsorted(sorted_keys, wanted)
        at = np.minimum(at, count - 1)
        if not np.array_equal(sorted_keys[at], wanted):
            raise Unsupported("a node names a child or leaf that is not in its tree")
        return sorter[at]

    here = np.arange(count, dtype=np.int64)
    inner = ~leaf
    true_child = here.copy()
    false_child = here.copy()
    true_child[inner] = position(tree_index[inner], columns["nodes_truenodeids"][inner])
    false_child[inner] = position(tree_index[inner], columns["nodes_falsenodeids"][inner])
    feature = np.where(leaf, 0, columns["nodes_featureids"])
    if feature.min() < 0 or feature.max() > _MAX_FEATURES:
        raise Unsupported("feature ids out of range")
    width = int(feature[inner].max()) + 1 if inner.any() else 1
    nan_true = inner & (columns["nodes_missing_value_tracks_true"] != 0)
    threshold, column = _one_rule(values, feature, leq, nan_true, width)
    true_child, false_child = (
        np.where(nan_true, false_child, true_child),
        np.where(nan_true, true_child, false_child),
    )

    node_value = np.where(leaf, np.float32(0.0), threshold).astype(np.float32)
    weight_tree = _ints(a, "target_treeids")
    weight_node = _ints(a, "target_nodeids", len(weight_tree))
    weights = _floats(a, "target_weights", len(weight_tree))
    if not np.all(_ints(a, "target_ids", len(weight_tree)) == 0):
        raise Unsupported("only target 0")
    if any(t not in order_of_tree for t in weight_tree.tolist()):
        raise Unsupported("a weight names a tree without nodes")
    weighted = position(
        np.array([order_of_tree[t] for t in weight_tree.tolist()], dtype=np.int64), weight_node
    )
    if len(np.unique(weighted)) != len(weighted) or not np.all(leaf[weighted]):
        raise Unsupported("each leaf must carry at most one weight")
    node_value[weighted] = weights

    n_trees = len(order_of_tree)
    roots = np.full(n_trees, -1, dtype=np.int64)
    is_root = node_ids == 0
    roots[tree_index[is_root]] = here[is_root]
    if np.any(roots < 0):
        raise Unsupported("every tree needs a node 0")
    depths = _depths(roots, tree_index, leaf, true_child, false_child)

    nodes = np.zeros(count, dtype=NODE_DTYPE)
    nodes["value"] = node_value
    nodes["feature"] = np.where(leaf, 0, column).astype(np.int32)
    nodes["child"][:, 0] = true_child
    nodes["child"][:, 1] = false_child
    return nodes, roots.astype(np.int32), depths, width, bool(nan_true.any())


def _one_rule(
    threshold: NDArray[np.float32],
    feature: NDArray[np.int64],
    leq: NDArray[np.bool_],
    nan_true: NDArray[np.bool_],
    width: int,
) -> tuple[NDArray[np.float32], NDArray[np.int64]]:
    """Each split as ``x[column] < value`` (the kernel's only rule), and its column.

    Exact in float32, for every x including NaN and the infinities:
    - ``x <= t`` is ``x < nextafter(t, +inf)``;
    - a split that sends NaN to its true branch is the negation of ``x >= t`` (``x > t``
      for ``<=``), which is ``-x <= -t`` = ``-x < nextafter(-t, +inf)`` (``-x < -t``):
      the column ``-x`` (``width + feature``) with the children swapped by the caller.
    The two forms that have no such rewrite (``x <= +inf``; ``x < -inf`` with NaN true)
    are left to onnxruntime.
    """
    up = np.float32(np.inf)
    plain_leq = leq & ~nan_true
    if np.any(plain_leq & (threshold == up)) or np.any(nan_true & ~leq & (threshold == -up)):
        raise Unsupported("a split at an infinite threshold the walk cannot rewrite")
    value = np.where(plain_leq, np.nextafter(threshold, up), threshold)
    value = np.where(nan_true & ~leq, np.nextafter(-threshold, up), value)
    value = np.where(nan_true & leq, -threshold, value)
    column = np.where(nan_true, width + feature, feature)
    return value.astype(np.float32), column


def _depths(
    roots: NDArray[np.int64],
    tree_index: NDArray[np.int64],
    leaf: NDArray[np.bool_],
    true_child: NDArray[np.int64],
    false_child: NDArray[np.int64],
) -> NDArray[np.int32]:
    """Each tree's depth (splits on its longest path), level by level over all trees."""
    depths = np.zeros(len(roots), dtype=np.int32)
    frontier = roots[~leaf[roots]]
    level = 0
    while frontier.size:
        level += 1
        if level > MAX_DEPTH:
            raise Unsupported(f"trees deeper than {MAX_DEPTH} (or a cycle)")
        depths[tree_index[frontier]] = level
        children = np.concatenate([true_child[frontier], false_child[frontier]])
        frontier = np.unique(children[~leaf[children]])
    return depths


def _base_value(tree: Node) -> float:
    base = tree.attributes.get("base_values")
    if base is None:
        return 0.0
    if not isinstance(base, np.ndarray) or base.dtype != np.float32 or base.size > 1:
        raise Unsupported("base_values must be one float")
    return float(base[0]) if base.size else 0.0


def _ints(
    attributes: Mapping[str, object], name: str, count: int | None = None
) -> NDArray[np.int64]:
    value = attributes.get(name)
    if not isinstance(value, np.ndarray) or value.dtype != np.int64:
        raise Unsupported(f"{name} must be a list of ints")
    if count is not None and len(value) != count:
        raise Unsupported(f"{name} must have one entry per node or weight")
    return value


def _floats(attributes: Mapping[str, object], name: str, count: int) -> NDArray[np.float32]:
    value = attributes.get(name)
    if not isinstance(value, np.ndarray) or value.dtype != np.float32 or len(value) != count:
        raise Unsupported(f"{name} must be one float per node or weight")
    return value


__all__ = [
    "NODE_ATTRIBUTES",
    "NODE_DTYPE",
    "CompiledTrees",
    "Unsupported",
    "compile_trees",
    "probe_rows",
]
