"""The peer baseline: character n-gram TF-IDF + logistic regression (scikit-learn)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from numpy.typing import NDArray

#: The n-gram range a data scientist would pick first, per extractor: 3-5 for scripts,
#: 1-4 for short entity names.
NGRAM_RANGES: dict[str, tuple[int, int]] = {"powershell": (3, 5), "domain": (1, 4), "ip": (1, 4)}


class CharNgramBaseline:
    """What a data scientist would try first; vigil's figures are reported next to it."""

    def __init__(
        self,
        ngram_range: tuple[int, int] = (3, 5),
        max_features: int = 500_000,
        max_chars: int = 20_000,
    ) -> None:
        from sklearn.feature_extraction.text import TfidfVectorizer
        from sklearn.linear_model import LogisticRegression

        self.max_chars = max_chars
        self.vectorizer = TfidfVectorizer(
            analyzer="char",
            ngram_range=ngram_range,
            lowercase=True,
            sublinear_tf=True,
            min_df=2,
            max_features=max_features,
            dtype=np.float32,
        )
        self.model: Any = LogisticRegression(max_iter=2000, C=10.0, class_weight="balanced")

    @classmethod
    def for_extractor(cls, extractor: str) -> CharNgramBaseline:
        return cls(ngram_range=NGRAM_RANGES.get(extractor, (3, 5)))

    def _clip(self, texts: Sequence[str | None]) -> list[str]:
        return [(t or "")[: self.max_chars] for t in texts]

    def fit(self, texts: Sequence[str | None], labels: NDArray[np.int64]) -> CharNgramBaseline:
        x = self.vectorizer.fit_transform(self._clip(texts))
        self.model.fit(x, labels)
        return self

    def score(self, texts: Sequence[str | None]) -> NDArray[np.float64]:
        x = self.vectorizer.transform(self._clip(texts))
        return np.asarray(self.model.predict_proba(x)[:, 1], dtype=np.float64)
