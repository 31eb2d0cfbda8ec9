"""Evaluation reports: per-slice figures and how they are shown."""

from __future__ import annotations

import io
import math

import numpy as np
from rich.console import Console

from vigil.train.evaluate import roc_auc
from vigil.train.report import EvalReport, _group_metrics, render

# Benign rows 0-3, one attack family in rows 4-5, another in rows 6-7.
Y = np.array([0, 0, 0, 0, 1, 1, 1, 1])
S = np.array([0.1, 0.2, 0.3, 0.8, 0.9, 0.95, 0.15, 0.5])


def test_a_mixed_slice_has_its_own_auc_and_no_vs_rest_figure() -> None:
    rows = np.array([0, 1, 4, 5])
    metrics = _group_metrics(Y, S, rows)
    assert metrics["roc_auc"] == 1.0
    assert "roc_auc_vs_rest" not in metrics


def test_a_one_class_slice_is_ranked_against_every_row_of_the_other_class() -> None:
    easy = _group_metrics(Y, S, np.array([4, 5]))
    hard = _group_metrics(Y, S, np.array([6, 7]))
    assert math.isnan(easy["roc_auc"])
    assert easy["roc_auc_vs_rest"] == 1.0
    # 0.15 beats one of four benign scores, 0.5 beats three: 4 of 8 pairs
    assert hard["roc_auc_vs_rest"] == 0.5
    benign = _group_metrics(Y, S, np.array([0, 1, 2, 3]))
    assert benign["roc_auc_vs_rest"] == roc_auc(Y, S)


def test_render_puts_the_baseline_beside_vigil_per_slice() -> None:
    groups = {"easy": _group_metrics(Y, S, np.array([4, 5]))}
    baseline_groups = {"easy": _group_metrics(Y, S[::-1].copy(), np.array([4, 5]))}
    report = EvalReport(
        "domain",
        "domain@1",
        0.5,
        {"roc_auc": 0.9, "n": 8.0, "n_pos": 4.0},
        groups=groups,
        baseline={"roc_auc": 0.8, "n": 8.0, "n_pos": 4.0},
        baseline_groups=baseline_groups,
        alerts_at_threshold={"tpr": 0.5, "fpr": 0.25, "alerts": 3.0},
    )
    out = io.StringIO()
    render(report, Console(file=out, width=200))
    text = out.getvalue()
    row = next(line for line in text.splitlines() if "easy" in line)
    cells = [c.strip() for c in row.strip("│ ").split("│")]
    assert cells[0] == "easy"
    # reversed scores: 0.8 beats two benign scores, 0.3 one: 3 of 8 pairs
    assert cells[-2:] == ["1.0000", "0.3750"]
    assert "baseline" in text
