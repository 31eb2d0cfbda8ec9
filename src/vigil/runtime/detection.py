"""A detection: one named object that every engine and service binds the same way."""

from __future__ import annotations

import re
import warnings
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from functools import cached_property
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import NDArray

from vigil.defaults import DEFAULT_ALIAS
from vigil.errors import ConfigError, SlowPathWarning
from vigil.runtime.explain import Explanation, explain_rows
from vigil.runtime.scorer import Scorer

if TYPE_CHECKING:
    import pyarrow as pa

    from vigil._types import StringColumn
    from vigil.features.base import Extractor, FeatureMatrix
    from vigil.store import Store

_NAME = re.compile(r"^[a-z][a-z0-9_]{0,63}$")


@dataclass(frozen=True)
class Detection:
    """What a detection is, as plain data: name, features, model alias, threshold.

    ``threshold`` None means "the threshold stored in the model's manifest", which training
    chooses for a target false-positive rate.
    """

    name: str
    extractor: str
    model_alias: str = DEFAULT_ALIAS
    threshold: float | None = None
    description: str = ""

    def __post_init__(self) -> None:
        if not _NAME.match(self.name):
            raise ConfigError(
                f"detection name {self.name!r} must be lower case letters, digits and _ "
                "(it becomes part of SQL function names)"
            )
        if self.threshold is not None and not 0.0 <= self.threshold <= 1.0:
            raise ConfigError(
                f"detection {self.name!r}: threshold {self.threshold} is outside [0, 1]"
            )

    @property
    def score_function(self) -> str:
        return f"vigil_{self.name}_score"

    @property
    def indicators_function(self) -> str:
        return f"vigil_{self.name}_iocs"

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Detection:
        unknown = set(data) - set(cls.__dataclass_fields__)
        if unknown:
            raise ConfigError(f"detection has unknown keys {sorted(unknown)}")
        return cls(**data)

    def bind(self, store: Store, **scorer_options: Any) -> BoundDetection:
        """This detection ready to score, its model followed in ``store``."""
        return BoundDetection(self, store, **scorer_options)


#: Detections that ship with vigil.
BUILTIN_DETECTIONS: dict[str, Detection] = {
    "powershell": Detection(
        name="powershell",
        extractor="powershell",
        description="Malicious PowerShell command lines and script blocks",
    ),
}


class BoundDetection:
    """A :class:`Detection` with its extractor and a live :class:`Scorer`."""

    def __init__(self, detection: Detection, store: Store, **scorer_options: Any) -> None:
        from vigil.features import get_extractor

        self.detection = detection
        self.extractor: Extractor = get_extractor(detection.extractor)
        self.scorer = Scorer(
            store,
            detection.name,
            feature_spec=self.extractor.spec.id,
            alias=detection.model_alias,
            **scorer_options,
        )

    @property
    def name(self) -> str:
        return self.detection.name

    @property
    def threshold(self) -> float:
        if self.detection.threshold is not None:
            return self.detection.threshold
        return self.scorer.threshold

    def score(self, values: StringColumn) -> NDArray[np.float64]:
        """One score per input, NaN where the input is null; never fails on odd input."""
        from vigil.features.base import distinct

        uniques, index, valid = distinct(values)
        scores = np.full(len(index), np.nan, dtype=np.float64)
        if len(uniques) == 0:
            return scores
        distinct_scores = self._score_distinct(uniques)
        scores[valid] = distinct_scores[index[valid]]
        return scores

    def features(self, values: StringColumn) -> FeatureMatrix:
        return self.extractor.transform(values)

    def indicators(self, values: StringColumn) -> pa.Array:
        return self.extractor.indicators(values)

    def explain(self, values: StringColumn) -> list[Explanation | None]:
        """Why each input scored as it did; None for null inputs. Costs extra model runs."""
        matrix = self.extractor.transform(values)
        return explain_rows(
            matrix,
            self.extractor.indicators(values).to_pylist(),
            self.extractor.feature_groups(),
            self.scorer.score,
            lambda features: self.scorer.score(features, logit=True),
            threshold=self.threshold,
            model=self.scorer.manifest.ref,
        )

    def _score_distinct(self, uniques: pa.Array) -> NDArray[np.float64]:
        try:
            matrix = self.extractor.transform(uniques)
        except Exception as exc:  # an extractor bug must not fail the whole batch
            return self._score_row_by_row(uniques, exc)
        return self.scorer.score(matrix.values)

    def _score_row_by_row(self, uniques: pa.Array, cause: Exception) -> NDArray[np.float64]:
        warnings.warn(
            f"{self.name}: batch feature extraction failed ({cause!r}); scoring "
            f"{len(uniques)} values one by one, NaN for those that fail",
            SlowPathWarning,
            stacklevel=3,
        )
        scores = np.full(len(uniques), np.nan, dtype=np.float64)
        for i in range(len(uniques)):  # per row: isolating the input that breaks the batch
            try:
                matrix = self.extractor.transform(uniques.slice(i, 1))
            except Exception:
                continue
            scores[i] = self.scorer.score(matrix.values)[0]
        return scores

    @cached_property
    def sql_name(self) -> str:
        return self.detection.score_function
