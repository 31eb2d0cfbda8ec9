"""Explanations an analyst can read: which indicators matched, which feature groups mattered."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import NDArray

if TYPE_CHECKING:
    from vigil.features.base import FeatureMatrix


@dataclass(frozen=True)
class Explanation:
    """Why one input scored as it did.

    ``contributions`` maps a feature group (an IOC category, "text statistics",
    "token n-grams") to how much the log-odds drop when that group is switched off: the
    groups that drove the score come first. Log-odds, not probability: a score of 0.999
    has drivers too.
    """

    score: float
    threshold: float
    model: str
    indicators: tuple[str, ...] = ()
    contributions: Mapping[str, float] = field(default_factory=dict)

    @property
    def alert(self) -> bool:
        return self.score >= self.threshold

    def top(self, n: int = 3) -> list[tuple[str, float]]:
        return [(k, v) for k, v in self.contributions.items() if v > 0][:n]

    def to_dict(self) -> dict[str, Any]:
        return {
            "score": self.score,
            "threshold": self.threshold,
            "alert": self.alert,
            "model": self.model,
            "indicators": list(self.indicators),
            "contributions": dict(self.contributions),
        }

    def __str__(self) -> str:
        verdict = "ALERT" if self.alert else "below threshold"
        drivers = ", ".join(f"{name} (+{delta:.1f} log-odds)" for name, delta in self.top())
        drivers = drivers or "none"
        iocs = ", ".join(self.indicators) or "none"
        return (
            f"score {self.score:.3f} ({verdict}, threshold {self.threshold:.3f}, {self.model}); "
            f"indicators: {iocs}; driven by: {drivers}"
        )


def explain_rows(
    matrix: FeatureMatrix,
    indicators: Sequence[Sequence[str] | None],
    groups: Mapping[str, tuple[int, ...]],
    score: Callable[[NDArray[np.float32]], NDArray[np.float64]],
    log_odds: Callable[[NDArray[np.float32]], NDArray[np.float64]],
    *,
    threshold: float,
    model: str,
    fill: float = 0.0,
) -> list[Explanation | None]:
    """Occlusion: re-score each row with one feature group zeroed at a time.

    One extra model run per group for the whole batch, so explaining a handful of alerts
    is cheap; do not explain every event. ``fill`` is what "switched off" means: 0 for
    networks on scaled inputs, NaN ("missing") for tree models.
    """
    base = score(matrix.values)
    base_log_odds = log_odds(matrix.values)
    names = list(groups)
    deltas = np.zeros((len(matrix), len(names)), dtype=np.float64)
    for g, name in enumerate(names):
        occluded = matrix.values.copy()
        occluded[:, list(groups[name])] = fill
        deltas[:, g] = base_log_odds - log_odds(occluded)
    out: list[Explanation | None] = []
    for i in range(len(matrix)):  # per row: building small Python objects for display
        if not matrix.valid[i]:
            out.append(None)
            continue
        order = np.argsort(-deltas[i], kind="stable")
        contributions = {names[g]: round(float(deltas[i, g]), 4) for g in order}
        out.append(
            Explanation(
                score=float(base[i]),
                threshold=threshold,
                model=model,
                indicators=tuple(indicators[i] or ()),
                contributions=contributions,
            )
        )
    return out
