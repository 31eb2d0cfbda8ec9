"""Fitted feature state travels inside the model file and swaps with it."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pyarrow as pa
import pytest

from vigil.errors import ModelError
from vigil.features import _FACTORIES as FACTORIES
from vigil.features import FeatureMatrix, FeatureSpec, register_extractor
from vigil.features.base import FEATURE_STATE_KEY
from vigil.runtime.detection import Detection
from vigil.store import Store
from vigil.testing.models import logistic_onnx
from vigil.train.entity import attach_feature_state


@dataclass(frozen=True)
class ScaledLength:
    """A toy fitted extractor: one feature, the input's length times a learned scale."""

    scale: float | None = None
    name: str = "scaled_length"

    @property
    def spec(self) -> FeatureSpec:
        return FeatureSpec("scaled_length", "1", ("scaled_length",))

    def with_state(self, state: Mapping[str, Any]) -> ScaledLength:
        return ScaledLength(scale=float(state["scale"]))

    def transform(self, values: Any) -> FeatureMatrix:
        if self.scale is None:
            raise ModelError("not fitted")
        array = pa.array(list(values), type=pa.large_string())
        lengths = np.array([len(v or "") for v in array.to_pylist()], dtype=np.float32)
        return FeatureMatrix(
            (lengths * self.scale).reshape(-1, 1), ("scaled_length",), np.ones(len(array), bool)
        )

    def indicators(self, values: Any) -> pa.Array:
        return pa.array([[] for _ in values], type=pa.list_(pa.string()))

    def feature_groups(self) -> Mapping[str, tuple[int, ...]]:
        return {"length": (0,)}


@pytest.fixture
def scaled_length() -> Iterator[None]:
    register_extractor("scaled_length", ScaledLength)
    yield
    FACTORIES.pop("scaled_length")


def _publish(store: Store, scale: float, alias: str | None = "production") -> int:
    model = attach_feature_state(logistic_onnx(np.array([1.0]), -5.0), {"scale": scale})
    manifest = store.publish(
        "toy",
        model,
        feature_spec=ScaledLength().spec.id,
        threshold=0.5,
        training_data=hashlib.sha256(model).hexdigest(),
        alias=alias,
    )
    return manifest.version


@pytest.mark.usefixtures("scaled_length")
def test_state_in_the_model_file_drives_the_features(store: Store) -> None:
    _publish(store, scale=0.0)
    bound = Detection("toy", "scaled_length").bind(store)
    assert bound.score(["abcdefghij"])[0] == pytest.approx(1 / (1 + np.exp(5.0)), rel=1e-5)
    second = _publish(store, scale=1.0, alias=None)
    store.promote("toy", second)
    assert bound.score(["abcdefghij"])[0] == pytest.approx(1 / (1 + np.exp(-5.0)), rel=1e-5)


@pytest.mark.usefixtures("scaled_length")
def test_state_is_under_the_model_sha256(store: Store) -> None:
    _publish(store, scale=1.0)
    loaded = store.load("toy")
    assert FEATURE_STATE_KEY.encode() in loaded.model_bytes


def test_a_model_state_for_a_stateless_extractor_is_refused(store: Store) -> None:
    from vigil.features import get_extractor

    model = attach_feature_state(
        logistic_onnx(np.zeros(get_extractor("ip").spec.width), 0.0), {"scale": 1.0}
    )
    store.publish(
        "ip", model, feature_spec=get_extractor("ip").spec.id, threshold=0.5, alias="production"
    )
    bound = Detection("ip", "ip").bind(store)
    with pytest.raises(ModelError, match="takes none"):
        bound.score(["192.0.2.1"])
