"""Stores on a local temporary directory and on fsspec's in-memory filesystem."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import fsspec
import pytest

from vigil.store import ModelManifest, Store

PublishFn = Callable[..., ModelManifest]


@pytest.fixture
def local_store(tmp_path: Path) -> Store:
    return Store(tmp_path / "models")


@pytest.fixture
def memory_store() -> Iterator[Store]:
    # The memory filesystem is one process-wide dict: a unique root per test, removed after.
    root = f"memory://vigil-test-{uuid.uuid4().hex}"
    yield Store(root)
    fs = fsspec.filesystem("memory")
    if fs.exists(root):
        fs.rm(root, recursive=True)


@pytest.fixture(params=["local", "memory"])
def store(request: pytest.FixtureRequest) -> Store:
    """The same behaviour is required of every filesystem."""
    result: Store = request.getfixturevalue(f"{request.param}_store")
    return result


@pytest.fixture
def publish(store: Store) -> PublishFn:
    """Publish a fake model (the store never parses ONNX) with sensible defaults."""

    def _publish(detection: str = "powershell", payload: bytes = b"m1", **kw: Any) -> ModelManifest:
        kw.setdefault("feature_spec", "spec-1")
        kw.setdefault("threshold", 0.5)
        return store.publish(detection, payload, **kw)

    return _publish
