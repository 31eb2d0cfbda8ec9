"""Train an entity detection (domain, IP): group split, fitted features, trees, publish."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable
from functools import partial
from typing import TYPE_CHECKING, Any

import numpy as np
import pyarrow as pa
from numpy.typing import NDArray

from vigil.errors import DataError
from vigil.features import get_extractor
from vigil.features.base import FEATURE_STATE_KEY, Extractor
from vigil.runtime.detection import Detection
from vigil.train.augment import SUBDOMAIN_VIEW_SHARE, domain_views
from vigil.train.data import Labelled
from vigil.train.pipeline import (
    Progress,
    TrainingReport,
    TrainingRun,
    featurize,
    require_both_classes,
    split_by_group,
)

if TYPE_CHECKING:
    from vigil.train.trees import TreeConfig


def normalized_entities(extractor_name: str, values: pa.Array) -> pa.Array:
    """Each value as the entity the extractor sees (null where it is not one)."""
    from vigil.features.entities import normalize_domains, parse_ip

    if extractor_name == "domain":
        return normalize_domains(values)
    parsed = [parse_ip(v) for v in values.to_pylist()]  # per value: ipaddress parsing
    return pa.array([None if p is None else str(p) for p in parsed], type=pa.large_string())


def group_keys(extractor_name: str, entities: pa.Array) -> pa.Array:
    """What makes two entities near-copies: the registered domain, or the /24 (/64)."""
    if extractor_name == "domain":
        from vigil.features.domain import registered_domains

        return registered_domains(entities)
    import ipaddress

    keys: list[str | None] = []
    for value in entities.to_pylist():  # per value: ipaddress parsing
        if value is None:
            keys.append(None)
            continue
        address = ipaddress.ip_address(value)
        prefix = 24 if address.version == 4 else 64
        keys.append(str(ipaddress.ip_network(f"{address}/{prefix}", strict=False)))
    return pa.array(keys, type=pa.large_string())


def attach_feature_state(model_bytes: bytes, state: dict[str, Any] | None) -> bytes:
    """The model file with the extractor's fitted state in its metadata (under its sha256)."""
    if state is None:
        return model_bytes
    import onnx

    model = onnx.load_from_string(model_bytes)
    kept = [p for p in model.metadata_props if p.key != FEATURE_STATE_KEY]
    del model.metadata_props[:]
    model.metadata_props.extend(kept)
    entry = model.metadata_props.add()
    entry.key = FEATURE_STATE_KEY
    entry.value = json.dumps(state, separators=(",", ":"), sort_keys=True)
    return bytes(model.SerializeToString())


def extractor_state(extractor: Extractor) -> dict[str, Any] | None:
    state = getattr(extractor, "state", None)
    if state is None:
        return None
    result: dict[str, Any] = state.to_dict()
    return result


#: Makes extra malicious training rows from (names, labels, their features) with a
#: random generator.
Views = Callable[[pa.Array, NDArray[np.int64], NDArray[np.float32], np.random.Generator], pa.Array]

#: Folds for out-of-fold training features; 3 below 50,000 rows, where each fit is cheap
#: anyway and training time matters more (the demo).
CROSS_FIT_FOLDS = 5


def config_folds(n_rows: int) -> int:
    return CROSS_FIT_FOLDS if n_rows >= 50_000 else 3


def fit_features(
    extractor: Any,
    values: pa.Array,
    labels: NDArray[np.int64],
    groups: pa.Array,
    *,
    intel: Any,
    folds: int,
    seed: int,
    views: Views | None = None,
    progress: Progress | None = None,
) -> tuple[Any, NDArray[np.float32], NDArray[np.float32]]:
    """The fitted extractor (on every row), **out-of-fold** features of those rows, and
    features of the extra malicious rows ``views`` made from each held-out fold.

    Fitted features are target encodings of a kind (a language model of benign names,
    suffix risk, an n-gram regression): computed on the rows they were fitted on they
    are flattering, the trees learn to trust them, and unseen names pay. So each
    training row's features come from an extractor fitted on the other folds (grouped:
    a registered domain stays in one fold), and the served extractor is fitted on all.
    A view (see :mod:`vigil.train.augment`) is made from its fold's rows and featurized
    by that fold's extractor, like its source.
    """
    rng = np.random.default_rng(seed)
    view_parts: list[NDArray[np.float32]] = []

    def with_intel(fitted_extractor: Any) -> Any:
        if intel is None or not hasattr(fitted_extractor, "with_intel"):
            return fitted_extractor
        return fitted_extractor.with_intel(intel)

    if not hasattr(extractor, "fit"):
        fitted = with_intel(extractor)
        matrix = featurize(fitted, values, progress)
        if views is not None:
            view_parts.append(featurize(fitted, views(values, labels, matrix, rng)))
        return fitted, matrix, _stack(view_parts, fitted)
    import inspect

    import pyarrow.compute as pc

    options: dict[str, Any] = {}
    if "fit_ngrams" in inspect.signature(extractor.fit).parameters:
        from vigil.train.ngram_logit import fit_ngram_model

        options["fit_ngrams"] = fit_ngram_model
    fitted = with_intel(extractor.fit(values, labels, **options))
    group_ids = np.asarray(pc.dictionary_encode(groups).indices, dtype=np.int64)
    fold = rng.integers(0, folds, int(group_ids.max()) + 1)[group_ids]
    matrix = np.zeros((len(values), fitted.spec.width), dtype=np.float32)
    for k in range(folds):
        held = np.flatnonzero(fold == k)
        rest = np.flatnonzero(fold != k)
        if progress:
            progress("cross-fitting", k, folds)
        if len(held) == 0:
            continue
        held_values = values.take(pa.array(held))
        fold_extractor = fitted
        if len(np.unique(labels[rest])) == 2:
            fold_extractor = with_intel(
                extractor.fit(values.take(pa.array(rest)), labels[rest], **options)
            )
        matrix[held] = featurize(fold_extractor, held_values)
        if views is not None:
            made = views(held_values, labels[held], matrix[held], rng)
            view_parts.append(featurize(fold_extractor, made))
    if progress:
        progress("cross-fitting", folds, folds)
    return fitted, matrix, _stack(view_parts, fitted)


def _stack(parts: list[NDArray[np.float32]], extractor: Any) -> NDArray[np.float32]:
    if not parts:
        return np.zeros((0, extractor.spec.width), dtype=np.float32)
    return np.concatenate(parts).astype(np.float32, copy=False)


def train_tree_detection(
    detection: Detection,
    data: Labelled,
    run: TrainingRun,
    *,
    config: TreeConfig | None = None,
    intel: Any = None,
    subdomain_view_share: float = SUBDOMAIN_VIEW_SHARE,
) -> TrainingReport:
    """Fit the extractor's state and a calibrated tree model on ``data``; publish both.

    The split is by group key (registered domain, /24) so the validation figures that set
    the alert threshold are not flattered by near-copies. The extractor's fitted state (a
    language model of benign names, TLD risk) is learned on the training side only.
    """
    from vigil.train.trees import TreeConfig, train_trees

    config = config or TreeConfig(seed=run.seed)
    name = detection.extractor
    entities = normalized_entities(name, data.text)
    valid = np.asarray(entities.is_valid(), dtype=bool)
    invalid = int((~valid).sum())
    kept_rows = np.flatnonzero(valid)
    entities = entities.take(pa.array(kept_rows))
    labels = data.label[kept_rows]
    if len(kept_rows) == 0:
        raise DataError(f"none of the {len(data)} rows holds a valid {name}; check --text-col")
    train_rows, validation_rows, conflicted = split_by_group(
        entities,
        group_keys(name, entities),
        labels,
        validation_share=run.validation_share,
        seed=run.seed,
    )
    require_both_classes(
        labels[train_rows], labels[validation_rows], " from several registered domains"
    )
    train_values = entities.take(pa.array(train_rows))
    validation_values = entities.take(pa.array(validation_rows))
    y_train, y_validation = labels[train_rows], labels[validation_rows]

    if not run.augment_data or name != "domain":
        subdomain_view_share = 0.0
    views = None
    if subdomain_view_share > 0:
        views = partial(domain_views, share=subdomain_view_share)
    extractor, x_train, x_views = fit_features(
        get_extractor(name),
        train_values,
        y_train,
        group_keys(name, train_values),
        intel=intel,
        folds=config_folds(len(train_rows)),
        seed=run.seed,
        views=views,
        progress=run.progress,
    )
    if len(x_views):
        x_train = np.concatenate([x_train, x_views])
        y_train = np.concatenate([y_train, np.ones(len(x_views), dtype=y_train.dtype)])
    x_validation = featurize(extractor, validation_values, run.progress)

    trained = train_trees(
        x_train,
        y_train,
        x_validation,
        y_validation,
        extractor.spec.names,
        config,
        progress=run.rounds("training"),
    )
    model_bytes = attach_feature_state(trained.onnx_bytes, extractor_state(extractor))
    params: dict[str, Any] = {
        "model": "xgboost",
        "config": dataclasses.asdict(config),
        "best_iteration": trained.best_iteration,
        "calibration": trained.calibration,
        "n_train": len(train_rows),
        "n_validation": len(validation_rows),
        "invalid_rows_dropped": invalid,
        "conflicting_rows_dropped": conflicted,
        "intel_fingerprint": getattr(intel, "fingerprint", None),
        "positives_train": int(y_train.sum()) - len(x_views),
        "subdomain_views": len(x_views),
        "subdomain_view_share": subdomain_view_share,
        "cross_fit_folds": config_folds(len(train_rows)),
    }
    if intel is not None and hasattr(intel, "to_dict"):
        params["intel"] = intel.to_dict()
    return run.publish(
        detection.name,
        model_bytes,
        feature_spec=extractor.spec.id,
        x_validation=x_validation,
        y_validation=y_validation,
        training_data=data.fingerprint(),
        params=params,
        n_train=len(train_rows),
        n_augmented=len(x_views),
        no_signal_hint=_no_signal_hint(name, intel),
    )


def _no_signal_hint(extractor_name: str, intel: Any) -> str:
    """Why an entity model may have learned nothing: IP features are mostly intelligence."""
    if extractor_name != "ip":
        return ""
    if intel is not None:
        return ' Check that the intel sources list addresses of this data (kind = "ip").'
    return (
        ' The ip model learns mostly from threat intelligence: add sources with kind = "ip"'
        " under [intel.sources] in vigil.toml and train without --no-intel (see the README's"
        " threat-intelligence section)."
    )
