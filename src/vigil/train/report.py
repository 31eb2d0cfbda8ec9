"""Evaluation reports: a model's figures on labelled data, next to a baseline, with robustness."""

from __future__ import annotations

import base64
import random
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from numpy.typing import NDArray

from vigil.runtime.detection import BoundDetection
from vigil.runtime.explain import Explanation
from vigil.train.data import Labelled

#: Flags a configuration-management agent typically launches with.
USUAL_FLAGS = "-NoProfile -NonInteractive -ExecutionPolicy Bypass"

#: How far a re-launched or obfuscated row's score may move from its plain form.
ROBUSTNESS_TOLERANCE = 0.05

#: Characters of an error row's text kept in the JSON line (whole scripts can be megabytes).
ERROR_TEXT_CHARS = 200


@dataclass(frozen=True)
class ErrorRow:
    """One row the model got most wrong: a high-scoring benign row or a low-scoring attack.

    On public data the top "false positives" are often mislabelled (offensive tooling in a
    benign folder, a sinkholed DGA name in a top-sites list), and they alone set the FPR
    1e-3 threshold: read them before reading that figure. ``why`` is the model's own
    explanation (indicators and the feature groups that drove the score).
    """

    kind: str  # "benign, scored high" or "malicious, scored low"
    row: int  # 0-based position in the data file (rows without text or label count too)
    score: float
    group: str  # the --group-col value, "" without one
    text: str
    why: str
    baseline_score: float | None = None  # with --baseline-train: does the baseline agree?

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "kind": self.kind,
            "row": self.row,
            "score": self.score,
            "group": self.group,
            "text": self.text[:ERROR_TEXT_CHARS],
            "why": self.why,
        }
        if self.baseline_score is not None:
            out["baseline_score"] = self.baseline_score
        return out


@dataclass
class EvalReport:
    detection: str
    model: str
    threshold: float
    metrics: dict[str, float]
    groups: dict[str, dict[str, float]] = field(default_factory=dict)
    baseline: dict[str, float] | None = None
    baseline_groups: dict[str, dict[str, float]] = field(default_factory=dict)
    robustness: dict[str, float] = field(default_factory=dict)
    alerts_at_threshold: dict[str, float] = field(default_factory=dict)
    errors: list[ErrorRow] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "detection": self.detection,
            "model": self.model,
            "threshold": self.threshold,
            **self.metrics,
            **{f"at_threshold_{k}": v for k, v in self.alerts_at_threshold.items()},
        }
        if self.baseline is not None:
            out.update({f"baseline_{k}": v for k, v in self.baseline.items()})
        out.update(self.robustness)
        if self.groups:
            out["groups"] = self.groups
        if self.baseline_groups:
            out["baseline_groups"] = self.baseline_groups
        if self.errors:
            out["errors"] = [e.to_json() for e in self.errors]
        return out


def encoded_relaunch(script: str) -> str:
    payload = base64.b64encode(script.encode("utf-16-le")).decode("ascii")
    return f"powershell.exe {USUAL_FLAGS} -EncodedCommand {payload}"


def obfuscate_plainly(script: str, seed: int) -> str:
    """Case, backticks and string concatenation: the cheap tricks every attacker knows."""
    from vigil.datasets.obfuscation import OBFUSCATIONS

    rng = random.Random(seed)
    for name in ("random_case", "insert_ticks", "split_strings"):
        script = OBFUSCATIONS[name](script, rng)
    return script


def _rates(y: NDArray[np.int64], s: NDArray[np.float64], threshold: float) -> dict[str, float]:
    flagged = s >= threshold
    positives, negatives = y == 1, y == 0
    return {
        "tpr": float(flagged[positives].mean()) if positives.any() else float("nan"),
        "fpr": float(flagged[negatives].mean()) if negatives.any() else float("nan"),
        "alerts": float(flagged.sum()),
    }


def evaluate_detection(
    bound: BoundDetection,
    data: Labelled,
    *,
    group_col: str | None = None,
    baseline_train: Labelled | None = None,
    robustness: bool = False,
    show_errors: int = 0,
) -> EvalReport:
    """Score ``data`` with the detection's model (and a baseline fitted on ``baseline_train``).

    ``show_errors`` = N adds the N highest-scoring benign rows and the N lowest-scoring
    malicious rows, each with the model's explanation (:class:`ErrorRow`).
    """
    from vigil.train.evaluate import Metrics

    scores = bound.score(data.text)
    y = data.label
    threshold = bound.threshold
    report = EvalReport(
        bound.name,
        bound.scorer.manifest.ref,
        threshold,
        _flat(Metrics.from_scores(y, scores).to_dict()),
        alerts_at_threshold=_rates(y, scores, threshold),
    )
    groups = _group_values(data, group_col)
    for value, rows in groups.items():
        report.groups[value] = _group_metrics(y, scores, rows)
    baseline_model = None
    baseline_scores = None
    if baseline_train is not None:
        from vigil.train.baseline import CharNgramBaseline

        baseline_model = CharNgramBaseline.for_extractor(bound.detection.extractor).fit(
            baseline_train.text.to_pylist(), baseline_train.label
        )
        baseline_scores = baseline_model.score(data.text.to_pylist())
        report.baseline = _flat(Metrics.from_scores(y, baseline_scores).to_dict())
        for value, rows in groups.items():
            report.baseline_groups[value] = _group_metrics(y, baseline_scores, rows)
    if robustness:
        report.robustness = _robustness(bound, data, scores, baseline_model, baseline_scores)
    if show_errors > 0:
        report.errors = _errors(bound, data, scores, group_col, show_errors, baseline_scores)
    return report


def _errors(
    bound: BoundDetection,
    data: Labelled,
    scores: NDArray[np.float64],
    group_col: str | None,
    n: int,
    baseline_scores: NDArray[np.float64] | None = None,
) -> list[ErrorRow]:
    """The ``n`` highest-scoring benign and ``n`` lowest-scoring malicious rows, explained
    (with the baseline's score of each row when there is one)."""
    scored = np.isfinite(scores)  # an input that is no entity has no score to be wrong by
    benign = np.flatnonzero((data.label == 0) & scored)
    malicious = np.flatnonzero((data.label == 1) & scored)
    # stable sorts: equal scores keep the file's order, so the listing is reproducible
    high = benign[np.argsort(-scores[benign], kind="stable")[:n]]
    low = malicious[np.argsort(scores[malicious], kind="stable")[:n]]
    rows = np.concatenate([high, low])
    if rows.size == 0:
        return []
    text = data.text.take(pa.array(rows)).to_pylist()
    groups = (
        pc.cast(data.extra.column(group_col), pa.string()).take(pa.array(rows)).to_pylist()
        if group_col is not None
        else [""] * len(rows)
    )
    explanations = bound.explain(text)
    kinds = ["benign, scored high"] * len(high) + ["malicious, scored low"] * len(low)
    return [
        ErrorRow(
            kind,
            data.file_row(int(row)),
            float(scores[row]),
            "" if group is None else str(group),
            str(value),
            _why(explanation),
            None if baseline_scores is None else float(baseline_scores[row]),
        )
        for kind, row, group, value, explanation in zip(
            kinds, rows, groups, text, explanations, strict=True
        )
    ]


def _why(explanation: Explanation | None) -> str:
    if explanation is None:
        return ""
    drivers = ", ".join(f"{name} {delta:+.1f}" for name, delta in explanation.top(2))
    indicators = ", ".join(explanation.indicators[:4])
    return "; ".join(part for part in (indicators, drivers) if part)


def _robustness(
    bound: BoundDetection,
    data: Labelled,
    scores: NDArray[np.float64],
    baseline: Any,
    baseline_scores: NDArray[np.float64] | None,
) -> dict[str, float]:
    """Re-launch and obfuscation checks; ``scores`` and ``baseline_scores`` are the plain
    rows' scores, already computed by the caller."""
    from vigil.train.evaluate import threshold_for_fpr

    text = data.text.to_pylist()
    benign = np.flatnonzero(data.label == 0)
    malicious = np.flatnonzero(data.label == 1)
    out: dict[str, float] = {}
    threshold_1e3 = float(threshold_for_fpr(data.label, scores, 1e-3))
    if benign.size:
        relaunched = [encoded_relaunch(text[i]) for i in benign]
        relaunched_scores = bound.score(relaunched)
        moved = relaunched_scores - scores[benign]
        out["encoded_benign_within_tolerance"] = float(
            (np.abs(moved) <= ROBUSTNESS_TOLERANCE).mean()
        )
        out["encoded_benign_max_abs_delta"] = float(np.abs(moved).max())
        out["encoded_benign_flagged_at_1e-3"] = float((relaunched_scores >= threshold_1e3).mean())
        if baseline is not None and baseline_scores is not None:
            baseline_threshold = float(threshold_for_fpr(data.label, baseline_scores, 1e-3))
            out["baseline_encoded_benign_flagged_at_1e-3"] = float(
                (baseline.score(relaunched) >= baseline_threshold).mean()
            )
    if malicious.size:
        obfuscated = [obfuscate_plainly(text[i], seed=int(i)) for i in malicious]
        dropped = scores[malicious] - bound.score(obfuscated)
        out["obfuscated_malicious_within_tolerance"] = float(
            (dropped <= ROBUSTNESS_TOLERANCE).mean()
        )
        out["obfuscated_malicious_max_drop"] = float(dropped.max())
    out["threshold_at_fpr_1e-3_on_this_data"] = threshold_1e3
    return out


def _group_values(data: Labelled, group_col: str | None) -> dict[str, NDArray[np.int64]]:
    if group_col is None:
        return {}
    if group_col not in data.extra.column_names:
        from vigil.errors import DataError

        raise DataError(
            f"no column {group_col!r} to group by; columns: {', '.join(data.extra.column_names)}"
        )
    column = pc.cast(data.extra.column(group_col), pa.string()).to_pylist()
    groups: dict[str, list[int]] = {}
    for i, value in enumerate(column):  # per row: grouping labels for a report
        groups.setdefault(str(value), []).append(i)
    return {k: np.asarray(v, dtype=np.int64) for k, v in sorted(groups.items())}


def _group_metrics(
    y: NDArray[np.int64], scores: NDArray[np.float64], rows: NDArray[np.int64]
) -> dict[str, float]:
    """A slice's metrics, plus the share it flags at the whole data's FPR 1e-3 threshold.

    A slice of one class (one source of only attacks) has no AUC of its own; the flagged
    share is then its detection rate (attacks) or its false-positive rate (benign), and
    ``roc_auc_vs_rest`` ranks it against every row of the other class in the data (one
    DGA family against all benign names).
    """
    from vigil.train.evaluate import Metrics, roc_auc, threshold_for_fpr

    metrics = _flat(Metrics.from_scores(y[rows], scores[rows]).to_dict())
    threshold = threshold_for_fpr(y, scores, 1e-3)
    metrics["flagged_at_fpr_1e-3"] = float((scores[rows] >= threshold).mean())
    classes = np.unique(y[rows])
    if len(classes) == 1:
        other = np.flatnonzero(y != classes[0])
        if len(other):
            both = np.concatenate([rows, other])
            metrics["roc_auc_vs_rest"] = roc_auc(y[both], scores[both])
    return metrics


def _flat(metrics: dict[str, Any]) -> dict[str, float]:
    return {k: float(v) for k, v in metrics.items()}


def render(report: EvalReport, console: Any) -> None:
    """Readable figures: overall next to the baseline, then per group side by side."""
    from rich.table import Table

    def cell(metrics: dict[str, float] | None, key: str) -> str:
        value = float("nan") if metrics is None else metrics.get(key, float("nan"))
        if value != value:  # NaN: the slice has one class, the figure does not exist
            return "-"
        return f"{value:.0f}" if key.startswith("n") else f"{value:.4f}"

    columns = ["roc_auc", "pr_auc", "tpr_at_fpr_1e-2", "tpr_at_fpr_1e-3", "n", "n_pos"]
    overall = Table("model", *columns, title=f"{report.detection}: {report.model}")
    overall.add_row("vigil", *(cell(report.metrics, c) for c in columns))
    if report.baseline is not None:
        overall.add_row("baseline", *(cell(report.baseline, c) for c in columns))
    console.print(overall)
    if report.groups:
        with_baseline = report.baseline is not None
        headers = ["slice", "n", "n_pos", "flagged at FPR 1e-3: vigil"]
        headers += ["baseline"] if with_baseline else []
        headers += ["ROC AUC: vigil"] + (["baseline"] if with_baseline else [])

        def auc(metrics: dict[str, float] | None) -> str:
            own = cell(metrics, "roc_auc")
            return own if own != "-" else cell(metrics, "roc_auc_vs_rest")

        groups = Table(
            *headers,
            title="per slice. flagged: share at the whole data's FPR 1e-3 threshold (a "
            "detection rate for attack-only slices, a false-positive rate for benign ones); "
            "ROC AUC of a one-class slice: against every row of the other class",
        )
        for name, metrics in report.groups.items():
            base = report.baseline_groups.get(name)
            row = [name or "(none)", cell(metrics, "n"), cell(metrics, "n_pos")]
            row.append(cell(metrics, "flagged_at_fpr_1e-3"))
            row += [cell(base, "flagged_at_fpr_1e-3")] if with_baseline else []
            row.append(auc(metrics))
            row += [auc(base)] if with_baseline else []
            groups.add_row(*row)
        console.print(groups)
    at = report.alerts_at_threshold
    console.print(
        f"at the model's threshold {report.threshold:.4f}: TPR {at['tpr']:.4f}, "
        f"FPR {at['fpr']:.5f}, {at['alerts']:.0f} alerts; threshold for FPR 1e-3 on this data: "
        f"{report.metrics.get('threshold_at_fpr_1e-3', float('nan')):.4f}"
    )
    if report.robustness:
        for key, value in report.robustness.items():
            console.print(f"  {key}: {value:.4f}")
    if report.errors:
        _render_errors(report.errors, console)


def _render_errors(errors: list[ErrorRow], console: Any) -> None:
    from rich.markup import escape
    from rich.table import Table

    with_baseline = any(e.baseline_score is not None for e in errors)
    headers = ["kind", "score", *(["baseline"] if with_baseline else [])]
    table = Table(
        *headers,
        "slice",
        "why (indicators; log-odds)",
        "text",
        title="rows the model got most wrong (on public data, check the labels of the "
        "benign ones first)",
        show_lines=True,
    )
    for error in errors:
        text = " ".join(error.text.split())
        shown = text if len(text) <= 120 else text[:119] + "…"
        baseline = [] if not with_baseline else [f"{error.baseline_score:.6f}"]
        table.add_row(
            error.kind,
            f"{error.score:.6f}",
            *baseline,
            escape(error.group),
            escape(error.why),
            escape(shown),
        )
    console.print(table)
