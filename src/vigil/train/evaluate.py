"""Detection metrics from labels and scores: AUCs, TPR at a fixed FPR, alert thresholds.

Conventions, shared with the runtime: a row is flagged when ``score >= threshold``; label
1 is malicious. Rows whose score is NaN (null inputs) are left out of every metric. A
metric that is undefined on the data given (only one class present, no rows) is NaN; these
functions never raise for that.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from vigil.errors import DataError, MissingExtra

#: Default false-positive rates reported by :meth:`Metrics.from_scores`.
DEFAULT_FPRS: tuple[float, ...] = (1e-2, 1e-3)


def roc_auc(y: ArrayLike, scores: ArrayLike) -> float:
    """Area under the ROC curve; NaN unless both classes are present."""
    labels, values = _clean(y, scores)
    if not _both_classes(labels):
        return math.nan
    metrics = _sklearn_metrics()
    return float(metrics.roc_auc_score(labels, values))


def pr_auc(y: ArrayLike, scores: ArrayLike) -> float:
    """Average precision (area under the precision-recall curve, step-wise); NaN unless
    both classes are present."""
    labels, values = _clean(y, scores)
    if not _both_classes(labels):
        return math.nan
    metrics = _sklearn_metrics()
    return float(metrics.average_precision_score(labels, values))


def threshold_for_fpr(y: ArrayLike, scores: ArrayLike, fpr: float) -> float:
    """The smallest threshold whose false-positive rate is at most ``fpr``.

    Rows are flagged when ``score >= threshold``. With ``k = floor(fpr * n_negatives)``
    false positives allowed, the threshold is the next representable number above the
    (k+1)-th highest negative score, in the scores' own float precision. Negatives tied
    at that score are therefore all left unflagged: flagging any of them would flag all.
    So the FPR achieved can be below ``fpr`` when scores tie, and with fewer than
    ``1 / fpr`` negatives only ``fpr = 0`` is resolvable (the threshold sits just above
    the highest negative).

    ``fpr >= 1`` gives ``-inf`` (flag everything). Needs only negatives: NaN when there
    are none.
    """
    _check_fpr(fpr)
    labels, values = _clean(y, scores)
    negatives = values[~labels]
    if negatives.size == 0:
        return math.nan
    allowed = math.floor(fpr * negatives.size + 1e-9)  # 1e-9: 0.29 * 100 is 28.999...
    if allowed >= negatives.size:
        return -math.inf
    # (allowed+1)-th highest = index n - allowed - 1 in ascending order.
    boundary = np.partition(negatives, negatives.size - allowed - 1)[negatives.size - allowed - 1]
    return float(np.nextafter(boundary, np.inf))


def tpr_at_fpr(y: ArrayLike, scores: ArrayLike, fpr: float) -> float:
    """Share of positives flagged at :func:`threshold_for_fpr`; NaN unless both classes."""
    labels, values = _clean(y, scores)
    if not _both_classes(labels):
        return math.nan
    threshold = threshold_for_fpr(labels, values, fpr)
    return float(np.mean(values[labels] >= threshold))


@dataclass(frozen=True)
class Metrics:
    """The figures every training run and evaluation report.

    ``tpr_at_fpr`` and ``threshold_at_fpr`` map each requested FPR to its value. With
    ``n_neg < 1 / fpr`` that FPR cannot be resolved (one false positive already exceeds
    it); reports should say so rather than trust the figure.
    """

    roc_auc: float
    pr_auc: float
    tpr_at_fpr: Mapping[float, float]
    threshold_at_fpr: Mapping[float, float]
    n: int
    n_pos: int
    n_neg: int

    @classmethod
    def from_scores(
        cls, y: ArrayLike, scores: ArrayLike, fprs: Iterable[float] = DEFAULT_FPRS
    ) -> Metrics:
        labels, values = _clean(y, scores)
        fprs = tuple(fprs)
        n_pos = int(labels.sum())
        return cls(
            roc_auc=roc_auc(labels, values),
            pr_auc=pr_auc(labels, values),
            tpr_at_fpr={f: tpr_at_fpr(labels, values, f) for f in fprs},
            threshold_at_fpr={f: threshold_for_fpr(labels, values, f) for f in fprs},
            n=int(labels.size),
            n_pos=n_pos,
            n_neg=int(labels.size) - n_pos,
        )

    def coarse_fprs(self) -> tuple[float, ...]:
        """The requested FPRs too small to resolve with this many negatives."""
        return tuple(f for f in self.tpr_at_fpr if f > 0 and self.n_neg < 1 / f)

    def to_dict(self) -> dict[str, float]:
        """Flat keys: ``roc_auc``, ``pr_auc``, ``tpr_at_fpr_1e-2``, ``threshold_at_fpr_1e-2``,
        …, ``n``, ``n_pos``, ``n_neg``."""
        out: dict[str, float] = {"roc_auc": self.roc_auc, "pr_auc": self.pr_auc}
        for fpr, value in self.tpr_at_fpr.items():
            out[f"tpr_at_fpr_{fpr_key(fpr)}"] = value
        for fpr, value in self.threshold_at_fpr.items():
            out[f"threshold_at_fpr_{fpr_key(fpr)}"] = value
        out.update(n=self.n, n_pos=self.n_pos, n_neg=self.n_neg)
        return out


def fpr_key(fpr: float) -> str:
    """Compact spelling of a rate for metric names: 0.01 -> ``1e-2``, 0.005 -> ``5e-3``."""
    mantissa, exponent = f"{fpr:e}".split("e")
    mantissa = mantissa.rstrip("0").rstrip(".")
    return f"{mantissa}e{int(exponent)}"


def _check_fpr(fpr: float) -> None:
    if not 0.0 <= fpr <= 1.0:
        raise ValueError(f"fpr must be in [0, 1], got {fpr}")


def _both_classes(labels: NDArray[np.bool_]) -> bool:
    return bool(labels.any()) and not bool(labels.all())


def _clean(y: ArrayLike, scores: ArrayLike) -> tuple[NDArray[np.bool_], NDArray[np.floating]]:
    labels = np.asarray(y).reshape(-1)
    values = np.asarray(scores).reshape(-1)
    if labels.shape != values.shape:
        raise DataError(f"{labels.size} labels but {values.size} scores; expected one per row")
    if not np.isin(labels, (0, 1)).all():
        raise DataError("labels must be 0 (benign) or 1 (malicious)")
    if not np.issubdtype(values.dtype, np.floating):
        values = values.astype(np.float64)
    scored = ~np.isnan(values)
    return labels[scored].astype(bool), values[scored]


def _sklearn_metrics() -> Any:
    try:
        from sklearn import metrics
    except ImportError as exc:  # the `train` extra is not installed
        raise MissingExtra("scikit-learn", "train") from exc
    return metrics


__all__ = [
    "DEFAULT_FPRS",
    "Metrics",
    "fpr_key",
    "pr_auc",
    "roc_auc",
    "threshold_for_fpr",
    "tpr_at_fpr",
]
