"""The array checks both trainers share: what passes, and messages that say what to fix."""

from __future__ import annotations

import numpy as np
import pytest

from vigil.errors import DataError
from vigil.train._arrays import binary_labels, feature_matrix, same_width


class TestFeatureMatrix:
    def test_returns_contiguous_float32(self) -> None:
        x = np.arange(12, dtype=np.float64).reshape(3, 4).T  # not C-contiguous
        out = feature_matrix(x, "x", missing_allowed=False)
        assert out.dtype == np.float32
        assert out.flags.c_contiguous
        np.testing.assert_array_equal(out, x)

    def test_nan_is_missing_for_trees_and_refused_for_networks(self) -> None:
        x = np.zeros((4, 3), dtype=np.float32)
        x[1, 2] = np.nan
        assert np.isnan(feature_matrix(x, "x", missing_allowed=True)[1, 2])
        with pytest.raises(DataError, match=r"x has NaN or infinite values in 1 column.*index 2"):
            feature_matrix(x, "x", missing_allowed=False)

    @pytest.mark.parametrize("missing_allowed", [True, False])
    def test_infinity_is_always_refused(self, missing_allowed: bool) -> None:
        x = np.zeros((4, 3), dtype=np.float32)
        x[2, 1] = -np.inf
        with pytest.raises(DataError, match=r"x_train has .*infinite"):
            feature_matrix(x, "x_train", missing_allowed=missing_allowed)

    def test_names_the_row_and_column_of_an_infinity_in_a_tree_matrix(self) -> None:
        x = np.zeros((4, 3), dtype=np.float32)
        x[2, 1] = np.inf
        with pytest.raises(DataError, match="row 2, column 1"):
            feature_matrix(x, "x", missing_allowed=True)

    @pytest.mark.parametrize("shape", [(3,), (2, 2, 2)])
    def test_not_a_matrix_is_refused(self, shape: tuple[int, ...]) -> None:
        with pytest.raises(DataError, match="2-D feature matrix, got shape"):
            feature_matrix(np.zeros(shape), "x", missing_allowed=False)

    def test_an_empty_matrix_is_refused_for_trees_only(self) -> None:
        assert feature_matrix(np.zeros((0, 3)), "x", missing_allowed=False).shape == (0, 3)
        with pytest.raises(DataError, match="non-empty"):
            feature_matrix(np.zeros((0, 3)), "x", missing_allowed=True)


def test_same_width_names_both_splits() -> None:
    same_width(np.zeros((2, 3), np.float32), np.zeros((5, 3), np.float32), "a", "b")
    with pytest.raises(DataError, match="x_val has 4 columns, expected 3 like x_train"):
        same_width(np.zeros((2, 3), np.float32), np.zeros((2, 4), np.float32), "x_train", "x_val")


class TestBinaryLabels:
    def test_zero_one_become_booleans(self) -> None:
        out = binary_labels([0, 1, 1.0, 0.0], 4, "y")
        np.testing.assert_array_equal(out, [False, True, True, False])

    def test_one_label_per_row(self) -> None:
        with pytest.raises(DataError, match="y_train has 3 labels for 4 rows"):
            binary_labels([0, 1, 0], 4, "y_train")

    @pytest.mark.parametrize("bad", [2, -1, 0.5, np.nan])
    def test_anything_but_zero_or_one_is_refused(self, bad: float) -> None:
        with pytest.raises(DataError, match="only 0 and 1"):
            binary_labels([0, 1, bad], 3, "y")
