"""Gradient-boosted trees over a dense feature matrix, served as one calibrated ONNX graph.

For the domain and IP risk detections: a few dozen dense, mixed-scale features with
missing values, where trees beat the feed-forward net and need no standardization.
xgboost fits the ensemble; onnxmltools translates its trees, which we re-emit as a
``TreeEnsembleRegressor`` of the raw margin so calibration can follow it in the graph:

    features [N, F] float32 (NaN = missing: xgboost's learned default branch)
      -> TreeEnsembleRegressor (base margin + leaf values, no post transform) -> margin [N, 1]
      -> calibration (Mul/Add for Platt; clipped linear pieces for isotonic) -> [N, 1]
      -> Squeeze -> logit [N] -> Sigmoid -> probability [N]

The model file is plain ONNX (never pickle); the booster itself is only kept in memory.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, fields
from typing import Any, Literal, cast

import numpy as np
from numpy.typing import ArrayLike, NDArray

from vigil.errors import DataError, MissingExtra, ModelError
from vigil.runtime.trees import NODE_ATTRIBUTES
from vigil.train._arrays import binary_labels, feature_matrix, same_width
from vigil.train._config import check_fields, class_weight, is_int, is_real, known_keys
from vigil.train.calibration import METHODS, Calibration, Method
from vigil.train.export import INPUT, IR_VERSION, OPSET, OUTPUTS, finish_model

try:
    import onnx
    import xgboost as xgb
    from onnx import TensorProto, helper, numpy_helper
    from onnxmltools.convert import convert_xgboost
    from onnxmltools.convert.common.data_types import FloatTensorType
except ImportError as exc:  # the `train` extra is not installed
    raise MissingExtra(exc.name or "xgboost", "train") from exc

#: ``ai.onnx.ml`` operator set of the tree node; 3 is read by every onnxruntime since 1.10.
ML_OPSET = 3

#: onnxmltools' xgboost converter stops at opset 15; the graph it gives us is only mined
#: for the tree attributes, which mean the same in every opset.
_CONVERTER_OPSET = 15

#: Name of the raw margin inside the graph (tests expose it as an extra output).
MARGIN = "margin"

ClassWeight = Literal["balanced", "none"] | float
Progress = Callable[[int, int, dict[str, float]], None]


@dataclass(frozen=True)
class TreeConfig:
    """Hyper-parameters of :func:`train_trees`; round-trips through :meth:`to_dict`.

    Defaults suit ~100k rows x ~40 dense features. ``class_weight`` weighs positive rows
    (``"balanced"``: n_negative / n_positive; ``"none"`` or None: 1; a float: that value);
    ``calibration`` then maps the weighted model's margin back to probabilities on the
    validation split. ``early_stopping_rounds`` = 0 fits all ``n_estimators`` trees.
    ``threads`` is xgboost's ``nthread``; results are identical for a given seed and count.
    """

    n_estimators: int = 400
    max_depth: int = 6
    learning_rate: float = 0.1
    subsample: float = 0.8
    colsample_bytree: float = 0.8
    min_child_weight: float = 1.0
    reg_lambda: float = 1.0
    max_bin: int = 256
    early_stopping_rounds: int = 30
    class_weight: ClassWeight = "balanced"
    seed: int = 0
    threads: int = 1
    calibration: Method = "platt"

    def __post_init__(self) -> None:
        def fraction(v: object) -> bool:
            return is_real(v) and 0 < cast(float, v) <= 1

        def at_least(v: object, low: float, *, integer: bool = False) -> bool:
            return (is_int(v) if integer else is_real(v)) and cast(float, v) >= low

        check_fields(
            self,
            [
                ("n_estimators", at_least(self.n_estimators, 1, integer=True), "an int >= 1"),
                ("max_depth", is_int(self.max_depth) and 1 <= self.max_depth <= 16, "an int 1..16"),
                ("learning_rate", fraction(self.learning_rate), "in (0, 1]"),
                ("subsample", fraction(self.subsample), "in (0, 1]"),
                ("colsample_bytree", fraction(self.colsample_bytree), "in (0, 1]"),
                ("min_child_weight", at_least(self.min_child_weight, 0), ">= 0"),
                ("reg_lambda", at_least(self.reg_lambda, 0), ">= 0"),
                ("max_bin", at_least(self.max_bin, 2, integer=True), "an int >= 2"),
                (
                    "early_stopping_rounds",
                    at_least(self.early_stopping_rounds, 0, integer=True),
                    "an int >= 0 (0: off)",
                ),
                ("seed", is_int(self.seed) and 0 <= self.seed < 2**31, "an int in [0, 2**31)"),
                ("threads", at_least(self.threads, 1, integer=True), "an int >= 1"),
                ("calibration", self.calibration in METHODS, f"one of {', '.join(METHODS)}"),
            ],
        )
        object.__setattr__(self, "class_weight", class_weight(self, self.class_weight))

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready values."""
        return {f.name: getattr(self, f.name) for f in fields(self)}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> TreeConfig:
        """The config :meth:`to_dict` wrote; missing keys take their defaults."""
        return cls(**known_keys(cls, data, (f.name for f in fields(cls))))

    def xgboost_params(self) -> dict[str, Any]:
        """The booster parameters this config means (without class weights)."""
        return {
            "objective": "binary:logistic",
            "tree_method": "hist",
            "eval_metric": "logloss",
            "max_depth": self.max_depth,
            "eta": self.learning_rate,
            "subsample": self.subsample,
            "colsample_bytree": self.colsample_bytree,
            "min_child_weight": self.min_child_weight,
            "lambda": self.reg_lambda,
            "max_bin": self.max_bin,
            "seed": self.seed,
            "nthread": self.threads,
            "verbosity": 0,
        }


@dataclass(frozen=True)
class TrainedTrees:
    """A fitted, calibrated ensemble: the ONNX file vigil serves and what was measured.

    ``validation`` holds metrics on the validation split: ``roc_auc``, ``pr_auc``,
    ``log_loss`` and ``brier`` of the calibrated probability, the same two of the
    uncalibrated one (``*_uncalibrated``), ``positive_rate`` and ``mean_probability``.
    Calibration and early stopping both used that split, so these are slightly optimistic.
    """

    onnx_bytes: bytes
    best_iteration: int
    feature_names: tuple[str, ...]
    calibration: dict[str, Any]
    validation: dict[str, float]
    booster: xgb.Booster = field(repr=False, compare=False)

    def margin(self, x: ArrayLike) -> NDArray[np.float32]:
        """The ensemble's raw log-odds, as xgboost computes them (NaN = missing)."""
        matrix = feature_matrix(x, "x", missing_allowed=True)
        return cast(
            NDArray[np.float32],
            self.booster.predict(xgb.DMatrix(matrix, missing=np.nan), output_margin=True),
        )

    def logit(self, x: ArrayLike) -> NDArray[np.float64]:
        """Calibrated log-odds: the ONNX ``logit`` output, recomputed with xgboost + numpy."""
        return Calibration.from_dict(self.calibration).logit(self.margin(x))

    def predict(self, x: ArrayLike) -> NDArray[np.float64]:
        """Calibrated probabilities: the ONNX ``probability`` output, recomputed."""
        return _sigmoid(self.logit(x))


def train_trees(
    x_train: ArrayLike,
    y_train: ArrayLike,
    x_valid: ArrayLike,
    y_valid: ArrayLike,
    feature_names: Sequence[str],
    config: TreeConfig = TreeConfig(),  # frozen: a shared default is safe
    *,
    progress: Progress | None = None,
) -> TrainedTrees:
    """Fit boosted trees with early stopping, calibrate them and export them to ONNX.

    Positive rows are weighted per ``config.class_weight`` in training and in the
    validation loss early stopping watches; the kept model ends at the best round.
    Calibration is then fitted, unweighted, on the validation margins. The same data,
    config and thread count give the same trees and the same ONNX bytes.

    Args:
        x_train: float32 feature matrix; NaN means missing.
        y_train: 0/1 labels, 1 = malicious.
        x_valid: validation matrix with the same columns; needs both classes.
        y_valid: validation labels.
        feature_names: one name per column, recorded in the ONNX metadata.
        config: hyper-parameters.
        progress: called after every round with ``(round, n_estimators, record)``, the
            record holding ``round`` (from 1) and ``valid_logloss`` (weighted).

    Raises:
        DataError: shapes disagree, values are infinite, labels are not 0/1, or a split
            lacks a class.
    """
    from vigil.train.evaluate import pr_auc, roc_auc

    xt = feature_matrix(x_train, "x_train", missing_allowed=True)
    xv = feature_matrix(x_valid, "x_valid", missing_allowed=True)
    same_width(xt, xv, "x_train", "x_valid")
    names = tuple(str(n) for n in feature_names)
    if len(names) != xt.shape[1]:
        raise DataError(f"got {len(names)} feature names for {xt.shape[1]} columns")
    yt = binary_labels(y_train, xt.shape[0], "y_train")
    yv = binary_labels(y_valid, xv.shape[0], "y_valid")
    for split, labels in (("training", yt), ("validation", yv)):
        n_pos = int(labels.sum())
        if n_pos == 0 or n_pos == labels.shape[0]:
            raise DataError(
                f"the {split} split has {n_pos} positive and {labels.shape[0] - n_pos} "
                "negative rows; provide both malicious (1) and benign (0) examples"
            )
    pos_weight = _positive_weight(config.class_weight, yt)
    # No feature names in the DMatrix: onnxmltools reads split features as "f<index>".
    dtrain = xgb.DMatrix(xt, label=yt, weight=np.where(yt, pos_weight, 1.0), missing=np.nan)
    dvalid = xgb.DMatrix(xv, label=yv, weight=np.where(yv, pos_weight, 1.0), missing=np.nan)
    callbacks: list[xgb.callback.TrainingCallback] = []
    if progress is not None:
        callbacks.append(_ProgressCallback(progress, config.n_estimators))
    booster = xgb.train(
        config.xgboost_params(),
        dtrain,
        num_boost_round=config.n_estimators,
        evals=[(dvalid, "valid")],
        early_stopping_rounds=config.early_stopping_rounds or None,
        callbacks=callbacks,
        verbose_eval=False,
    )
    rounds = booster.num_boosted_rounds()
    best = int(booster.best_iteration) if config.early_stopping_rounds else rounds - 1
    if best + 1 < rounds:
        booster = booster[: best + 1]

    margin = booster.predict(xgb.DMatrix(xv, missing=np.nan), output_margin=True)
    calibration = Calibration.fit(config.calibration, margin, yv)
    logit = calibration.logit(margin)
    probability = _sigmoid(logit)
    uncalibrated = _sigmoid(margin.astype(np.float64))
    validation = {
        "roc_auc": roc_auc(yv, logit),
        "pr_auc": pr_auc(yv, logit),
        "log_loss": _log_loss(yv, logit),
        "brier": float(np.mean((probability - yv) ** 2)),
        "log_loss_uncalibrated": _log_loss(yv, margin.astype(np.float64)),
        "brier_uncalibrated": float(np.mean((uncalibrated - yv) ** 2)),
        "positive_rate": float(yv.mean()),
        "mean_probability": float(probability.mean()),
    }
    model_bytes = trees_to_onnx(booster, xt.shape[1], calibration.to_dict(), feature_names=names)
    return TrainedTrees(
        onnx_bytes=model_bytes,
        best_iteration=best,
        feature_names=names,
        calibration=calibration.to_dict(),
        validation=validation,
        booster=booster,
    )


def trees_to_onnx(
    booster: xgb.Booster,
    n_features: int,
    calibration: Mapping[str, Any],
    *,
    feature_names: Sequence[str] | None = None,
    doc: str = "",
) -> bytes:
    """A ``binary:logistic`` booster and its calibration as ONNX bytes: input ``features``
    [N, n_features] float32, outputs ``probability`` and ``logit``, both float32 [N].

    Every tree of ``booster`` is exported (slice it to the best round first). The same
    booster and calibration give the same bytes.

    Raises:
        ModelError: the booster is not a binary logistic one, has feature names (they must
            be xgboost's default ``f<index>``), or its width differs from ``n_features``.
    """
    import vigil

    cal = Calibration.from_dict(calibration)
    learner = json.loads(booster.save_config())["learner"]
    objective = learner["objective"]["name"]
    if objective != "binary:logistic":
        raise ModelError(f"can only export binary:logistic boosters, got {objective!r}")
    if booster.num_features() != n_features:
        raise ModelError(
            f"booster was trained on {booster.num_features()} features, asked to export for "
            f"{n_features}; export with the extractor the model was trained on"
        )
    if booster.feature_names is not None:
        raise ModelError(
            "booster has feature names; train on a DMatrix without them (pass the names to "
            "trees_to_onnx) so the converter can read split features as column indices"
        )
    if feature_names is not None and len(feature_names) != n_features:
        raise ModelError(f"got {len(feature_names)} feature names for {n_features} features")

    tree = _tree_node(booster, n_features, _base_margin(learner))
    cal_nodes, cal_init = cal.onnx_nodes(MARGIN, "logit_column")
    graph = helper.make_graph(
        [
            tree,
            *cal_nodes,
            helper.make_node("Squeeze", ["logit_column", "squeeze_axes"], ["logit"]),
            helper.make_node("Sigmoid", ["logit"], ["probability"]),
        ],
        "vigil_boosted_trees",
        [helper.make_tensor_value_info(INPUT, TensorProto.FLOAT, ["N", n_features])],
        [helper.make_tensor_value_info(name, TensorProto.FLOAT, ["N"]) for name in OUTPUTS],
        initializer=[
            *cal_init,
            numpy_helper.from_array(np.array([1], dtype=np.int64), "squeeze_axes"),
        ],
    )
    model = helper.make_model(
        graph,
        opset_imports=[
            helper.make_opsetid("", OPSET),
            helper.make_opsetid("ai.onnx.ml", ML_OPSET),
        ],
        ir_version=IR_VERSION,
        producer_name="vigil",
        producer_version=vigil.__version__,
        doc_string=doc,
    )
    n_trees = booster.num_boosted_rounds()
    metadata = {
        "vigil.n_features": str(n_features),
        "vigil.architecture": (
            f"vigil.boosted_trees/1 trees={n_trees} "
            f"max_depth={learner['gradient_booster']['tree_train_param']['max_depth']} "
            f"calibration={cal.method} output=sigmoid"
        ),
        "vigil.outputs": ",".join(OUTPUTS),
        "vigil.calibration": json.dumps(cal.to_dict(), sort_keys=True),
    }
    return finish_model(model, metadata, feature_names)


def _tree_node(booster: xgb.Booster, n_features: int, base_margin: float) -> onnx.NodeProto:
    """A ``TreeEnsembleRegressor`` from ``features`` to the raw margin [N, 1].

    onnxmltools' Booster path emits a classifier with a LOGISTIC post transform (or, when
    it guesses "regression", a regressor); either way we keep only the split and leaf
    attributes and set the base margin and post transform ourselves.
    """
    converted = convert_xgboost(
        booster,
        name="vigil_boosted_trees",
        initial_types=[(INPUT, FloatTensorType([None, n_features]))],
        target_opset=_CONVERTER_OPSET,
    )
    (source,) = [n for n in converted.graph.node if n.op_type.startswith("TreeEnsemble")]
    attributes = {a.name: helper.get_attribute_value(a) for a in source.attribute}
    kept: dict[str, Any] = {name: attributes[name] for name in NODE_ATTRIBUTES}
    prefix = "class" if source.op_type == "TreeEnsembleClassifier" else "target"
    for part in ("treeids", "nodeids", "weights"):
        kept[f"target_{part}"] = attributes[f"{prefix}_{part}"]
    kept["target_ids"] = [0] * len(kept["target_treeids"])
    return helper.make_node(
        "TreeEnsembleRegressor",
        [INPUT],
        [MARGIN],
        domain="ai.onnx.ml",
        name="trees",
        n_targets=1,
        post_transform="NONE",
        aggregate_function="SUM",
        base_values=[base_margin],
        **kept,
    )


def _base_margin(learner: Mapping[str, Any]) -> float:
    """The margin every tree's leaves are added to: logit(base_score).

    xgboost >= 3 writes ``base_score`` as a one-element list of probabilities ("[4.5E-1]"),
    earlier versions as a plain number.
    """
    raw = learner["learner_model_param"]["base_score"]
    values = json.loads(raw) if raw.startswith("[") else [float(raw)]
    if len(values) != 1:
        raise ModelError(f"expected one base score for a binary model, got {raw!r}")
    p = float(np.float32(values[0]))
    if not 0.0 < p < 1.0:
        raise ModelError(f"base_score {p} of a binary:logistic booster is not a probability")
    return math.log(p / (1.0 - p))


class _ProgressCallback(xgb.callback.TrainingCallback):
    """Reports each round's weighted validation log loss."""

    def __init__(self, progress: Progress, total: int) -> None:
        super().__init__()
        self.progress = progress
        self.total = total

    def after_iteration(self, model: Any, epoch: int, evals_log: Any) -> bool:
        loss = float(evals_log["valid"]["logloss"][-1])
        self.progress(epoch + 1, self.total, {"round": float(epoch + 1), "valid_logloss": loss})
        return False


def _positive_weight(class_weight: ClassWeight, y: NDArray[np.bool_]) -> float:
    if class_weight == "balanced":
        n_pos = int(y.sum())
        return float(y.shape[0] - n_pos) / n_pos
    if class_weight == "none":
        return 1.0
    return float(class_weight)


def _log_loss(y: NDArray[np.bool_], logit: NDArray[np.float64]) -> float:
    return float(np.mean(np.logaddexp(0.0, logit) - y * logit))


def _sigmoid(z: NDArray[Any]) -> NDArray[np.float64]:
    return np.asarray(np.exp(-np.logaddexp(0.0, -np.asarray(z, np.float64))), dtype=np.float64)


__all__ = ["ML_OPSET", "TrainedTrees", "TreeConfig", "train_trees", "trees_to_onnx"]
