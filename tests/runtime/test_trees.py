"""The compiled tree walk gives onnxruntime's outputs bit for bit, or is not used at all."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import numpy as np
import onnxruntime as ort
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from numpy.typing import NDArray
from onnx import TensorProto, helper, numpy_helper

from vigil.features import _accel
from vigil.runtime import scorer as scorer_module
from vigil.runtime.scorer import TREE_KERNEL_MIN_ROWS, LoadedScorerModel
from vigil.runtime.trees import (
    NODE_ATTRIBUTES,
    NODE_DTYPE,
    CompiledTrees,
    Unsupported,
    compile_trees,
    probe_rows,
)
from vigil.store import Store
from vigil.testing.models import logistic_onnx
from vigil.train.trees import TrainedTrees, TreeConfig, train_trees

pytestmark = pytest.mark.skipif(_accel.kernels is None, reason="needs the compiled kernels")

WIDTH = 6


def _session(model_bytes: bytes) -> ort.InferenceSession:
    options = ort.SessionOptions()
    options.intra_op_num_threads = 1
    return ort.InferenceSession(model_bytes, options, providers=["CPUExecutionProvider"])


def _same_outputs(model_bytes: bytes, compiled: CompiledTrees, rows: NDArray[np.float32]) -> None:
    session = _session(model_bytes)
    names = [o.name for o in session.get_outputs()]
    want = session.run(names, {session.get_inputs()[0].name: rows})
    got = compiled.run(names, rows)
    for name, a, b in zip(names, want, got, strict=True):
        assert a.shape == b.shape, name
        assert np.array_equal(a, b, equal_nan=True), (name, np.max(np.abs(a - b)))


# -- boosted trees as vigil trains them --------------------------------------------------


def _dataset(n: int, seed: int) -> tuple[NDArray[np.float32], NDArray[np.int64]]:
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, WIDTH)).astype(np.float32)
    x[:, 5] = rng.integers(0, 4, size=n)  # ties at the thresholds
    x[rng.random(x.shape) < 0.1] = np.nan
    z = 1.5 * np.nan_to_num(x[:, 0]) - np.nan_to_num(x[:, 1]) * np.nan_to_num(x[:, 2]) - 1.0
    z = np.where(np.isnan(x[:, 3]), 2.0, z)  # a missing value is itself a signal
    return x, (rng.random(n) < 1 / (1 + np.exp(-z))).astype(np.int64)


@pytest.fixture(scope="module", params=["platt", "isotonic", "none"])
def trained(request: pytest.FixtureRequest) -> TrainedTrees:
    config = TreeConfig(
        n_estimators=60, max_depth=5, early_stopping_rounds=0, threads=1, calibration=request.param
    )
    x, y = _dataset(4000, 1)
    xv, yv = _dataset(2000, 2)
    return train_trees(x, y, xv, yv, tuple(f"f{i}" for i in range(WIDTH)), config)


def _rows(kind: str, compiled: CompiledTrees) -> NDArray[np.float32]:
    rng = np.random.default_rng(7)
    if kind == "held-out":
        return _dataset(3000, 3)[0]
    if kind == "on-thresholds":
        return probe_rows(compiled, WIDTH, rows=3000, seed=8)
    if kind == "all-nan":
        return np.full((70, WIDTH), np.nan, np.float32)
    if kind == "infinities":
        return rng.choice(np.array([np.inf, -np.inf, 0.0], np.float32), size=(200, WIDTH))
    if kind == "one-row":
        return _dataset(1, 4)[0]
    if kind == "block-edges":  # 63, 64, 65 rows: the kernel walks 64 rows at a time
        return _dataset(64 * 3 + 1, 5)[0]
    raise AssertionError(kind)


class TestTrainedModels:
    @pytest.mark.parametrize(
        "kind", ["held-out", "on-thresholds", "all-nan", "infinities", "one-row", "block-edges"]
    )
    def test_outputs_equal_onnxruntime_bit_for_bit(self, trained: TrainedTrees, kind: str) -> None:
        compiled = compile_trees(trained.onnx_bytes)
        _same_outputs(trained.onnx_bytes, compiled, _rows(kind, compiled))

    def test_margins_are_xgboosts(self, trained: TrainedTrees) -> None:
        compiled = compile_trees(trained.onnx_bytes)
        rows = _dataset(500, 6)[0]
        assert np.allclose(compiled.margins(rows)[:, 0], trained.margin(rows), atol=1e-5)

    def test_wider_inputs_than_the_trees_read(self, trained: TrainedTrees) -> None:
        compiled = compile_trees(trained.onnx_bytes)
        rows = _dataset(300, 9)[0]
        wide = np.hstack([rows, np.full((300, 3), 99.0, np.float32)])
        assert np.array_equal(compiled.margins(wide), compiled.margins(rows))


# -- hand-made ensembles: every split mode and missing-value rule the walk supports ------


@st.composite
def ensembles(draw: st.DrawFn) -> tuple[bytes, list[float]]:
    """A random TreeEnsembleRegressor (LT / LEQ splits, NaN either way, uneven depths)
    followed by an Identity, and the thresholds it uses."""
    thresholds = draw(st.lists(st.floats(-3, 3, width=32), min_size=1, max_size=6, unique=True))
    attrs: dict[str, list[Any]] = {
        k: []
        for k in (
            *NODE_ATTRIBUTES,
            "target_treeids",
            "target_nodeids",
            "target_ids",
            "target_weights",
        )
    }
    n_trees = draw(st.integers(1, 5))
    tree_ids = draw(st.permutations(list(range(10, 10 + n_trees))))  # ids need not be 0..n-1
    for tree in tree_ids:
        next_id = [1]

        def grow(node: int, depth: int, tree: int = tree, counter: list[int] = next_id) -> None:
            attrs["nodes_treeids"].append(tree)
            attrs["nodes_nodeids"].append(node)
            if depth == 0 or (depth < 4 and draw(st.booleans())):
                attrs["nodes_featureids"].append(0)
                attrs["nodes_modes"].append("LEAF")
                attrs["nodes_values"].append(0.0)
                attrs["nodes_truenodeids"].append(0)
                attrs["nodes_falsenodeids"].append(0)
                attrs["nodes_missing_value_tracks_true"].append(0)
                attrs["target_treeids"].append(tree)
                attrs["target_nodeids"].append(node)
                attrs["target_ids"].append(0)
                attrs["target_weights"].append(draw(st.floats(-2, 2, width=32)))
                return
            yes, no = counter[0], counter[0] + 1
            counter[0] += 2
            attrs["nodes_featureids"].append(draw(st.integers(0, WIDTH - 1)))
            attrs["nodes_modes"].append(draw(st.sampled_from(["BRANCH_LT", "BRANCH_LEQ"])))
            attrs["nodes_values"].append(draw(st.sampled_from(thresholds)))
            attrs["nodes_truenodeids"].append(yes)
            attrs["nodes_falsenodeids"].append(no)
            attrs["nodes_missing_value_tracks_true"].append(int(draw(st.booleans())))
            grow(yes, depth - 1)
            grow(no, depth - 1)

        grow(0, draw(st.integers(0, 5)))
    base = draw(st.floats(-1, 1, width=32))
    graph = helper.make_graph(
        [
            helper.make_node(
                "TreeEnsembleRegressor",
                ["features"],
                ["margin"],
                domain="ai.onnx.ml",
                n_targets=1,
                aggregate_function="SUM",
                post_transform="NONE",
                base_values=[base],
                **attrs,
            ),
            helper.make_node("Identity", ["margin"], ["out"]),
        ],
        "handmade",
        [helper.make_tensor_value_info("features", TensorProto.FLOAT, ["N", WIDTH])],
        [helper.make_tensor_value_info("out", TensorProto.FLOAT, ["N", 1])],
    )
    model = helper.make_model(
        graph,
        opset_imports=[helper.make_opsetid("", 17), helper.make_opsetid("ai.onnx.ml", 3)],
        ir_version=8,
    )
    return model.SerializeToString(), thresholds


def _edge_rows(thresholds: list[float], n: int, seed: int) -> NDArray[np.float32]:
    """Values at the thresholds, a float32 step either side, NaN and infinities."""
    rng = np.random.default_rng(seed)
    at = np.asarray(thresholds, dtype=np.float32)
    pool = np.concatenate(
        [
            at,
            np.nextafter(at, np.float32(np.inf)),
            np.nextafter(at, np.float32(-np.inf)),
            np.array([np.nan, np.inf, -np.inf, 0.0], np.float32),
        ]
    )
    return rng.choice(pool, size=(n, WIDTH)).astype(np.float32)


class TestHandMadeEnsembles:
    @settings(max_examples=150, deadline=None)
    @given(ensembles(), st.integers(0, 2**16))
    def test_every_mode_and_missing_rule_equals_onnxruntime(
        self, ensemble: tuple[bytes, list[float]], seed: int
    ) -> None:
        model_bytes, thresholds = ensemble
        compiled = compile_trees(model_bytes)
        _same_outputs(model_bytes, compiled, _edge_rows(thresholds, 130, seed))


# -- graphs the walk must leave to onnxruntime -------------------------------------------


def _one_tree(**overrides: Any) -> bytes:
    attrs: dict[str, Any] = {
        "nodes_treeids": [0, 0, 0],
        "nodes_nodeids": [0, 1, 2],
        "nodes_featureids": [0, 0, 0],
        "nodes_modes": ["BRANCH_LT", "LEAF", "LEAF"],
        "nodes_values": [0.5, 0.0, 0.0],
        "nodes_truenodeids": [1, 0, 0],
        "nodes_falsenodeids": [2, 0, 0],
        "target_treeids": [0, 0],
        "target_nodeids": [1, 2],
        "target_ids": [0, 0],
        "target_weights": [1.0, -1.0],
        "n_targets": 1,
        "aggregate_function": "SUM",
        "post_transform": "NONE",
    }
    op = overrides.pop("op", "TreeEnsembleRegressor")
    tail = overrides.pop("tail", True)
    attrs.update(overrides)
    attrs = {k: v for k, v in attrs.items() if v is not None}
    nodes = [helper.make_node(op, ["features"], ["margin"], domain="ai.onnx.ml", **attrs)]
    output = "margin"
    if tail:
        nodes.append(helper.make_node("Identity", ["margin"], ["out"]))
        output = "out"
    graph = helper.make_graph(
        nodes,
        "one_tree",
        [helper.make_tensor_value_info("features", TensorProto.FLOAT, ["N", 2])],
        [helper.make_tensor_value_info(output, TensorProto.FLOAT, ["N", 1])],
    )
    model = helper.make_model(
        graph,
        opset_imports=[helper.make_opsetid("", 17), helper.make_opsetid("ai.onnx.ml", 3)],
        ir_version=8,
    )
    return bytes(model.SerializeToString())


class TestDeclined:
    def test_the_plain_one_tree_model_compiles(self) -> None:
        compiled = compile_trees(_one_tree())
        rows = np.array([[0.0, 0.0], [0.5, 0.0], [1.0, 0.0], [np.nan, 0.0]], np.float32)
        assert compiled.margins(rows)[:, 0].tolist() == [1.0, -1.0, -1.0, -1.0]

    @pytest.mark.parametrize(
        ("overrides", "why"),
        [
            ({"nodes_modes": ["BRANCH_GT", "LEAF", "LEAF"]}, "split modes"),
            ({"aggregate_function": "AVERAGE"}, "one target summed"),
            ({"post_transform": "LOGISTIC"}, "post_transform"),
            ({"n_targets": 2, "target_ids": [0, 1]}, "one target"),
            ({"target_ids": [0, 1]}, "only target 0"),
            ({"target_nodeids": [1, 1]}, "at most one weight"),
            ({"target_nodeids": [0, 2]}, "at most one weight"),
            ({"nodes_truenodeids": [7, 0, 0]}, "not in its tree"),
            ({"nodes_nodeids": [1, 2, 3], "target_nodeids": [2, 3]}, "node 0"),
            ({"nodes_nodeids": [0, 1, 1], "target_nodeids": [1, 1]}, "unique"),
            ({"nodes_hitrates": None, "base_values": [0.1, 0.2]}, "base_values"),
            ({"tail": False}, "feed the rest"),
            ({"op": "TreeEnsembleClassifier"}, "one TreeEnsembleRegressor"),
        ],
    )
    def test_graphs_it_does_not_reproduce(self, overrides: dict[str, Any], why: str) -> None:
        with pytest.raises(Unsupported, match=why):
            compile_trees(_one_tree(**overrides))

    def test_a_tensor_valued_attribute(self) -> None:
        tensor = numpy_helper.from_array(np.array([0.5], np.float32), "base")
        with pytest.raises(Unsupported, match="tensors"):
            compile_trees(_one_tree(base_values_as_tensor=tensor))

    def test_a_cycle(self) -> None:
        with pytest.raises(Unsupported, match="deeper than"):
            compile_trees(
                _one_tree(
                    nodes_modes=["BRANCH_LT", "BRANCH_LT", "LEAF"],
                    nodes_truenodeids=[1, 0, 0],
                    nodes_falsenodeids=[2, 0, 0],
                    target_treeids=[0],
                    target_nodeids=[2],
                    target_ids=[0],
                    target_weights=[1.0],
                )
            )

    def test_a_network_is_not_trees(self) -> None:
        with pytest.raises(Unsupported, match="TreeEnsembleRegressor"):
            compile_trees(logistic_onnx(np.ones(3, np.float32), 0.0))

    def test_garbage(self) -> None:
        with pytest.raises(Unsupported, match="unreadable"):
            compile_trees(b"\x0a\xff\xffTreeEnsembleRegressor")

    def test_without_the_kernels(self) -> None:
        with _accel.numpy_only(), pytest.raises(Unsupported, match="not loaded"):
            compile_trees(_one_tree())


class TestKernelChecks:
    """Bad arrays raise instead of reading out of bounds."""

    @pytest.fixture
    def parts(self) -> dict[str, Any]:
        compiled = compile_trees(_one_tree())
        return {
            "nodes": compiled.nodes.copy(),
            "roots": compiled.roots.copy(),
            "depths": compiled.depths.copy(),
            "features": np.zeros((3, 2), np.float32),
            "width": 2,
            "base": 0.0,
            "out": np.zeros(3, np.float32),
        }

    def _call(self, parts: dict[str, Any]) -> None:
        kernels = _accel.require()
        kernels.tree_margins(*parts.values())

    def test_a_good_call(self, parts: dict[str, Any]) -> None:
        self._call(parts)
        assert parts["out"].tolist() == [1.0, 1.0, 1.0]

    @pytest.mark.parametrize(
        "breaks",
        [
            lambda p: p["nodes"]["child"].__setitem__((0, 0), 3),
            lambda p: p["nodes"]["child"].__setitem__((0, 1), -1),
            lambda p: p["nodes"]["feature"].__setitem__(0, 2),
            lambda p: p["nodes"]["feature"].__setitem__(0, -5),
            lambda p: p["roots"].__setitem__(0, 3),
            lambda p: p["depths"].__setitem__(0, 65),
            lambda p: p.__setitem__("out", np.zeros(4, np.float32)),
            lambda p: p.__setitem__("width", 3),
            lambda p: p.__setitem__("depths", np.zeros(2, np.int32)),
            lambda p: p.__setitem__("nodes", p["nodes"].tobytes()[:-1]),
        ],
    )
    def test_bad_calls_raise(self, parts: dict[str, Any], breaks: Any) -> None:
        breaks(parts)
        with pytest.raises(ValueError, match=r"range|need|whole number"):
            self._call(parts)

    def test_node_layout_is_16_bytes(self) -> None:
        assert NODE_DTYPE.itemsize == 16


# -- the runtime picks it up -------------------------------------------------------------


def _loaded(model_bytes: bytes, folder: Any) -> LoadedScorerModel:
    """``model_bytes`` published to a store in ``folder`` and loaded as the runtime loads it."""
    store = Store(folder)
    store.publish(
        "model",
        model_bytes,
        feature_spec="x",
        threshold=0.5,
        metrics={},
        training_data="t",
        alias="production",
    )
    return LoadedScorerModel(store.load("model", "production"), threads=1)


class TestLoadedModels:
    def test_a_published_tree_model_is_scored_by_the_walk(
        self, trained: TrainedTrees, tmp_path: Any
    ) -> None:
        model = _loaded(trained.onnx_bytes, tmp_path)
        assert model.engine == "vigil trees"
        assert model.trees_declined is None
        rows = _dataset(500, 10)[0]
        for size in (1, TREE_KERNEL_MIN_ROWS - 1, TREE_KERNEL_MIN_ROWS, 500):
            for logit in (False, True):
                got = model.run(rows[:size], logit=logit)
                (want,) = model.session.run(["logit"], {model.input_name: rows[:size]})
                want = np.asarray(want, np.float64)
                expected = want if logit else np.exp(-np.logaddexp(0.0, -want))
                assert np.array_equal(got, expected)
        with _accel.numpy_only():  # the kernels switched off after loading: onnxruntime
            assert np.array_equal(model.run(rows), model.run(rows))

    def test_a_walk_that_disagrees_with_onnxruntime_is_not_used(
        self, trained: TrainedTrees, tmp_path: Any, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        def one_split_backwards(model_bytes: bytes, *, threads: int = 1) -> CompiledTrees:
            """A walk with one bug: the last tree's root takes the wrong branch."""
            compiled = compile_trees(model_bytes, threads=threads)
            nodes = compiled.nodes.copy()
            nodes["child"][compiled.roots[-1]] = nodes["child"][compiled.roots[-1]][::-1]
            return replace(compiled, nodes=nodes)

        monkeypatch.setattr(scorer_module, "compile_trees", one_split_backwards)
        model = _loaded(trained.onnx_bytes, tmp_path)
        assert model.engine == "onnxruntime"
        assert model.trees_declined is not None
        assert "differ from onnxruntime" in model.trees_declined

    def test_a_network_model_stays_with_onnxruntime(self, tmp_path: Any) -> None:
        model = _loaded(logistic_onnx(np.ones(3, np.float32), 0.0), tmp_path)
        assert model.engine == "onnxruntime"


def test_a_trained_domain_model_is_walked_and_scores_as_onnxruntime(
    trained_domain_model: Any,
) -> None:
    """The real pipeline's model (lexical + intel features, Platt): served by the walk,
    and a batch scored through the detection equals onnxruntime on the whole graph."""
    from vigil.runtime import BUILTIN_DETECTIONS

    bound = BUILTIN_DETECTIONS["domain"].bind(
        Store(trained_domain_model.store_path), intel=trained_domain_model.intel, memo_size=0
    )
    model = bound.scorer.current()
    assert model.engine == "vigil trees", model.trees_declined
    names = trained_domain_model.unlisted.column("domain").slice(0, 400)
    scores = bound.score(names)
    matrix = bound.extractor_for(model).transform(names)
    (logit,) = model.session.run(["logit"], {model.input_name: matrix.values})
    expected = np.exp(-np.logaddexp(0.0, -np.asarray(logit, np.float64)))
    assert np.array_equal(scores[matrix.valid], expected[matrix.valid])
