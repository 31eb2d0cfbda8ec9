"""Training: fit, tune, export and evaluate models.

Needs the `train` extra; never imported at scoring time.

Nothing heavy is imported here: each name below loads its module on first use, so
``import vigil.train`` works without torch, and the first use of a torch-backed name raises
:class:`~vigil.errors.MissingExtra` naming the extra to install when torch is absent.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from vigil.train.evaluate import (
        Metrics,
        pr_auc,
        roc_auc,
        threshold_for_fpr,
        tpr_at_fpr,
    )
    from vigil.train.export import export_onnx
    from vigil.train.mlp import FeedForwardNet, MLPConfig, TrainResult, train_mlp
    from vigil.train.trees import TrainedTrees, TreeConfig, train_trees

_LAZY = {
    "FeedForwardNet": "vigil.train.mlp",
    "MLPConfig": "vigil.train.mlp",
    "TrainResult": "vigil.train.mlp",
    "train_mlp": "vigil.train.mlp",
    "TrainedTrees": "vigil.train.trees",
    "TreeConfig": "vigil.train.trees",
    "train_trees": "vigil.train.trees",
    "export_onnx": "vigil.train.export",
    "Metrics": "vigil.train.evaluate",
    "pr_auc": "vigil.train.evaluate",
    "roc_auc": "vigil.train.evaluate",
    "threshold_for_fpr": "vigil.train.evaluate",
    "tpr_at_fpr": "vigil.train.evaluate",
}


def __getattr__(name: str) -> object:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'vigil.train' has no attribute {name!r}")
    return getattr(importlib.import_module(module), name)


__all__ = [
    "FeedForwardNet",
    "MLPConfig",
    "Metrics",
    "TrainResult",
    "TrainedTrees",
    "TreeConfig",
    "export_onnx",
    "pr_auc",
    "roc_auc",
    "threshold_for_fpr",
    "tpr_at_fpr",
    "train_mlp",
    "train_trees",
]
