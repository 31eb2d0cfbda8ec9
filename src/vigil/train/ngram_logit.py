"""Fit the hashed character n-gram logistic regression that domain features stack on.

The tree model gets the regression's log-odds as one column. The extractor calls this at
fit time (it is passed in: the scoring path imports no solver); training rows get that
column out of fold like every fitted feature (see ``vigil.train.entity.fit_features``).
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
from numpy.typing import NDArray

from vigil.features._charhash import NgramLogit, ngram_rows

#: 2**18 buckets: a 1 MiB float32 table in the model file.
NGRAM_BITS = 18
#: Inverse regularization strength, as in the peer baseline's ballpark.
C = 4.0


def ngram_matrix(names: pa.Array, bits: int = NGRAM_BITS) -> object:
    """The scipy CSR matrix :class:`NgramLogit` multiplies (padding bucket dropped)."""
    from scipy.sparse import csr_matrix

    rows, buckets, scale = ngram_rows(names, bits)
    keep = buckets != (1 << bits) - 1
    values = scale[rows[keep]].astype(np.float64)
    return csr_matrix((values, (rows[keep], buckets[keep])), shape=(len(names), 1 << bits))


def fit_ngram_model(
    names: pa.Array, labels: NDArray[np.int64], *, bits: int = NGRAM_BITS, c: float = C
) -> NgramLogit:
    """Logistic regression (balanced classes) over the hashed n-grams of ``names``."""
    from sklearn.linear_model import LogisticRegression

    matrix = ngram_matrix(names, bits)
    # the primal solver does not shuffle; the fixed state keeps a switch to dual seeded
    model = LogisticRegression(
        C=c, class_weight="balanced", solver="liblinear", max_iter=200, random_state=0
    )
    model.fit(matrix, labels)
    weights = np.asarray(model.coef_[0], dtype=np.float32)
    weights[-1] = 0.0
    assert len(weights) == 1 << bits
    return NgramLogit(weights, float(model.intercept_[0]))
