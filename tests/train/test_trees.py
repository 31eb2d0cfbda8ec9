"""Boosted trees: the ONNX graph scores what xgboost + calibration score, NaNs included,
and the calibrated scores read as probabilities."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort
import pytest
from numpy.typing import NDArray
from onnx import TensorProto, helper

from vigil.errors import ConfigError, DataError, ModelError
from vigil.runtime.scorer import LoadedScorerModel
from vigil.store import Store
from vigil.train.calibration import MAX_PIECES, Calibration
from vigil.train.trees import MARGIN, TrainedTrees, TreeConfig, train_trees, trees_to_onnx

#: Agreement required between onnxruntime and xgboost + numpy on probabilities and margins.
PARITY = 1e-5

WIDTH = 8
NAMES = tuple(f"f_{i}" for i in range(WIDTH))

#: Small and fast; enough trees and depth that NaN branches and thresholds are exercised.
SMALL = TreeConfig(n_estimators=80, max_depth=4, early_stopping_rounds=0, threads=1)


def _true_logit(x: NDArray[np.float32]) -> NDArray[np.float64]:
    """Known log-odds, ~15% positives; a missing f_0 is itself a strong signal."""
    f = np.nan_to_num(x.astype(np.float64))
    z = 1.5 * f[:, 0] - f[:, 1] + f[:, 2] * f[:, 3] + 0.5 * np.abs(f[:, 4]) - 2.8
    return np.where(np.isnan(x[:, 0]), 1.0, z)


def _dataset(
    n: int, seed: int, *, missing: float = 0.1
) -> tuple[NDArray[np.float32], NDArray[np.int64], NDArray[np.float64]]:
    """Features (NaN with probability ``missing``), labels and their true probabilities."""
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, WIDTH)).astype(np.float32)
    x[:, 5] = rng.integers(0, 4, size=n)  # a small-count column: many ties at thresholds
    x[rng.random(x.shape) < missing] = np.nan
    p = 1.0 / (1.0 + np.exp(-_true_logit(x)))
    return x, (rng.random(n) < p).astype(np.int64), p


def _train(config: TreeConfig = SMALL, n: int = 4000, **kwargs: object) -> TrainedTrees:
    x_train, y_train, _ = _dataset(n, 1)
    x_valid, y_valid, _ = _dataset(n // 2, 2)
    return train_trees(x_train, y_train, x_valid, y_valid, NAMES, config, **kwargs)  # type: ignore[arg-type]


def _session(model_bytes: bytes) -> ort.InferenceSession:
    options = ort.SessionOptions()
    options.intra_op_num_threads = 1
    return ort.InferenceSession(model_bytes, options, providers=["CPUExecutionProvider"])


def _with_margin_output(model_bytes: bytes) -> bytes:
    """The same model with the tree node's raw margin as a third output."""
    model = onnx.load_from_string(model_bytes)
    model.graph.output.append(helper.make_tensor_value_info(MARGIN, TensorProto.FLOAT, ["N", 1]))
    data: bytes = model.SerializeToString()
    return data


def _at_thresholds(trained: TrainedTrees, n: int, seed: int) -> NDArray[np.float32]:
    """Rows whose values sit exactly on split thresholds or one float32 step below them,
    where ``x < threshold`` and ``x <= threshold`` would disagree."""
    trees = json.loads(trained.booster.save_raw("json"))["learner"]["gradient_booster"]["model"]
    splits: dict[int, list[float]] = {}
    for tree in trees["trees"]:
        for left, feature, value in zip(
            tree["left_children"], tree["split_indices"], tree["split_conditions"], strict=True
        ):
            if left != -1:
                splits.setdefault(feature, []).append(value)
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, WIDTH)).astype(np.float32)
    for feature, values in splits.items():
        column = rng.choice(np.array(values, dtype=np.float32), size=n)
        below = np.nextafter(column, np.float32(-np.inf))
        x[:, feature] = np.where(rng.random(n) < 0.5, column, below)
    return x


def _gaussian(n: int, seed: int, *, missing: float) -> NDArray[np.float32]:
    rng = np.random.default_rng(seed)
    scale = rng.choice([1.0, 10.0], size=(n, WIDTH))
    x: NDArray[np.float32] = (rng.normal(size=(n, WIDTH)) * scale).astype(np.float32)
    x[rng.random(x.shape) < missing] = np.nan
    return x


@pytest.fixture(scope="module", params=["platt", "isotonic", "none"])
def trained(request: pytest.FixtureRequest) -> TrainedTrees:
    config = TreeConfig(
        n_estimators=80, max_depth=4, early_stopping_rounds=0, threads=1, calibration=request.param
    )
    return _train(config)


Inputs = Callable[[TrainedTrees], NDArray[np.float32]]


class TestParity:
    @pytest.mark.parametrize(
        "inputs",
        [
            pytest.param(lambda t: _dataset(3000, 11)[0], id="held-out"),
            pytest.param(lambda t: _gaussian(3000, 12, missing=0.0), id="gaussian-no-nan"),
            pytest.param(lambda t: _gaussian(3000, 13, missing=0.3), id="gaussian-30pct-nan"),
            pytest.param(lambda t: np.full((4, WIDTH), np.nan, np.float32), id="all-nan-rows"),
            pytest.param(lambda t: np.zeros((3, WIDTH), np.float32), id="all-zero-rows"),
            pytest.param(lambda t: _gaussian(1, 14, missing=0.5), id="one-row"),
            pytest.param(lambda t: _at_thresholds(t, 3000, 15), id="on-split-thresholds"),
        ],
    )
    def test_onnxruntime_matches_xgboost_and_numpy_calibration(
        self, trained: TrainedTrees, inputs: Inputs
    ) -> None:
        x = inputs(trained)
        session = _session(_with_margin_output(trained.onnx_bytes))
        probability, logit, margin = session.run(["probability", "logit", MARGIN], {"features": x})
        assert probability.shape == logit.shape == (x.shape[0],)
        assert probability.dtype == logit.dtype == np.float32
        np.testing.assert_allclose(margin.reshape(-1), trained.margin(x), rtol=0, atol=PARITY)
        np.testing.assert_allclose(probability, trained.predict(x), rtol=0, atol=PARITY)
        # Log-odds inherit the margin's float32 differences times the map's slope: the
        # isotonic map's steepest piece can amplify them a few times.
        logit_tolerance = PARITY if trained.calibration["method"] != "isotonic" else 1e-4
        np.testing.assert_allclose(logit, trained.logit(x), rtol=0, atol=logit_tolerance)

    def test_missing_values_follow_the_learned_default_branch(self, trained: TrainedTrees) -> None:
        # In the data a missing f_0 means log-odds 1 whatever else is set; with every
        # feature near 0 the log-odds are about -2.8. Weighting shifts both alike.
        x = _gaussian(500, 16, missing=0.0) / 10
        missing = x.copy()
        missing[:, 0] = np.nan
        session = _session(trained.onnx_bytes)
        (logit_missing,) = session.run(["logit"], {"features": missing})
        (logit_present,) = session.run(["logit"], {"features": x})
        assert np.median(logit_missing) - np.median(logit_present) > 2.0

    def test_graph_has_one_matrix_input_and_the_runtime_outputs(
        self, trained: TrainedTrees
    ) -> None:
        model = onnx.load_from_string(trained.onnx_bytes)
        onnx.checker.check_model(model, full_check=True)
        (inp,) = model.graph.input
        assert inp.name == "features"
        assert [d.dim_value for d in inp.type.tensor_type.shape.dim][1] == WIDTH
        assert [o.name for o in model.graph.output] == ["probability", "logit"]
        assert {o.domain: o.version for o in model.opset_import} == {"": 17, "ai.onnx.ml": 3}
        props = {p.key: p.value for p in model.metadata_props}
        assert json.loads(props["vigil.feature_names"]) == list(NAMES)
        assert json.loads(props["vigil.calibration"]) == trained.calibration
        assert "trees=80 max_depth=4" in props["vigil.architecture"]


class TestScorer:
    def test_published_model_scores_through_the_runtime(
        self, trained: TrainedTrees, tmp_path: Path
    ) -> None:
        store = Store(tmp_path / "models")
        store.publish(
            "domain",
            trained.onnx_bytes,
            feature_spec="0123456789abcdef",
            threshold=0.5,
            alias="production",
        )
        model = LoadedScorerModel(store.load("domain", "production"), threads=1)
        assert model.width == WIDTH
        assert model.logit_name == "logit"
        x = _gaussian(1000, 21, missing=0.2)
        np.testing.assert_allclose(model.run(x), trained.predict(x), rtol=0, atol=PARITY)
        tolerance = PARITY if trained.calibration["method"] != "isotonic" else 1e-4
        np.testing.assert_allclose(
            model.run(x, logit=True), trained.logit(x), rtol=0, atol=tolerance
        )


@pytest.fixture(scope="module")
def fitted() -> dict[str, TrainedTrees]:
    """One balanced-weight model per calibration method, on 8,000 training rows."""
    return {
        method: _train(
            TreeConfig(
                n_estimators=60,
                max_depth=3,
                early_stopping_rounds=0,
                threads=1,
                calibration=method,
            ),
            n=8000,
        )
        for method in ("platt", "isotonic", "none")
    }


class TestCalibrationQuality:
    """Balanced class weights inflate sigmoid(margin); calibration undoes it."""

    @pytest.mark.parametrize("method", ["platt", "isotonic"])
    def test_calibrated_means_match_the_true_probabilities(
        self, fitted: dict[str, TrainedTrees], method: str
    ) -> None:
        x, y, p_true = _dataset(20_000, 31)
        p = fitted[method].predict(x)
        raw = fitted["none"].predict(x)
        assert abs(p.mean() - y.mean()) < 0.01
        assert abs(p.mean() - p_true.mean()) < 0.01
        assert raw.mean() - y.mean() > 0.1  # what the weighting did
        brier, brier_raw = np.mean((p - y) ** 2), np.mean((raw - y) ** 2)
        assert brier < brier_raw - 0.02
        assert np.mean(np.abs(p - p_true)) < 0.5 * np.mean(np.abs(raw - p_true))

    @pytest.mark.parametrize("method", ["platt", "isotonic"])
    def test_observed_rates_match_predictions_by_decile(
        self, fitted: dict[str, TrainedTrees], method: str
    ) -> None:
        # Means over positives or negatives alone also depend on how well the model
        # separates them; a calibrated score has, in each score band, as many positives as
        # it predicts. 2,000 rows per band: binomial noise up to ~0.011, plus what a
        # two-parameter Platt map cannot bend (up to ~0.035 here).
        x, y, _ = _dataset(20_000, 32)
        p = fitted[method].predict(x)
        order = np.argsort(p, kind="stable")
        for band in np.array_split(order, 10):
            assert abs(p[band].mean() - y[band].mean()) < 0.05

    def test_validation_metrics_report_the_improvement(
        self, fitted: dict[str, TrainedTrees]
    ) -> None:
        v = fitted["platt"].validation
        assert v["log_loss"] < v["log_loss_uncalibrated"]
        assert v["brier"] < v["brier_uncalibrated"]
        assert abs(v["mean_probability"] - v["positive_rate"]) < 0.005
        assert 0.8 < v["roc_auc"] <= 1.0
        # A monotone map changes no ranking (isotonic only ties its flat ends).
        assert v["roc_auc"] == pytest.approx(fitted["none"].validation["roc_auc"], abs=1e-12)


class TestCalibration:
    def test_platt_recovers_a_known_slope_and_intercept(self) -> None:
        rng = np.random.default_rng(41)
        margin = rng.normal(0, 2, size=40_000)
        y = rng.random(margin.shape[0]) < 1 / (1 + np.exp(-(0.5 * margin - 1.0)))
        cal = Calibration.fit("platt", margin, y)
        assert cal.a == pytest.approx(0.5, abs=0.03)
        assert cal.b == pytest.approx(-1.0, abs=0.05)

    @pytest.mark.parametrize("method", ["platt", "isotonic"])
    def test_separable_data_gives_finite_log_odds(self, method: str) -> None:
        margin = np.linspace(-5, 5, 1000)
        cal = Calibration.fit(method, margin, margin > 0)  # type: ignore[arg-type]
        logit = cal.logit(np.array([-1e6, -5.0, 0.0, 5.0, 1e6]))
        assert np.all(np.isfinite(logit))
        assert np.all(np.diff(logit) >= 0)
        assert logit[-1] > 5 > -5 > logit[0]

    def test_isotonic_map_is_monotone_and_small(self) -> None:
        rng = np.random.default_rng(42)
        margin = np.round(rng.normal(0, 3, size=50_000), 2)  # tree-like: many ties
        y = rng.random(margin.shape[0]) < 1 / (1 + np.exp(-margin))
        cal = Calibration.fit("isotonic", margin, y)
        assert 2 <= len(cal.knots) <= MAX_PIECES + 1
        assert np.all(np.diff(cal.knots) > 0)
        assert np.all(np.diff(cal.logits) >= 0)
        grid = np.linspace(-12, 12, 2001)
        assert np.all(np.diff(cal.logit(grid)) >= 0)
        # Close to the truth (logit = margin) where the data are dense.
        middle = np.abs(grid) < 3
        assert np.max(np.abs(cal.logit(grid)[middle] - grid[middle])) < 0.35

    @pytest.mark.parametrize("method", ["platt", "isotonic", "none"])
    def test_round_trips_through_json(self, method: str) -> None:
        rng = np.random.default_rng(43)
        margin = rng.normal(size=2000)
        cal = Calibration.fit(method, margin, rng.random(2000) < 0.3)  # type: ignore[arg-type]
        again = Calibration.from_dict(json.loads(json.dumps(cal.to_dict())))
        assert again == cal
        np.testing.assert_array_equal(again.logit(margin), cal.logit(margin))

    def test_needs_both_classes(self) -> None:
        with pytest.raises(DataError, match="both classes"):
            Calibration.fit("platt", np.zeros(10), np.zeros(10))

    @pytest.mark.parametrize(
        "data",
        [
            {"method": "sigmoid"},
            {"method": "isotonic", "knots": [0.0], "logits": [0.0]},
            {"method": "isotonic", "knots": [1.0, 0.0], "logits": [0.0, 1.0]},
            {"method": "isotonic", "knots": [0.0, 1.0], "logits": [1.0, 0.0]},
            {"method": "platt", "a": float("nan")},
            {"method": "platt", "slope": 1.0},
        ],
    )
    def test_rejects_bad_parameters(self, data: dict[str, object]) -> None:
        with pytest.raises(ConfigError):
            Calibration.from_dict(data)


class TestTraining:
    def test_same_seed_gives_identical_onnx_bytes(self) -> None:
        config = TreeConfig(n_estimators=30, max_depth=3, early_stopping_rounds=0, threads=1)
        first, second = _train(config, n=2000), _train(config, n=2000)
        assert first.onnx_bytes == second.onnx_bytes
        other = _train(TreeConfig(**{**config.to_dict(), "seed": 1}), n=2000)
        assert other.onnx_bytes != first.onnx_bytes

    def test_early_stopping_keeps_the_best_round(self) -> None:
        records: list[tuple[int, int, dict[str, float]]] = []
        config = TreeConfig(n_estimators=400, max_depth=6, early_stopping_rounds=10, threads=1)
        result = _train(config, n=3000, progress=lambda *r: records.append(r))
        assert result.best_iteration < 100
        assert result.booster.num_boosted_rounds() == result.best_iteration + 1
        assert len(records) == result.best_iteration + 1 + 10
        assert [r[0] for r in records] == list(range(1, len(records) + 1))
        assert all(total == 400 for _, total, _ in records)
        losses = [r[2]["valid_logloss"] for r in records]
        assert int(np.argmin(losses)) == result.best_iteration
        props = {p.key: p.value for p in onnx.load_from_string(result.onnx_bytes).metadata_props}
        assert f"trees={result.best_iteration + 1} " in props["vigil.architecture"]

    def test_class_weight_only_changes_the_uncalibrated_scale(self) -> None:
        weighted = _train(SMALL, n=2000)
        plain = _train(TreeConfig(**{**SMALL.to_dict(), "class_weight": None}), n=2000)
        assert (
            plain.validation["log_loss_uncalibrated"] < weighted.validation["log_loss_uncalibrated"]
        )
        assert (
            abs(weighted.validation["mean_probability"] - plain.validation["positive_rate"]) < 0.01
        )

    @pytest.mark.parametrize(
        ("mutate", "match"),
        [
            (lambda d: d.update(x_valid=d["x_valid"][:, :3]), "columns"),
            (lambda d: d.update(names=NAMES[:3]), "feature names"),
            (lambda d: d.update(y_train=d["y_train"] * 2), "only 0 and 1"),
            (lambda d: d.update(y_valid=np.zeros_like(d["y_valid"])), "validation split"),
            (lambda d: d["x_train"].__setitem__((3, 2), np.inf), "infinite"),
            (lambda d: d.update(y_train=d["y_train"][:-1]), "labels for"),
        ],
    )
    def test_rejects_bad_data(
        self, mutate: Callable[[dict[str, NDArray[np.generic]]], None], match: str
    ) -> None:
        x_train, y_train, _ = _dataset(300, 1)
        x_valid, y_valid, _ = _dataset(200, 2)
        data: dict[str, NDArray[np.generic]] = {
            "x_train": x_train,
            "y_train": y_train,
            "x_valid": x_valid,
            "y_valid": y_valid,
            "names": np.array(NAMES),
        }
        mutate(data)
        with pytest.raises(DataError, match=match):
            train_trees(
                data["x_train"],
                data["y_train"],
                data["x_valid"],
                data["y_valid"],
                [str(n) for n in data["names"]],
                SMALL,
            )


class TestExport:
    def test_refuses_a_booster_of_another_width(self, trained: TrainedTrees) -> None:
        with pytest.raises(ModelError, match="trained on 8 features"):
            trees_to_onnx(trained.booster, 9, trained.calibration)

    def test_refuses_a_booster_with_feature_names(self, trained: TrainedTrees) -> None:
        named = trained.booster.copy()
        named.feature_names = list(NAMES)
        with pytest.raises(ModelError, match="feature names"):
            trees_to_onnx(named, WIDTH, trained.calibration)

    def test_export_is_reproducible(self, trained: TrainedTrees) -> None:
        again = trees_to_onnx(
            trained.booster, WIDTH, trained.calibration, feature_names=trained.feature_names
        )
        assert again == trained.onnx_bytes


class TestConfig:
    def test_round_trips_through_json(self) -> None:
        config = TreeConfig(class_weight=3, calibration="isotonic", threads=2)
        again = TreeConfig.from_dict(json.loads(json.dumps(config.to_dict())))
        assert again == config
        assert again.class_weight == 3.0

    def test_none_class_weight_means_unweighted(self) -> None:
        assert TreeConfig(class_weight=None).class_weight == "none"  # type: ignore[arg-type]

    @pytest.mark.parametrize(
        "changes",
        [
            {"n_estimators": 0},
            {"max_depth": 0},
            {"learning_rate": 0.0},
            {"subsample": 1.5},
            {"colsample_bytree": 0},
            {"min_child_weight": -1},
            {"max_bin": 1},
            {"early_stopping_rounds": -1},
            {"threads": 0},
            {"seed": -1},
            {"class_weight": "auto"},
            {"class_weight": 0.0},
            {"class_weight": True},
            {"calibration": "sigmoid"},
            {"n_estimators": 10.0},
        ],
    )
    def test_rejects_bad_values(self, changes: dict[str, object]) -> None:
        with pytest.raises(ConfigError):
            TreeConfig(**changes)  # type: ignore[arg-type]

    def test_rejects_unknown_keys(self) -> None:
        with pytest.raises(ConfigError, match="no keys"):
            TreeConfig.from_dict({"eta": 0.1})
