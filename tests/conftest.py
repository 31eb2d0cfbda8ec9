"""Fixtures shared by every test: clean environment, local stores, tiny real ONNX models."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from vigil.features import get_extractor
from vigil.store import ModelManifest, Store
from vigil.testing.models import logistic_onnx

SHARED_DATA = Path(__file__).resolve().parents[2] / "shared" / "data"


@pytest.fixture(autouse=True)
def _clean_vigil_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No VIGIL_* variable and no vigil.toml from the developer's machine leaks into a test."""
    import os

    for name in list(os.environ):
        if name.startswith("VIGIL_"):
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)


PublishModel = Callable[..., ModelManifest]


@pytest.fixture
def store(tmp_path: Path) -> Store:
    return Store(tmp_path / "models")


@pytest.fixture
def publish_model(store: Store) -> PublishModel:
    """Publish a logistic PowerShell model that leans on chosen features."""
    extractor = get_extractor("powershell")

    def publish(
        *,
        leans_on: dict[str, float] | None = None,
        bias: float = -3.0,
        threshold: float = 0.5,
        alias: str | None = "production",
        feature_spec: str | None = None,
        detection: str = "powershell",
    ) -> ModelManifest:
        weights = np.zeros(extractor.spec.width, dtype=np.float32)
        for name, weight in (
            leans_on or {"category_present:download_cradle": 3.0, "ioc:iex": 3.0}
        ).items():
            weights[extractor.spec.names.index(name)] = weight
        model = logistic_onnx(weights, bias)
        return store.publish(
            detection,
            model,
            feature_spec=feature_spec or extractor.spec.id,
            threshold=threshold,
            metrics={"roc_auc": 0.5},
            training_data=hashlib.sha256(model).hexdigest(),
            alias=alias,
        )

    return publish
