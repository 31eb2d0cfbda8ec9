"""Calibration maps from a model's raw margin to log-odds that read as probabilities.

A model trained with class weights ranks well but its sigmoid(margin) over-states the
weighted class; a monotone map fitted on held-out data undoes that without changing the
ranking. The same map is applied three ways that must agree: fitted here in float64,
applied in numpy by :meth:`Calibration.logit`, and written as ONNX nodes by
:meth:`Calibration.onnx_nodes` (float32), so the served file scores what training measured.

* ``platt``: ``logit = a * margin + b``, a logistic regression on the margin.
* ``isotonic``: a non-decreasing, piecewise-linear map of the margin to log-odds, through
  the pooled-adjacent-violators fit; flat below its first and above its last knot.
* ``none``: ``logit = margin``.

Both fits use Platt's smoothed targets (``(n+ + 1) / (n+ + 2)`` for positives,
``1 / (n- + 2)`` for negatives), so log-odds stay finite on separable validation data.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal, cast

import numpy as np
from numpy.typing import NDArray

from vigil.errors import ConfigError, DataError, MissingExtra

try:
    from onnx import NodeProto, TensorProto, helper, numpy_helper
except ImportError as exc:  # the `train` extra is not installed
    raise MissingExtra("onnx", "train") from exc

Method = Literal["platt", "isotonic", "none"]
METHODS: tuple[Method, ...] = ("platt", "isotonic", "none")

#: At most this many linear pieces in an isotonic map: knots closer than 1/64 of the
#: fitted margin range are pooled. Every piece costs one multiply-add per scored row, and
#: finer steps only fit the validation split's noise.
MAX_PIECES = 64

#: Newton iterations allowed for Platt scaling; it converges in under 10 on real data.
_PLATT_MAX_ITER = 100


@dataclass(frozen=True)
class Calibration:
    """A fitted margin -> log-odds map; parameters are float32 values, as in the ONNX file.

    ``a``, ``b`` are Platt's slope and intercept; ``knots`` (increasing margins) and
    ``logits`` (non-decreasing log-odds at those knots) define the isotonic map.
    """

    method: Method = "none"
    a: float = 1.0
    b: float = 0.0
    knots: tuple[float, ...] = ()
    logits: tuple[float, ...] = ()

    def __post_init__(self) -> None:
        if self.method not in METHODS:
            raise ConfigError(
                f"calibration must be one of {', '.join(METHODS)}, got {self.method!r}"
            )
        for name in ("a", "b"):
            value = _f32(getattr(self, name))
            if not math.isfinite(value):
                raise ConfigError(f"Calibration.{name} must be finite, got {value!r}")
            object.__setattr__(self, name, value)
        knots = tuple(_f32(k) for k in self.knots)
        logits = tuple(_f32(v) for v in self.logits)
        if self.method == "isotonic":
            k, v = np.array(knots), np.array(logits)
            if (
                len(knots) < 2
                or len(knots) != len(logits)
                or not np.all(np.isfinite(k))
                or not np.all(np.isfinite(v))
                or np.any(np.diff(k) <= 0)
                or np.any(np.diff(v) < 0)
            ):
                raise ConfigError(
                    "an isotonic calibration needs >= 2 increasing finite knots and as many "
                    f"non-decreasing finite logits, got knots={knots!r} logits={logits!r}"
                )
        object.__setattr__(self, "knots", knots)
        object.__setattr__(self, "logits", logits)

    @classmethod
    def fit(cls, method: Method, margin: NDArray[Any], y: NDArray[Any]) -> Calibration:
        """Fit ``method`` on validation margins and 0/1 labels (both classes needed)."""
        m = np.asarray(margin, dtype=np.float64).reshape(-1)
        labels = np.asarray(y).reshape(-1).astype(bool)
        if m.shape != labels.shape or not np.all(np.isfinite(m)):
            raise DataError(
                f"calibration needs one finite margin per label, got {m.shape[0]} margins "
                f"for {labels.shape[0]} labels"
            )
        n_pos = int(labels.sum())
        n_neg = labels.shape[0] - n_pos
        if method != "none" and (n_pos == 0 or n_neg == 0):
            raise DataError(
                f"calibration needs both classes in the validation split, got {n_pos} "
                f"positive and {n_neg} negative rows; use a larger or stratified split"
            )
        if method == "none":
            return cls("none")
        target = np.where(labels, (n_pos + 1.0) / (n_pos + 2.0), 1.0 / (n_neg + 2.0))
        if method == "platt":
            a, b = _fit_platt(m, target)
            return cls("platt", a=a, b=b)
        if method == "isotonic":
            knots, logits = _fit_isotonic(m, target)
            return cls("isotonic", knots=knots, logits=logits)
        raise ConfigError(f"calibration must be one of {', '.join(METHODS)}, got {method!r}")

    def logit(self, margin: NDArray[Any]) -> NDArray[np.float64]:
        """Calibrated log-odds of each margin, in float64 from the float32 parameters."""
        m = np.asarray(margin, dtype=np.float64).reshape(-1)
        if self.method == "platt":
            return self.a * m + self.b
        if self.method == "isotonic":
            lo, _, slopes, base = self._pieces()
            # Same function as the ONNX graph's sum of clipped pieces, in O(N log K).
            reached = np.concatenate([[base], base + np.cumsum(slopes * np.diff(self.knots))])
            piece = np.clip(np.searchsorted(lo, m, side="right") - 1, 0, lo.shape[0] - 1)
            inside = np.clip(m, self.knots[0], self.knots[-1])
            out = reached[piece] + slopes[piece] * (inside - lo[piece])
            return np.asarray(out, dtype=np.float64)
        return m

    def onnx_nodes(self, margin: str, logit: str) -> tuple[list[NodeProto], list[TensorProto]]:
        """Nodes and initializers computing ``logit`` [N, 1] from ``margin`` [N, 1]."""
        if self.method == "platt":
            return (
                [
                    helper.make_node("Mul", [margin, "calibration_a"], ["scaled_margin"]),
                    helper.make_node("Add", ["scaled_margin", "calibration_b"], [logit]),
                ],
                [_tensor([self.a], "calibration_a"), _tensor([self.b], "calibration_b")],
            )
        if self.method == "isotonic":
            # base + sum_k slope_k * (clip(margin, lo_k, hi_k) - lo_k): [N, 1] broadcast
            # against the K pieces, then one [N, K] x [K, 1] product.
            lo, hi, slopes, base = self._pieces()
            return (
                [
                    helper.make_node("Max", [margin, "knots_lo"], ["above_lo"]),
                    helper.make_node("Min", ["above_lo", "knots_hi"], ["clipped"]),
                    helper.make_node("Sub", ["clipped", "knots_lo"], ["into_piece"]),
                    helper.make_node("MatMul", ["into_piece", "slopes"], ["rise"]),
                    helper.make_node("Add", ["rise", "logit_base"], [logit]),
                ],
                [
                    _tensor(lo, "knots_lo"),
                    _tensor(hi, "knots_hi"),
                    _tensor(slopes.reshape(-1, 1), "slopes"),
                    _tensor([base], "logit_base"),
                ],
            )
        return [helper.make_node("Identity", [margin], [logit])], []

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready parameters of this method only."""
        if self.method == "platt":
            return {"method": "platt", "a": self.a, "b": self.b}
        if self.method == "isotonic":
            return {"method": "isotonic", "knots": list(self.knots), "logits": list(self.logits)}
        return {"method": "none"}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Calibration:
        """The calibration :meth:`to_dict` wrote."""
        known = {"method", "a", "b", "knots", "logits"}
        if set(data) - known or "method" not in data:
            raise ConfigError(
                f"a calibration has keys 'method' and some of {sorted(known - {'method'})}, "
                f"got {sorted(data)}"
            )
        return cls(
            method=cast(Method, data["method"]),
            a=float(data.get("a", 1.0)),
            b=float(data.get("b", 0.0)),
            knots=tuple(data.get("knots", ())),
            logits=tuple(data.get("logits", ())),
        )

    def _pieces(
        self,
    ) -> tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.float64], float]:
        """Piece starts, ends, float32-rounded slopes and the log-odds at the first knot."""
        knots = np.array(self.knots, dtype=np.float64)
        logits = np.array(self.logits, dtype=np.float64)
        slopes = (np.diff(logits) / np.diff(knots)).astype(np.float32).astype(np.float64)
        return knots[:-1], knots[1:], slopes, self.logits[0]


def _fit_platt(margin: NDArray[np.float64], target: NDArray[np.float64]) -> tuple[float, float]:
    """Newton's method on the cross-entropy of sigmoid(a * margin + b) against ``target``,
    halving steps that do not lower it. Convex in (a, b); smoothed targets keep it bounded."""
    design = np.column_stack([margin, np.ones_like(margin)])
    n_pos = float(np.sum(target > 0.5))
    params = np.array([0.0, math.log((n_pos + 1.0) / (margin.shape[0] - n_pos + 1.0))])

    def loss(p: NDArray[np.float64]) -> float:
        z = design @ p
        return float(np.sum(np.logaddexp(0.0, z) - target * z))

    current = loss(params)
    for _ in range(_PLATT_MAX_ITER):
        z = design @ params
        prob = np.exp(-np.logaddexp(0.0, -z))
        grad = design.T @ (prob - target)
        hess = design.T @ (design * (prob * (1.0 - prob))[:, None]) + 1e-12 * np.eye(2)
        step = np.linalg.solve(hess, grad)
        scale = 1.0
        while scale > 1e-10:
            candidate = params - scale * step
            value = loss(candidate)
            if value <= current:
                break
            scale /= 2
        else:
            break
        params, previous, current = candidate, current, value
        if previous - current <= 1e-12 * max(1.0, abs(current)):
            break
    return float(params[0]), float(params[1])


def _fit_isotonic(
    margin: NDArray[np.float64], target: NDArray[np.float64]
) -> tuple[tuple[float, ...], tuple[float, ...]]:
    """Knots and log-odds of a pooled isotonic fit of ``target`` on ``margin``."""
    try:
        from sklearn.isotonic import isotonic_regression
    except ImportError as exc:
        raise MissingExtra("scikit-learn", "train") from exc

    # Trees give many equal margins: pool those first, weighted by their counts.
    values, inverse, counts = np.unique(margin, return_inverse=True, return_counts=True)
    means = np.bincount(inverse, weights=target) / counts
    fitted = np.asarray(
        isotonic_regression(means, sample_weight=counts.astype(np.float64), increasing=True)
    )
    starts = np.flatnonzero(np.concatenate([[True], np.diff(fitted) != 0]))
    weight = np.add.reduceat(counts.astype(np.float64), starts)
    centre = np.add.reduceat(values * counts, starts) / weight
    level = fitted[starts]
    gap = max((values[-1] - values[0]) / MAX_PIECES, 1e-3)
    knots: list[float] = []
    logits: list[float] = []
    # One pass over the PAV blocks (at most one per distinct margin): pool each block into
    # the current knot while it lies closer than `gap`. Weighted means keep the knots
    # increasing and the levels non-decreasing.
    x, v, w = centre[0], level[0], weight[0]
    for xi, vi, wi in zip(centre[1:], level[1:], weight[1:], strict=True):
        if xi - x < gap:
            x, v, w = (x * w + xi * wi) / (w + wi), (v * w + vi * wi) / (w + wi), w + wi
        else:
            knots.append(x)
            logits.append(math.log(v / (1.0 - v)))
            x, v, w = xi, vi, wi
    knots.append(x)
    logits.append(math.log(v / (1.0 - v)))
    if len(knots) == 1:  # one level everywhere: a flat map needs two knots
        knots.append(knots[0] + 1.0)
        logits.append(logits[0])
    # float32 rounding may tie two log-odds that were increasing; never make them decrease.
    rounded = np.maximum.accumulate(np.array(logits, dtype=np.float32))
    return tuple(_f32(k) for k in knots), tuple(float(v) for v in rounded)


def _f32(value: float) -> float:
    """``value`` rounded to the nearest float32, as a Python float."""
    return float(np.float32(value))


def _tensor(values: NDArray[np.float64] | list[float], name: str) -> TensorProto:
    return numpy_helper.from_array(np.ascontiguousarray(values, dtype=np.float32), name)


__all__ = ["MAX_PIECES", "METHODS", "Calibration", "Method"]
