"""A detection: one named object that every engine and service binds the same way."""

from __future__ import annotations

import re
import warnings
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from functools import cached_property
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
from numpy.typing import NDArray

from vigil.defaults import (
    DEFAULT_ALIAS,
    SCORE_MEMO_MAX_BYTES,
    SCORE_MEMO_MAX_VALUE_BYTES,
    SCORE_MEMO_SIZE,
)
from vigil.errors import ConfigError, MissingIntelWarning, ModelNotFound, SlowPathWarning
from vigil.runtime.explain import Explanation, explain_rows
from vigil.runtime.memo import MemoStats, ScoreMemo
from vigil.runtime.scorer import LoadedScorerModel, Scorer

if TYPE_CHECKING:
    import pyarrow as pa

    from vigil._types import StringColumn
    from vigil.features.base import Extractor, FeatureMatrix
    from vigil.store import Store

_NAME = re.compile(r"^[a-z][a-z0-9_]{0,63}$")
_SQL_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,127}$")


Combine = Literal["mean", "weighted", "max"]
_COMBINE = ("mean", "weighted", "max")


@dataclass(frozen=True)
class Detection:
    """What a detection is, as plain data: name, features, model(s), threshold, SQL names.

    ``threshold`` None means "the threshold stored in the model's manifest", which training
    chooses for a target false-positive rate.

    An **ensemble** lists ``members``, each ``"detection@ref"`` (``ref`` an alias or a
    version number; ``"@ref"`` alone means this detection's own models), and how to
    ``combine`` their probabilities: ``mean``, ``weighted`` (by ``weights``) or ``max``.
    Its threshold, unless set, combines the members' thresholds the same way.

    ``listed_score``: for entity detections with threat intelligence, the score of an input
    a source lists exactly. A listing is a lookup, not a prediction; None keeps the
    model's score and leaves the listing to the indicators.
    """

    name: str
    extractor: str
    model_alias: str = DEFAULT_ALIAS
    threshold: float | None = None
    description: str = ""
    members: tuple[str, ...] = ()
    combine: Combine = "mean"
    weights: tuple[float, ...] = ()
    listed_score: float | None = None
    score_sql: str | None = None
    indicators_sql: str | None = None
    features_sql: str | None = None

    def __post_init__(self) -> None:
        if not _NAME.match(self.name):
            raise ConfigError(
                f"detection name {self.name!r} must be lower case letters, digits and _ "
                "(it becomes part of SQL function names)"
            )
        for label, value in (("threshold", self.threshold), ("listed_score", self.listed_score)):
            if value is not None and not 0.0 <= value <= 1.0:
                raise ConfigError(f"detection {self.name!r}: {label} {value} is outside [0, 1]")
        if self.combine not in _COMBINE:
            raise ConfigError(
                f"detection {self.name!r}: combine {self.combine!r} is not one of "
                f"{', '.join(_COMBINE)}"
            )
        if self.weights and len(self.weights) != len(self.members):
            raise ConfigError(
                f"detection {self.name!r}: {len(self.weights)} weights for "
                f"{len(self.members)} members; give one weight per member"
            )
        if self.combine == "weighted" and (
            not self.weights or any(w < 0 for w in self.weights) or sum(self.weights) <= 0
        ):
            raise ConfigError(
                f"detection {self.name!r}: combine 'weighted' needs one non-negative weight "
                "per member, not all zero"
            )
        for member in self.members:
            self._parse_member(member)
        for sql in (self.score_sql, self.indicators_sql, self.features_sql):
            if sql is not None and not _SQL_NAME.match(sql):
                raise ConfigError(f"detection {self.name!r}: {sql!r} is not a valid SQL name")

    @property
    def score_function(self) -> str:
        return self.score_sql or f"vigil_{self.name}_score"

    @property
    def indicators_function(self) -> str:
        return self.indicators_sql or f"vigil_{self.name}_iocs"

    @property
    def model_refs(self) -> tuple[tuple[str, str], ...]:
        """(detection in the store, alias or version) of each model this detection runs."""
        if not self.members:
            return ((self.name, self.model_alias),)
        return tuple(self._parse_member(m) for m in self.members)

    def _parse_member(self, member: str) -> tuple[str, str]:
        name, sep, ref = member.partition("@")
        name = name or self.name
        if not sep or not ref or not _NAME.match(name):
            raise ConfigError(
                f"detection {self.name!r}: ensemble member {member!r} must look like "
                "'domain@production', 'domain@7' or '@staging'"
            )
        return name, ref

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["members"] = list(self.members)
        data["weights"] = list(self.weights)
        return data

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Detection:
        unknown = set(data) - set(cls.__dataclass_fields__)
        if unknown:
            raise ConfigError(f"detection has unknown keys {sorted(unknown)}")
        values = dict(data)
        for key in ("members", "weights"):
            if key in values:
                values[key] = tuple(values[key])
        return cls(**values)

    def bind(self, store: Store, *, intel: Any = None, **options: Any) -> BoundDetection:
        """This detection ready to score, its model(s) followed in ``store``.

        ``intel`` is a threat-intelligence snapshot for extractors that look entities up.
        ``memo_size``, ``memo_max_value_bytes`` and ``memo_max_bytes`` bound the memo of
        scores across batches (``memo_size=0``: none); other options go to each
        :class:`Scorer`. See :class:`BoundDetection`.
        """
        return BoundDetection(self, store, intel=intel, **options)


#: Detections that ship with vigil.
BUILTIN_DETECTIONS: dict[str, Detection] = {
    "powershell": Detection(
        name="powershell",
        extractor="powershell",
        description="Malicious PowerShell command lines and script blocks",
    ),
    "domain": Detection(
        name="domain",
        extractor="domain",
        description=(
            "Risk of a domain name: generated (DGA), look-alike or near listed threat "
            "intelligence; names a source lists exactly score 1.0"
        ),
        listed_score=1.0,
        score_sql="vigil_domain_risk",
        indicators_sql="vigil_domain_indicators",
        features_sql="vigil_domain_features",
    ),
    "ip": Detection(
        name="ip",
        extractor="ip",
        description=(
            "Risk of an IP address from its neighbourhood in threat intelligence and its "
            "address properties; addresses a source lists exactly score 1.0"
        ),
        listed_score=1.0,
        score_sql="vigil_ip_risk",
        indicators_sql="vigil_ip_indicators",
        features_sql="vigil_ip_features",
    ),
}


class BoundDetection:
    r"""A :class:`Detection` with live :class:`Scorer`\ s and the extractors their models need.

    Each model version may carry fitted feature state (see
    :data:`~vigil.features.base.FEATURE_STATE_KEY`); the extractor for it is built once
    per version and swapped with the model.

    :meth:`score` remembers final scores across batches in a bounded memo
    (:mod:`vigil.runtime.memo`): at most ``memo_size`` values of at most
    ``memo_max_value_bytes`` UTF-8 bytes each, ``memo_max_bytes`` of them in all; it is
    emptied whenever a member model or the intel changes. ``memo_size=0`` turns it off.
    """

    def __init__(
        self,
        detection: Detection,
        store: Store,
        *,
        intel: Any = None,
        memo_size: int = SCORE_MEMO_SIZE,
        memo_max_value_bytes: int = SCORE_MEMO_MAX_VALUE_BYTES,
        memo_max_bytes: int = SCORE_MEMO_MAX_BYTES,
        **scorer_options: Any,
    ) -> None:
        from vigil.features import get_extractor

        self.detection = detection
        self.intel = intel
        self.extractor: Extractor = get_extractor(detection.extractor)
        self.scorers = [
            Scorer(
                store,
                name,
                feature_spec=self.extractor.spec.id,
                alias=ref,
                **scorer_options,
            )
            for name, ref in detection.model_refs
        ]
        weights = detection.weights or (1.0,) * len(self.scorers)
        total = float(sum(weights))
        self._weights = np.asarray([w / total for w in weights], dtype=np.float64)
        self._extractors: dict[tuple[str, int, str, int], Extractor] = {}
        if memo_size < 0:
            raise ConfigError(f"detection {detection.name!r}: memo_size {memo_size} is negative")
        self._memo = (
            ScoreMemo(memo_size, max_value_bytes=memo_max_value_bytes, max_bytes=memo_max_bytes)
            if memo_size
            else None
        )

    @property
    def name(self) -> str:
        return self.detection.name

    @property
    def scorer(self) -> Scorer:
        """The first (for single-model detections, the only) member's scorer."""
        return self.scorers[0]

    @property
    def threshold(self) -> float:
        if self.detection.threshold is not None:
            return self.detection.threshold
        thresholds = np.asarray([s.threshold for s in self.scorers], dtype=np.float64)
        return float(self._combine(thresholds[:, None])[0])

    @property
    def memo_stats(self) -> MemoStats:
        """Hits and misses of the score memo (distinct values per batch), entries held."""
        if self._memo is None:
            return MemoStats(0, 0, 0, 0)
        return self._memo.stats

    def clear_memo(self) -> None:
        """Forget every memoized score and zero the memo's counters."""
        if self._memo is not None:
            self._memo.clear()

    def extractor_for(self, model: LoadedScorerModel) -> Extractor:
        """The extractor that computes ``model``'s features (its fitted state, live intel)."""
        from vigil.features import fitted_extractor

        manifest = model.manifest
        key = (manifest.detection, manifest.version, manifest.sha256, id(self.intel))
        extractor = self._extractors.get(key)
        if extractor is None:
            extractor = fitted_extractor(
                self.detection.extractor, state=model.feature_state, intel=self.intel
            )
            trained_with = manifest.params.get("intel_fingerprint")
            if self.intel is None and trained_with:
                warnings.warn(
                    f"{self.name}: {manifest.ref} was trained with threat intelligence "
                    f"(snapshot {str(trained_with)[:12]}) but is scored without any, so its "
                    "intel features all read 'nothing listed' and names or addresses with "
                    "listed relatives score lower than its figures say; configure the "
                    "[intel.sources] it was trained with (and drop --no-intel)",
                    MissingIntelWarning,
                    stacklevel=3,
                )
            if len(self._extractors) > 16:
                self._extractors.clear()
            self._extractors[key] = extractor
        return extractor

    def score(self, values: StringColumn) -> NDArray[np.float64]:
        """One score per input, NaN where the input is null; never fails on odd input.

        Each distinct value of the batch is scored once; values the memo holds from
        earlier batches (same models, same intel) are not scored again.
        """
        from vigil.features.base import distinct

        uniques, index, valid = distinct(values)
        scores = np.full(len(index), np.nan, dtype=np.float64)
        if len(uniques) == 0:
            return scores
        # One model per member for the whole batch: a swap midway cannot mix versions,
        # and the memo's generation names exactly the models that made its scores.
        models = [scorer.current() for scorer in self.scorers]
        distinct_scores = self._score_uniques(uniques, models)
        scores[valid] = distinct_scores[index[valid]]
        return scores

    def features(self, values: StringColumn) -> FeatureMatrix:
        return self._serving_extractor().transform(values)

    def feature_table(self, values: StringColumn) -> pa.Array:
        """Named features per input as an Arrow struct array (for analysts' SQL)."""
        extractor = self._serving_extractor()
        table = getattr(extractor, "feature_table", None)
        if table is None:
            raise ConfigError(
                f"detection {self.name!r}: extractor {self.detection.extractor!r} has no "
                "feature table"
            )
        result: pa.Array = table(values)
        return result

    def indicators(self, values: StringColumn) -> pa.Array:
        return self._serving_extractor(required=False).indicators(values)

    def explain(self, values: StringColumn) -> list[Explanation | None]:
        """Why each input scored as it did; None for null inputs. Costs extra model runs.

        For an ensemble, the member with the largest weight explains.
        """
        scorer = self.scorers[int(np.argmax(self._weights))]
        model = scorer.current()
        extractor = self.extractor_for(model)
        matrix = extractor.transform(values)
        return explain_rows(
            matrix,
            extractor.indicators(values).to_pylist(),
            extractor.feature_groups(),
            lambda features: scorer.score(features, model=model),
            lambda features: scorer.score(features, logit=True, model=model),
            threshold=self.threshold,
            model=model.manifest.ref,
            fill=float(getattr(extractor, "occlusion_fill", 0.0)),
        )

    def _serving_extractor(self, *, required: bool = True) -> Extractor:
        """The first member's extractor; without a model, the unfitted one if allowed."""
        try:
            return self.extractor_for(self.scorers[0].current())
        except ModelNotFound:
            needs_state = getattr(
                self.extractor, "requires_state", hasattr(self.extractor, "with_state")
            )
            if required or needs_state:
                raise
            return self.extractor

    def _combine(self, columns: NDArray[np.float64]) -> NDArray[np.float64]:
        """Members' probabilities (one column each) into one score per row."""
        if columns.shape[0] == 1:
            return np.asarray(columns[0], dtype=np.float64)
        if self.detection.combine == "max":
            return np.asarray(np.max(columns, axis=0), dtype=np.float64)
        return np.asarray(self._weights @ columns, dtype=np.float64)

    def _score_uniques(
        self, uniques: pa.Array, models: list[LoadedScorerModel]
    ) -> NDArray[np.float64]:
        """Final scores of distinct values: from the memo, else scored (and memoized)."""
        memo = self._memo
        if memo is None:
            return self._score_distinct(uniques, models)[0]
        intel = self.intel
        generation = (
            tuple(model.manifest.sha256 for model in models),
            id(intel),
            getattr(intel, "fingerprint", None),
        )
        found = memo.lookup(generation, uniques)
        missing = found.missing
        if missing.size == 0:
            return found.scores
        todo = uniques if missing.size == len(uniques) else uniques.take(missing)
        fresh, exact = self._score_distinct(todo, models)
        found.scores[missing] = fresh
        if exact:  # scores from the row-by-row fallback are not remembered
            memo.store(found, fresh)
        return found.scores

    def _score_distinct(
        self, uniques: pa.Array, models: list[LoadedScorerModel]
    ) -> tuple[NDArray[np.float64], bool]:
        """Final scores of distinct values, and False if any came from the slow fallback.

        A fallback (batch extraction raised) may be transient, so its scores must not be
        memoized.
        """
        columns = np.empty((len(self.scorers), len(uniques)), dtype=np.float64)
        listed: NDArray[np.bool_] | None = None
        exact = True
        for m, (scorer, model) in enumerate(zip(self.scorers, models, strict=True)):
            extractor = self.extractor_for(model)
            try:
                matrix = extractor.transform(uniques)
            except Exception as exc:  # an extractor bug must not fail the whole batch
                exact = False
                columns[m] = self._score_row_by_row(extractor, scorer, model, uniques, exc)
                if listed is None and self.detection.listed_score is not None:
                    listed = self._listed(extractor, uniques)
                continue
            columns[m] = scorer.score(matrix.values, model=model)
            # Values the extractor could not read as its entity (a URL path, garbage where
            # a domain was expected) are NULL, not a score of an empty row.
            columns[m][~matrix.valid] = np.nan
            if listed is None:
                listed = matrix.listed  # from the lookup the features made: no second one
        scores = self._combine(columns)
        if listed is not None and self.detection.listed_score is not None:
            scores = np.where(listed, np.maximum(scores, self.detection.listed_score), scores)
        return scores, exact

    @staticmethod
    def _listed(extractor: Extractor, uniques: pa.Array) -> NDArray[np.bool_] | None:
        listed = getattr(extractor, "listed", None)
        if listed is None:
            return None
        try:
            return np.asarray(listed(uniques), dtype=bool)
        except Exception:  # a lookup failure leaves model scores as they are
            return None

    def _score_row_by_row(
        self,
        extractor: Extractor,
        scorer: Scorer,
        model: LoadedScorerModel,
        uniques: pa.Array,
        cause: Exception,
    ) -> NDArray[np.float64]:
        warnings.warn(
            f"{self.name}: batch feature extraction failed ({cause!r}); scoring "
            f"{len(uniques)} values one by one, NaN for those that fail",
            SlowPathWarning,
            stacklevel=5,  # the caller of score()
        )
        scores = np.full(len(uniques), np.nan, dtype=np.float64)
        for i in range(len(uniques)):  # per row: isolating the input that breaks the batch
            try:
                matrix = extractor.transform(uniques.slice(i, 1))
            except Exception:
                continue
            scores[i] = scorer.score(matrix.values, model=model)[0]
        return scores

    @cached_property
    def sql_name(self) -> str:
        return self.detection.score_function
