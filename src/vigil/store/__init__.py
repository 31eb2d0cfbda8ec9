"""Versioned, integrity-checked model files on any fsspec URL.

``Store(url).publish(...)`` writes ``<detection>/<version>/model.onnx`` and its
``manifest.json`` once; aliases such as ``production`` point at versions and are the only
thing that moves. ``Store.load`` checks the model's sha256 against its manifest.
"""

from __future__ import annotations

from vigil.store.manifest import ModelManifest
from vigil.store.store import LoadedModel, Store

__all__ = ["LoadedModel", "ModelManifest", "Store"]
