"""export_onnx: the hand-built graph scores what the torch net scores, and says what it is."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable

import numpy as np
import onnx
import onnxruntime as ort
import pytest
import torch
from numpy.typing import NDArray

from vigil.errors import ModelError
from vigil.train.export import OPSET, export_onnx
from vigil.train.mlp import FeedForwardNet, MLPConfig, train_mlp, train_nets

from .synthetic import WIDTH, labelled, realistic_features

#: Agreement required between torch (eval mode) and onnxruntime on the probability.
PARITY = 1e-5

Scores = Callable[[NDArray[np.float32]], tuple[NDArray[np.float32], NDArray[np.float32]]]


#: The column the offset nets correct (a hash bucket in the synthetic layout, overwritten
#: with a noisy log-odds of the label, like PowerShell's last column ``wide_logit``).
OFFSET = WIDTH - 1


def _trained(hidden: tuple[int, ...], offset_column: int | None = None) -> FeedForwardNet:
    # A few epochs on realistic data, so standardization and batch-norm statistics are far
    # from their initial values and the folding is really exercised.
    x, y = labelled(3000, 0)
    if offset_column is not None:
        noise = np.random.default_rng(1).normal(0.0, 3.0, size=y.shape)
        x[:, offset_column] = (4.0 * y - 2.0 + noise).astype(np.float32)
    config = MLPConfig(hidden=hidden, max_epochs=3, patience=10, offset_column=offset_column)
    return train_mlp(x[:2500], y[:2500], x[2500:], y[2500:], config, threads=1).model


def _session(model_bytes: bytes) -> ort.InferenceSession:
    options = ort.SessionOptions()
    options.intra_op_num_threads = 1
    return ort.InferenceSession(model_bytes, options, providers=["CPUExecutionProvider"])


def _torch(model: FeedForwardNet, x: NDArray[np.float32]) -> NDArray[np.float32]:
    with torch.no_grad():
        return model(torch.from_numpy(x)).numpy()


@pytest.fixture(
    scope="module",
    params=[((64, 32), None), ((32,), None), ((128, 64, 32), None), ((64, 32), OFFSET)],
    ids=["(64, 32)", "(32,)", "(128, 64, 32)", "(64, 32)-offset"],
)
def trained(request: pytest.FixtureRequest) -> tuple[FeedForwardNet, bytes]:
    model = _trained(*request.param)
    return model, export_onnx(model, WIDTH)


def _gaussian(n: int, seed: int) -> NDArray[np.float32]:
    """N(0, 1) everywhere, 1% of entries scaled up to the extractor's largest (~15) and
    beyond (up to ~60)."""
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, WIDTH))
    large = rng.random((n, WIDTH)) < 0.01
    x[large] *= 15.0
    return x.astype(np.float32)


def _with_log_odds(n: int, seed: int) -> NDArray[np.float32]:
    """Realistic rows whose offset column holds log-odds as the wide part gives them
    (±30 at the extremes)."""
    x = realistic_features(n, seed)
    x[:, OFFSET] = np.random.default_rng(seed).normal(0.0, 8.0, size=n).clip(-30, 30)
    return x


class TestParity:
    @pytest.mark.parametrize(
        "inputs",
        [
            pytest.param(lambda: realistic_features(4096, 11), id="sparse-realistic"),
            pytest.param(lambda: _gaussian(4096, 12), id="gaussian-with-large-values"),
            pytest.param(lambda: np.zeros((3, WIDTH), np.float32), id="all-zero-rows"),
            pytest.param(lambda: realistic_features(1, 13), id="one-row"),
            pytest.param(lambda: _with_log_odds(4096, 16), id="offset-column-log-odds"),
        ],
    )
    def test_onnxruntime_probability_matches_torch_eval_mode(
        self,
        trained: tuple[FeedForwardNet, bytes],
        inputs: Callable[[], NDArray[np.float32]],
    ) -> None:
        model, model_bytes = trained
        x = inputs()
        probability, logit = _session(model_bytes).run(["probability", "logit"], {"features": x})
        expected_logit = _torch(model, x)
        expected = torch.sigmoid(torch.from_numpy(expected_logit)).numpy()
        assert probability.shape == logit.shape == (x.shape[0],)
        assert probability.dtype == logit.dtype == np.float32
        assert np.abs(probability - expected).max() <= PARITY
        assert np.abs(logit - expected_logit).max() <= 1e-5 * max(1.0, np.abs(expected_logit).max())

    def test_huge_inputs_agree_to_float32_precision(
        self, trained: tuple[FeedForwardNet, bytes]
    ) -> None:
        # x1000 in every column: logits reach ~1e4 and both sides accumulate float32
        # rounding of that size in different orders (torch standardizes, then multiplies;
        # the export folds standardization into the weights). Compare against float64.
        model, model_bytes = trained
        x = (np.random.default_rng(14).normal(size=(2048, WIDTH)) * 1000).astype(np.float32)
        (logit,) = _session(model_bytes).run(["logit"], {"features": x})
        with torch.no_grad():
            exact = copy.deepcopy(model).double()(torch.from_numpy(x).double()).numpy()
        single = _torch(model, x)
        scale = np.abs(exact).max()
        assert np.abs(logit - exact).max() <= 1e-5 * scale
        assert np.abs(single - exact).max() <= 1e-5 * scale

    def test_scores_are_the_same_in_batches_as_row_by_row(
        self, trained: tuple[FeedForwardNet, bytes]
    ) -> None:
        _, model_bytes = trained
        session = _session(model_bytes)
        x = realistic_features(5, 15)
        (batch,) = session.run(["probability"], {"features": x})
        rows = [session.run(["probability"], {"features": x[i : i + 1]})[0][0] for i in range(5)]
        np.testing.assert_allclose(batch, rows, rtol=0, atol=1e-6)


class TestGraph:
    def test_graph_is_lean_gemms_and_activations_only(
        self, trained: tuple[FeedForwardNet, bytes]
    ) -> None:
        model, model_bytes = trained
        graph = onnx.load_from_string(model_bytes).graph
        ops = [node.op_type for node in graph.node]
        offset = [] if model.offset_column is None else ["Gather", "Mul", "Add"]
        assert ops == ["Gemm", "LeakyRelu"] * len(model.hidden) + [
            "Gemm",
            "Squeeze",
            *offset,
            "Sigmoid",
        ]
        (features,) = graph.input
        assert features.name == "features"
        dims = features.type.tensor_type.shape.dim
        assert (dims[0].dim_param, dims[1].dim_value) == ("N", WIDTH)
        assert [o.name for o in graph.output] == ["probability", "logit"]
        weights = [i for i in graph.initializer if i.name not in ("squeeze_axes", "offset_index")]
        assert all(i.data_type == onnx.TensorProto.FLOAT for i in weights)

    def test_metadata_names_features_and_architecture(self) -> None:
        model = _trained((32,))
        names = [f"f{i}" for i in range(WIDTH)]
        proto = onnx.load_from_string(
            export_onnx(model, WIDTH, feature_names=names, doc="powershell test model")
        )
        meta = {p.key: p.value for p in proto.metadata_props}
        assert meta["vigil.n_features"] == str(WIDTH)
        assert meta["vigil.architecture"].startswith("vigil.feed_forward/1 widths=1400-32-1")
        assert json.loads(meta["vigil.feature_names"]) == names
        assert proto.doc_string == "powershell test model"
        assert proto.opset_import[0].version == OPSET
        onnx.checker.check_model(proto, full_check=True)

    def test_offset_net_adds_its_column_and_records_it(self) -> None:
        model = _trained((32,), OFFSET)
        assert model.offset_scale is not None
        assert model.offset_scale.item() != 1.0  # the scale was trained
        proto = onnx.load_from_string(export_onnx(model, WIDTH))
        meta = {p.key: p.value for p in proto.metadata_props}
        assert meta["vigil.offset_column"] == str(OFFSET)
        assert f"offset=column[{OFFSET}]" in meta["vigil.architecture"]
        # The logit is the net's correction plus scale * the raw offset column (the column
        # also feeds the net, so the correction is taken from the same net without offset).
        x = _with_log_odds(256, 17)
        (logit,) = _session(proto.SerializeToString()).run(["logit"], {"features": x})
        plain = copy.deepcopy(model)
        plain.offset_column = None
        expected = _torch(plain, x) + model.offset_scale.item() * x[:, OFFSET]
        assert np.abs(logit - expected).max() <= 1e-5 * max(1.0, np.abs(expected).max())

    def test_plain_net_has_no_offset_nodes_or_metadata(self) -> None:
        proto = onnx.load_from_string(export_onnx(_trained((32,)), WIDTH))
        assert "vigil.offset_column" not in {p.key for p in proto.metadata_props}
        assert not {"Gather", "Mul", "Add"} & {node.op_type for node in proto.graph.node}

    def test_same_model_gives_the_same_bytes(self, trained: tuple[FeedForwardNet, bytes]) -> None:
        model, model_bytes = trained
        assert export_onnx(model, WIDTH) == model_bytes

    def test_width_mismatch_is_refused(self, trained: tuple[FeedForwardNet, bytes]) -> None:
        model, _ = trained
        with pytest.raises(ModelError, match=r"trained on 1400 features.*for 1399"):
            export_onnx(model, WIDTH - 1)
        with pytest.raises(ModelError, match="2 feature names for 1400"):
            export_onnx(model, WIDTH, feature_names=["a", "b"])

    def test_constant_column_is_centred_not_scaled(self) -> None:
        x, y = labelled(600, 0, width=40)
        x[:, 5] = 3.0
        result = train_mlp(x[:500], y[:500], x[500:], y[500:], MLPConfig(max_epochs=1), threads=1)
        assert float(result.model.std[5]) == 1.0
        assert float(result.model.mean[5]) == pytest.approx(3.0)
        probe = x[500:].copy()
        probe[:, 5] = 1e4  # never seen in training: must not divide by ~0
        (p,) = _session(export_onnx(result.model, 40)).run(["probability"], {"features": probe})
        assert np.isfinite(p).all()


@pytest.fixture(scope="module", params=[None, OFFSET], ids=["plain", "offset"])
def nets(request: pytest.FixtureRequest) -> list[FeedForwardNet]:
    x, y = labelled(3000, 0)
    if request.param is not None:
        noise = np.random.default_rng(1).normal(0.0, 3.0, size=y.shape)
        x[:, request.param] = (4.0 * y - 2.0 + noise).astype(np.float32)
    config = MLPConfig(
        hidden=(32, 16), max_epochs=3, patience=10, offset_column=request.param, nets=3
    )
    results = train_nets(x[:2500], y[:2500], x[2500:], y[2500:], config, threads=1)
    return [r.model for r in results]


class TestSeveralNets:
    """Several nets export as one graph of the same shape whose logit is their mean."""

    @pytest.mark.parametrize(
        "inputs",
        [
            pytest.param(lambda: realistic_features(4096, 11), id="sparse-realistic"),
            pytest.param(lambda: _gaussian(4096, 12), id="gaussian-with-large-values"),
            pytest.param(lambda: _with_log_odds(4096, 16), id="offset-column-log-odds"),
        ],
    )
    def test_logit_is_the_mean_of_the_nets_logits(
        self, nets: list[FeedForwardNet], inputs: Callable[[], NDArray[np.float32]]
    ) -> None:
        x = inputs()
        probability, logit = _session(export_onnx(nets, WIDTH)).run(
            ["probability", "logit"], {"features": x}
        )
        expected_logit = np.mean([_torch(net, x) for net in nets], axis=0)
        expected = torch.sigmoid(torch.from_numpy(expected_logit)).numpy()
        assert np.abs(probability - expected).max() <= PARITY
        assert np.abs(logit - expected_logit).max() <= 1e-5 * max(1.0, np.abs(expected_logit).max())
        # and it is not just one of them
        assert all(np.abs(logit - _torch(net, x)).max() > 1e-3 for net in nets)

    def test_one_net_in_a_list_is_that_net(self, nets: list[FeedForwardNet]) -> None:
        assert export_onnx([nets[0]], WIDTH) == export_onnx(nets[0], WIDTH)

    def test_same_shape_of_graph_and_metadata_say_how_many(
        self, nets: list[FeedForwardNet]
    ) -> None:
        proto = onnx.load_from_string(export_onnx(nets, WIDTH))
        single = onnx.load_from_string(export_onnx(nets[0], WIDTH))
        assert [n.op_type for n in proto.graph.node] == [n.op_type for n in single.graph.node]
        width = {i.name: list(i.dims) for i in proto.graph.initializer}
        assert width["w0"] == [3 * 32, WIDTH]
        assert width["w1"] == [3 * 16, 3 * 32]
        meta = {p.key: p.value for p in proto.metadata_props}
        assert meta["vigil.architecture"].startswith("mean logit of 3 nets: ")

    def test_nets_of_different_shapes_are_refused(self, nets: list[FeedForwardNet]) -> None:
        with pytest.raises(ModelError, match="different architectures"):
            export_onnx([nets[0], _trained((32,))], WIDTH)
        with pytest.raises(ModelError, match="no net"):
            export_onnx([], WIDTH)
