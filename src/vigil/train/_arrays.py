"""Checks of the arrays a trainer is given, shared by the network and the tree trainers.

A bad matrix caught here gets a message that says what to fix; caught later, it would
surface as a torch or XGBoost error about shapes or a silently diverged fit.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray

from vigil.errors import DataError


def feature_matrix(x: ArrayLike, name: str, *, missing_allowed: bool) -> NDArray[np.float32]:
    """``x`` as a C-contiguous float32 2-D matrix.

    Infinity is always refused. NaN is refused too unless ``missing_allowed`` (trees read
    it as a missing value, a network cannot); a tree matrix must also be non-empty.
    """
    matrix = np.ascontiguousarray(x, dtype=np.float32)
    if matrix.ndim != 2 or (missing_allowed and 0 in matrix.shape):
        kind = "a non-empty 2-D" if missing_allowed else "a 2-D"
        raise DataError(f"{name} must be {kind} feature matrix, got shape {matrix.shape}")
    if missing_allowed:
        infinite = np.isinf(matrix)
        if infinite.any():
            row, col = np.argwhere(infinite)[0]
            raise DataError(
                f"{name} has an infinite value at row {row}, column {col}; clip features to "
                "a finite range (NaN is allowed and means missing)"
            )
        return matrix
    finite = np.isfinite(matrix)
    if not finite.all():
        bad = np.flatnonzero(~finite.all(axis=0))
        raise DataError(
            f"{name} has NaN or infinite values in {bad.size} column(s), first at index "
            f"{int(bad[0])}; fix the extractor or drop those rows"
        )
    return matrix


def same_width(
    train: NDArray[np.float32], other: NDArray[np.float32], train_name: str, other_name: str
) -> None:
    """Refuse a second split whose columns cannot be the training split's."""
    if other.shape[1] != train.shape[1]:
        raise DataError(
            f"{other_name} has {other.shape[1]} columns, expected {train.shape[1]} like "
            f"{train_name}; featurize both splits with the same extractor"
        )


def binary_labels(y: ArrayLike, n: int, name: str) -> NDArray[np.bool_]:
    """``y`` as booleans (True = malicious): one 0 or 1 per row of its matrix."""
    labels = np.asarray(y).reshape(-1)
    if labels.shape[0] != n:
        raise DataError(f"{name} has {labels.shape[0]} labels for {n} rows; give one per row")
    if not np.all((labels == 0) | (labels == 1)):
        raise DataError(f"{name} must hold only 0 and 1 (1 = malicious)")
    return labels.astype(bool)
