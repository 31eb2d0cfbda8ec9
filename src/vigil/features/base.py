"""What every feature extractor provides: a named float32 matrix and a spec id."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

import numpy as np
from numpy.typing import NDArray

if TYPE_CHECKING:
    import pyarrow as pa

    from vigil._types import StringColumn


#: ONNX metadata key under which a model file carries its extractor's fitted state (JSON).
FEATURE_STATE_KEY = "vigil.feature_state"


@dataclass(frozen=True)
class FeatureSpec:
    """Everything that decides what a column of the feature matrix means.

    Its :attr:`id` goes into every model manifest; the runtime refuses a model whose id
    differs from the one this code computes, so a model can never silently read columns
    that moved or changed meaning.
    """

    extractor: str
    version: str
    names: tuple[str, ...]
    params: Mapping[str, Any] = field(default_factory=dict)

    @property
    def id(self) -> str:
        payload = json.dumps(
            {
                "extractor": self.extractor,
                "version": self.version,
                "names": list(self.names),
                "params": dict(self.params),
            },
            sort_keys=True,
            separators=(",", ":"),
        )
        return hashlib.sha256(payload.encode()).hexdigest()[:16]

    @property
    def width(self) -> int:
        return len(self.names)


@dataclass(frozen=True)
class FeatureMatrix:
    """A batch of features: ``values[i]`` describes input ``i``.

    ``valid[i]`` is False where input ``i`` was null: its row is all zeros and its score
    must come out as NULL / NaN, never as a number. ``listed[i]``, from extractors that look
    entities up in threat intelligence, is True where a source lists input ``i`` exactly
    (found by the same lookup that made the features, so a detection need not ask again).
    """

    values: NDArray[np.float32]
    names: tuple[str, ...]
    valid: NDArray[np.bool_]
    listed: NDArray[np.bool_] | None = None

    def __post_init__(self) -> None:
        if self.values.ndim != 2 or self.values.shape[1] != len(self.names):
            raise ValueError(
                f"feature matrix has shape {self.values.shape}, expected (n, {len(self.names)})"
            )
        if self.valid.shape != (self.values.shape[0],):
            raise ValueError("valid mask must have one entry per row")

    def __len__(self) -> int:
        return int(self.values.shape[0])

    def column(self, name: str) -> NDArray[np.float32]:
        return self.values[:, self.names.index(name)]


def exactly_listed(hits: Any) -> NDArray[np.bool_]:
    """Where intel hits name the entity itself in a source and no allow source covers it."""
    import pyarrow.compute as pc

    listed = np.asarray(pc.fill_null(pc.list_value_length(hits.exact_sources), 0)) > 0
    allowed = getattr(hits, "allowed", None)  # vigil.intel's hits also carry allow-lists
    if allowed is not None:
        listed &= ~np.asarray(allowed, dtype=bool)
    return listed


def distinct(values: StringColumn) -> tuple[pa.Array, NDArray[np.int64], NDArray[np.bool_]]:
    """The distinct non-null values, each row's index into them, and the rows' validity.

    Logs repeat themselves (scheduled tasks, agents): features and scores are computed once
    per distinct value and broadcast back.
    """
    import pyarrow.compute as pc

    from vigil._types import as_string_array

    array = as_string_array(values)
    encoded = pc.dictionary_encode(array)
    valid = np.asarray(array.is_valid(), dtype=bool)
    index = np.asarray(pc.fill_null(encoded.indices, 0), dtype=np.int64)
    return encoded.dictionary, index, valid


@runtime_checkable
class Extractor(Protocol):
    """A pure, vectorized function from a column of raw values to a :class:`FeatureMatrix`.

    No files, no network, no module state: the same object runs in DuckDB, Spark,
    Snowflake handlers and the services. A null input gives a defined (all-zero, invalid)
    row; no input string makes it raise.
    """

    name: str

    @property
    def spec(self) -> FeatureSpec: ...

    def transform(self, values: StringColumn) -> FeatureMatrix: ...

    def indicators(self, values: StringColumn) -> pa.Array:
        """Per input, the list of human-readable indicators it matched (for explanations)."""
        ...

    def feature_groups(self) -> Mapping[str, tuple[int, ...]]:
        """Named groups of columns that explanations switch off one at a time."""
        ...
