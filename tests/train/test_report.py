"""Evaluation reports: per-slice figures and how they are shown."""

from __future__ import annotations

import io
import json
import math
from collections.abc import Sequence

import numpy as np
import pyarrow as pa
from rich.console import Console

from vigil.runtime.explain import Explanation
from vigil.train.data import Labelled, labelled
from vigil.train.evaluate import roc_auc
from vigil.train.report import ERROR_TEXT_CHARS, EvalReport, _errors, _group_metrics, render

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


class _ExplainsByText:
    """Stands in for a bound detection: explains each text by echoing it as an indicator."""

    def explain(self, values: Sequence[str]) -> list[Explanation | None]:
        return [
            Explanation(0.5, 0.5, "x@1", indicators=(v[:6],), contributions={"stats": 1.5})
            for v in values
        ]


def _labelled(texts: list[str], labels: list[int], groups: list[str]) -> Labelled:
    return Labelled(
        pa.array(texts, type=pa.large_string()),
        np.asarray(labels, dtype=np.int64),
        0,
        pa.table({"source": groups}),
    )


class TestErrors:
    def test_highest_benign_then_lowest_malicious_each_explained(self) -> None:
        data = _labelled(
            [f"row {i}" for i in range(8)], list(Y), ["b", "b", "b", "b", "m", "m", "n", "n"]
        )
        errors = _errors(_ExplainsByText(), data, S.astype(np.float64), "source", 2)  # type: ignore[arg-type]
        assert [(e.kind, e.row) for e in errors] == [
            ("benign, scored high", 3),
            ("benign, scored high", 2),
            ("malicious, scored low", 6),
            ("malicious, scored low", 7),
        ]
        assert [e.score for e in errors] == [0.8, 0.3, 0.15, 0.5]
        assert [e.group for e in errors] == ["b", "b", "n", "n"]
        assert errors[0].text == "row 3"
        assert errors[0].why == "row 3; stats +1.5"

    def test_rows_are_numbered_as_in_the_data_file(self) -> None:
        data = labelled(
            pa.table({"text": ["a", None, "b", "c"], "label": [0, 1, 1, 0], "source": list("wxyz")})
        )
        errors = _errors(  # type: ignore[arg-type]
            _ExplainsByText(), data, np.array([0.9, 0.2, 0.1]), "source", 1
        )
        assert [(e.text, e.row, e.group) for e in errors] == [("a", 0, "w"), ("b", 2, "y")]

    def test_unscored_rows_are_skipped_and_ties_keep_the_file_order(self) -> None:
        scores = np.array([np.nan, 0.7, 0.7, 0.2, np.nan, 0.4], dtype=np.float64)
        data = _labelled(list("abcdef"), [0, 0, 0, 0, 1, 1], [""] * 6)
        errors = _errors(_ExplainsByText(), data, scores, None, 5)  # type: ignore[arg-type]
        assert [e.row for e in errors] == [1, 2, 3, 5]
        assert {e.group for e in errors} == {""}

    def test_the_baseline_score_of_each_row_is_shown_beside_vigil_s(self) -> None:
        data = _labelled(["a", "b", "c"], [0, 1, 0], ["", "", ""])
        baseline = np.array([0.25, 0.5, 0.75])
        errors = _errors(  # type: ignore[arg-type]
            _ExplainsByText(), data, np.array([0.9, 0.1, 0.2]), None, 1, baseline
        )
        assert [(e.row, e.baseline_score) for e in errors] == [(0, 0.25), (1, 0.5)]
        assert errors[0].to_json()["baseline_score"] == 0.25
        at = {"tpr": 0.0, "fpr": 0.0, "alerts": 0.0}
        out = io.StringIO()
        render(
            EvalReport("d", "d@1", 0.5, {}, alerts_at_threshold=at, errors=errors),
            Console(file=out, width=250),
        )
        header = next(line for line in out.getvalue().splitlines() if "kind" in line)
        assert "baseline" in header
        assert "0.250000" in out.getvalue()

    def test_json_clips_the_text_and_render_lists_every_row(self) -> None:
        data = _labelled(["x" * 5000, "[red]benign[/]"], [1, 0], ["m", "b"])
        errors = _errors(  # type: ignore[arg-type]
            _ExplainsByText(), data, np.array([0.1, 0.9]), "source", 3
        )
        at = {"tpr": 0.0, "fpr": 0.0, "alerts": 0.0}
        report = EvalReport("d", "d@1", 0.5, {}, alerts_at_threshold=at, errors=errors)
        line = json.loads(json.dumps(report.to_json()))
        assert [len(e["text"]) for e in line["errors"]] == [14, ERROR_TEXT_CHARS]
        assert not any("baseline_score" in e for e in line["errors"])
        out = io.StringIO()
        render(report, Console(file=out, width=250))
        text = out.getvalue()
        assert "[red]benign[/]" in text  # markup in the data is shown, not applied
        assert "malicious, scored low" in text
