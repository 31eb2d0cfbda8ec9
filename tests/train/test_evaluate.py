"""Metrics: hand-computed thresholds and rates, ties, and NaN where a figure is undefined."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from vigil.errors import DataError
from vigil.train.evaluate import (
    Metrics,
    fpr_key,
    pr_auc,
    roc_auc,
    threshold_for_fpr,
    tpr_at_fpr,
)

# Four negatives (0.1 0.2 0.3 0.4) and two positives (0.35 0.9).
Y = [0, 0, 0, 0, 1, 1]
S = [0.1, 0.2, 0.3, 0.4, 0.35, 0.9]


def above(value: float) -> float:
    return float(np.nextafter(value, np.inf))


class TestThresholdForFpr:
    @pytest.mark.parametrize(
        ("fpr", "threshold", "tpr"),
        [
            (0.0, above(0.4), 0.5),  # no false positive allowed: just above the top negative
            (0.2, above(0.4), 0.5),  # 0.2 * 4 = 0.8 -> still none
            (0.25, above(0.3), 1.0),  # one allowed: 0.4 flagged, 0.3 not
            (0.5, above(0.2), 1.0),
            (0.75, above(0.1), 1.0),
            (1.0, -math.inf, 1.0),  # everything may be flagged
        ],
    )
    def test_smallest_threshold_within_the_target_fpr(
        self, fpr: float, threshold: float, tpr: float
    ) -> None:
        assert threshold_for_fpr(Y, S, fpr) == threshold
        assert tpr_at_fpr(Y, S, fpr) == tpr

    def test_negatives_tied_at_the_boundary_are_all_left_unflagged(self) -> None:
        y = [0, 0, 0, 0, 1, 1]
        s = [0.5, 0.5, 0.5, 0.1, 0.5, 0.7]
        # Two false positives allowed, but three negatives tie at 0.5: flag none of them.
        assert threshold_for_fpr(y, s, 0.5) == above(0.5)
        assert tpr_at_fpr(y, s, 0.5) == 0.5  # the positive tied at 0.5 is missed too
        # Three allowed: the tie is flagged as a whole.
        assert threshold_for_fpr(y, s, 0.75) == above(0.1)
        assert tpr_at_fpr(y, s, 0.75) == 1.0

    def test_threshold_is_just_above_in_the_scores_own_precision(self) -> None:
        s32 = np.asarray(S, dtype=np.float32)
        threshold = threshold_for_fpr(Y, s32, 0.25)
        assert threshold == float(np.nextafter(np.float32(0.3), np.float32(np.inf)))
        assert not np.float32(0.3) >= np.float32(threshold)  # still unflagged in float32

    def test_float_rounding_of_fpr_times_negatives_does_not_lose_one(self) -> None:
        y = np.zeros(100, dtype=int)
        s = np.arange(100) / 100
        # 0.29 * 100 == 28.999999999999996 in floating point; 29 are allowed.
        assert threshold_for_fpr(y, s, 0.29) == above(0.70)

    def test_fpr_outside_0_1_is_refused(self) -> None:
        with pytest.raises(ValueError, match="fpr must be in"):
            threshold_for_fpr(Y, S, 1.5)

    @settings(max_examples=200, deadline=None)
    @given(
        st.lists(st.tuples(st.booleans(), st.integers(0, 6)), min_size=1, max_size=60),
        st.sampled_from([0.0, 0.01, 0.1, 0.25, 0.3, 0.5, 0.9]),
    )
    def test_threshold_meets_the_target_and_the_next_lower_score_does_not(
        self, rows: list[tuple[bool, int]], fpr: float
    ) -> None:
        y = np.array([label for label, _ in rows], dtype=int)
        s = np.array([score / 6 for _, score in rows])  # few distinct values: many ties
        negatives = s[y == 0]
        threshold = threshold_for_fpr(y, s, fpr)
        if negatives.size == 0:
            assert math.isnan(threshold)
            return
        allowed = math.floor(fpr * negatives.size + 1e-9)
        assert (negatives >= threshold).sum() <= allowed
        below = s[s < threshold]
        if below.size:  # any lower threshold that changes the flags exceeds the target
            assert (negatives >= below.max()).sum() > allowed


class TestUndefinedIsNan:
    @pytest.mark.parametrize(
        ("y", "s"),
        [([0, 0, 0], [0.1, 0.2, 0.3]), ([1, 1], [0.4, 0.5]), ([], [])],
        ids=["only-negatives", "only-positives", "empty"],
    )
    def test_single_class_gives_nan_not_an_error(self, y: list[int], s: list[float]) -> None:
        assert math.isnan(roc_auc(y, s))
        assert math.isnan(pr_auc(y, s))
        assert math.isnan(tpr_at_fpr(y, s, 1e-3))
        metrics = Metrics.from_scores(y, s).to_dict()
        assert math.isnan(metrics["roc_auc"])
        assert math.isnan(metrics["tpr_at_fpr_1e-3"])

    def test_threshold_needs_only_negatives(self) -> None:
        assert threshold_for_fpr([0, 0, 0], [0.1, 0.2, 0.3], 0.0) == above(0.3)
        assert math.isnan(threshold_for_fpr([1, 1], [0.4, 0.5], 0.1))

    def test_nan_scores_are_left_out(self) -> None:
        metrics = Metrics.from_scores([0, 1, 1, 0], [0.1, 0.9, math.nan, math.nan])
        assert (metrics.n, metrics.n_pos, metrics.n_neg) == (2, 1, 1)
        assert metrics.roc_auc == 1.0


def test_auc_figures_match_hand_computation() -> None:
    y, s = [0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8]
    assert roc_auc(y, s) == pytest.approx(0.75)  # 3 of 4 positive-negative pairs ordered
    assert pr_auc(y, s) == pytest.approx(0.5 * 1.0 + 0.5 * 2 / 3)


def test_metrics_flatten_to_the_keys_reports_use() -> None:
    metrics = Metrics.from_scores(Y, S)
    flat = metrics.to_dict()
    assert list(flat) == [
        "roc_auc",
        "pr_auc",
        "tpr_at_fpr_1e-2",
        "tpr_at_fpr_1e-3",
        "threshold_at_fpr_1e-2",
        "threshold_at_fpr_1e-3",
        "n",
        "n_pos",
        "n_neg",
    ]
    assert (flat["n"], flat["n_pos"], flat["n_neg"]) == (6, 2, 4)
    assert flat["roc_auc"] == pytest.approx(7 / 8)
    assert flat["threshold_at_fpr_1e-3"] == above(0.4)
    # Four negatives cannot resolve a 1% or 0.1% false-positive rate.
    assert metrics.coarse_fprs() == (1e-2, 1e-3)


def test_mismatched_lengths_and_bad_labels_are_data_errors() -> None:
    with pytest.raises(DataError, match="3 labels but 2 scores"):
        roc_auc([0, 1, 1], [0.1, 0.2])
    with pytest.raises(DataError, match="0 \\(benign\\) or 1 \\(malicious\\)"):
        roc_auc([0, 2], [0.1, 0.2])


@pytest.mark.parametrize(
    ("fpr", "key"), [(1e-2, "1e-2"), (1e-3, "1e-3"), (5e-3, "5e-3"), (0.015, "1.5e-2")]
)
def test_fpr_key_spelling(fpr: float, key: str) -> None:
    assert fpr_key(fpr) == key
