"""Fit the wide part: logistic regression on hashed character 3-5-grams, cross-fitted.

The PowerShell extractor's ``wide_logit`` column is the log-odds of a linear model over
the hashed, binary, L2-normalized character 3-5-grams of each row's decoded content (see
:mod:`vigil.features._wide`). The network stacks on that column, so it must learn from
log-odds like those it will see on new rows: :func:`fit_wide` returns out-of-fold log-odds
for the training rows (each from a model fitted without the row's near-copy group), and an
extractor carrying weights fitted on all of them, for validation and serving.

Rows are grouped by their normalized content with digits blanked, so an encoded
re-launch or an obfuscated copy that the pipeline adds (same content once decoded and
normalized) lands in its original's fold and gets a log-odds consistent with it.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from numpy.typing import NDArray

from vigil.errors import DataError
from vigil.features._ngrams import clip_rows
from vigil.features._wide import WIDE_BITS, WIDE_MAX_BYTES, WideState, distinct_buckets
from vigil.features.normalize import from_buffers

if TYPE_CHECKING:
    from vigil._types import StringColumn
    from vigil.features.powershell import PowerShellExtractor

_DIGIT = np.zeros(256, dtype=bool)
_DIGIT[list(b"0123456789")] = True


@dataclass(frozen=True)
class WideConfig:
    """Hyper-parameters of the wide part.

    ``c`` is the inverse L2 penalty of the logistic regression (liblinear's dual solver,
    balanced class weights). In 5-fold cross-validation on the shared data's training
    split, C = 3, 10, 30, 100 gave ROC AUC 0.9962, 0.9967, 0.9968, 0.9969; 30 fits in
    a third of 100's time. ``tol`` 1e-4, 1e-3 and 1e-2 gave the same figures (0.9966);
    1e-3 fits ~25% faster than 1e-4. The hashed space and byte budget: see
    :mod:`vigil.features._wide`.
    """

    bits: int = WIDE_BITS
    max_bytes: int = WIDE_MAX_BYTES
    c: float = 30.0
    folds: int = 5
    seed: int = 0
    max_iter: int = 1000
    tol: float = 1e-3
    chunk_rows: int = 2048

    def to_dict(self) -> dict[str, Any]:
        return {
            "bits": self.bits,
            "max_bytes": self.max_bytes,
            "c": self.c,
            "folds": self.folds,
            "seed": self.seed,
        }


@dataclass(frozen=True)
class WideFit:
    """A fitted wide part.

    ``extractor`` carries weights fitted on every row; ``out_of_fold[i]`` is row ``i``'s
    log-odds from the model fitted without its group's fold (0.0 for null rows).
    """

    extractor: PowerShellExtractor
    out_of_fold: NDArray[np.float64]
    summary: dict[str, Any] = field(default_factory=dict)


def wide_matrix(
    data: NDArray[np.uint8],
    offsets: NDArray[np.int64],
    *,
    bits: int = WIDE_BITS,
    max_bytes: int = WIDE_MAX_BYTES,
    chunk_rows: int = 2048,
) -> Any:
    """Rows' binary n-gram buckets scaled to unit L2 norm, as a scipy CSR matrix.

    Exactly what :meth:`WideState.logits` sums over: ``X @ weights + bias`` is the log-odds.
    """
    import scipy.sparse as sp

    n = len(offsets) - 1
    padding = (1 << bits) - 1
    data, offsets = clip_rows(data, offsets, max_bytes)
    parts = []
    for start in range(0, max(n, 1), chunk_rows):
        stop = min(n, start + chunk_rows)
        chunk = offsets[start : stop + 1] - offsets[start]
        rows: list[NDArray[np.int64]] = [np.zeros(0, dtype=np.int64)]
        buckets: list[NDArray[np.uint16]] = [np.zeros(0, dtype=np.uint16)]
        for part in distinct_buckets(data[offsets[start] : offsets[stop]], chunk, bits):
            rows.append(np.repeat(part.rows, part.counts))
            buckets.append(part.buckets[part.buckets != padding])
        row = np.concatenate(rows)
        per_row = np.bincount(row, minlength=stop - start)
        values = (1.0 / np.sqrt(per_row[row])).astype(np.float32)
        parts.append(
            sp.csr_matrix(
                (values, (row, np.concatenate(buckets))),
                shape=(stop - start, 1 << bits),
                dtype=np.float32,
            )
        )
    return sp.vstack(parts, format="csr")


def _ids(data: NDArray[np.uint8], offsets: NDArray[np.int64]) -> NDArray[np.int64]:
    """One id per distinct row content, numbered in order of first appearance."""
    if len(offsets) == 1:
        return np.zeros(0, dtype=np.int64)
    encoded = pc.dictionary_encode(from_buffers(data, offsets).cast(pa.large_binary()))
    return np.asarray(encoded.indices, dtype=np.int64)


def fit_wide(
    extractor: PowerShellExtractor,
    values: StringColumn,
    labels: NDArray[np.integer],
    config: WideConfig | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> WideFit:
    """Fit the wide part on ``values``; out-of-fold log-odds for them and the fitted extractor.

    Rows with the same normalized content and label are fitted once. Folds are drawn per
    near-copy group (content with digits blanked), deterministically from ``config.seed``.
    ``progress(done, total)`` is called after each of the ``folds + 1`` fits.
    """
    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import roc_auc_score

    config = config or WideConfig()
    started = time.perf_counter()
    content = extractor.content(values)
    labels = np.asarray(labels, dtype=np.int64)
    if len(labels) != len(content):
        raise DataError(f"{len(content)} texts but {len(labels)} labels")
    valid_rows = np.flatnonzero(content.valid)
    y_rows = labels[valid_rows]
    if len(valid_rows) == 0 or y_rows.min() == y_rows.max():
        raise DataError("the wide part needs both malicious (1) and benign (0) non-null rows")
    data, offsets = content.data, content.offsets
    exact = _ids(data, offsets)[valid_rows] * 2 + y_rows
    near = _ids(np.where(_DIGIT[data], np.uint8(0x30), data), offsets)[valid_rows]

    # Units: distinct (content, label); each in the fold of its row's near-copy group.
    _, first_row, unit_of_row = np.unique(exact, return_index=True, return_inverse=True)
    unit_rows = valid_rows[first_row]
    y = labels[unit_rows]
    groups, group_of_unit = np.unique(near[first_row], return_inverse=True)
    folds = max(2, min(config.folds, len(groups)))
    fold_of_group = np.random.default_rng(config.seed).permutation(len(groups)) % folds
    fold = fold_of_group[group_of_unit]

    unit_offsets = np.zeros(len(unit_rows) + 1, dtype=np.int64)
    np.cumsum(offsets[unit_rows + 1] - offsets[unit_rows], out=unit_offsets[1:])
    starts = np.repeat(offsets[unit_rows] - unit_offsets[:-1], np.diff(unit_offsets))
    unit_data = data[np.arange(int(unit_offsets[-1]), dtype=np.int64) + starts]
    x = wide_matrix(
        unit_data,
        unit_offsets,
        bits=config.bits,
        max_bytes=config.max_bytes,
        chunk_rows=config.chunk_rows,
    )

    def model() -> Any:
        return LogisticRegression(
            C=config.c,
            class_weight="balanced",
            solver="liblinear",
            dual=True,  # ~7x faster than the primal here: far fewer rows than buckets
            max_iter=config.max_iter,
            tol=config.tol,
            # the dual solver visits rows in a shuffled order: unseeded, it draws from
            # numpy's global state and the same data and seed gave another model
            random_state=config.seed,
        )

    out_of_fold = np.zeros(len(unit_rows), dtype=np.float64)
    for f in range(folds):
        held = fold == f
        kept_labels = y[~held]
        if held.any() and kept_labels.min() < kept_labels.max():
            out_of_fold[held] = model().fit(x[~held], kept_labels).decision_function(x[held])
        # else: no fold to learn both classes from; its rows stay at 0.0 (even odds)
        if progress:
            progress(f + 1, folds + 1)
    full = model().fit(x, y)
    if progress:
        progress(folds + 1, folds + 1)
    state = WideState(
        np.asarray(full.coef_[0], dtype=np.float32), float(full.intercept_[0]), config.max_bytes
    )
    per_row = np.zeros(len(labels), dtype=np.float64)
    per_row[valid_rows] = out_of_fold[unit_of_row]
    summary: dict[str, Any] = {
        **config.to_dict(),
        "folds": folds,
        "units": len(unit_rows),
        "groups": len(groups),
        "nonzero_weights": int(np.count_nonzero(state.weights)),
        "seconds": round(time.perf_counter() - started, 1),
    }
    if y.min() != y.max():
        summary["out_of_fold_roc_auc"] = round(float(roc_auc_score(y, out_of_fold)), 5)
    return WideFit(extractor.with_wide(state), per_row, summary)
