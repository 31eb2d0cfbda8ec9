"""Fixtures shared by every test: clean environment, local stores, tiny real ONNX models."""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pytest

from vigil.features import _accel, get_extractor
from vigil.store import ModelManifest, Store
from vigil.testing.models import logistic_onnx

SHARED_DATA = Path(__file__).resolve().parents[2] / "shared" / "data"


def pytest_configure(config: pytest.Config) -> None:
    """Drop the developer's VIGIL_* variables before any fixture runs.

    Module-scoped fixtures train and publish models through the CLI before the per-test
    fixture below has cleaned anything: with VIGIL_STORE set, they published into the
    developer's own store. (The compiled kernels were chosen when vigil was imported, so
    ``VIGIL_KERNELS=0 pytest`` still runs the suite on the numpy paths.)
    """
    for name in [name for name in os.environ if name.startswith("VIGIL_")]:
        del os.environ[name]


@pytest.fixture(autouse=True)
def _clean_vigil_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No VIGIL_* variable and no vigil.toml from the developer's machine leaks into a test."""
    for name in list(os.environ):
        if name.startswith("VIGIL_"):
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)


#: The ways a kernel-backed function can run here: its numpy twin always, and the
#: compiled kernel when it was built and is not switched off.
KERNEL_WAYS = ["numpy"] + (["compiled"] if _accel.kernels is not None else [])


@pytest.fixture(params=KERNEL_WAYS)
def way(request: pytest.FixtureRequest) -> Iterator[str]:
    """Runs the test once per way in :data:`KERNEL_WAYS` ("numpy": kernels switched off)."""
    if request.param == "numpy":
        with _accel.numpy_only():
            yield request.param
    else:
        yield request.param


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


@dataclass(frozen=True)
class TrainedDomainModel:
    """A small real domain model, its store and the generated blocklist it saw as intel."""

    store_path: Path
    blocklist: Path
    listed: tuple[str, ...]
    unlisted: pa.Table
    intel: Any


@pytest.fixture(scope="session")
def trained_domain_model(tmp_path_factory: pytest.TempPathFactory) -> TrainedDomainModel:
    """Trained once per test run (a few seconds): generated names, a hosts-file source."""
    from vigil.datasets.domains import generate_blocklist, generate_domains
    from vigil.intel import FileSource, load_intel
    from vigil.train.data import labelled
    from vigil.train.pipeline import train_detection
    from vigil.train.trees import TreeConfig

    folder = tmp_path_factory.mktemp("domain-model")
    table = generate_domains(8_000, seed=21)
    text, unlisted = generate_blocklist(table, share=0.5, seed=22)
    blocklist = folder / "blocklist.hosts"
    blocklist.write_text(text)
    source = FileSource(
        "generated", str(blocklist), kind="domain", category="malware", format="hosts"
    )
    intel = load_intel([source])
    train_detection(
        "domain",
        labelled(table, text_col="domain", label_col="label"),
        Store(folder / "models"),
        config=TreeConfig(n_estimators=80, threads=1),
        intel=intel,
    )
    return TrainedDomainModel(
        folder / "models", blocklist, intel.sources[0].entries, unlisted, intel
    )
