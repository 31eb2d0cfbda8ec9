"""Input shapes vigil accepts, normalised once at the edge."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, TypeAlias

import numpy as np
from numpy.typing import NDArray

if TYPE_CHECKING:
    import pyarrow as pa

#: A column of strings: an Arrow array, a chunked array, or a Python sequence with ``None``s.
StringColumn: TypeAlias = "pa.Array | pa.ChunkedArray | Sequence[str | None]"

#: A feature matrix: rows are inputs, columns are named features.
Matrix: TypeAlias = NDArray[np.float32]

#: Scores in [0, 1]; NaN where the input was null.
Scores: TypeAlias = NDArray[np.float64]


def as_string_array(values: StringColumn) -> pa.Array:
    """Normalise any accepted string column to one contiguous ``pa.large_string`` array.

    ``large_string`` keeps 64-bit offsets, so a batch holding a few 1 MB script blocks never
    overflows; binary input is decoded as UTF-8 with replacement rather than rejected.
    """
    import pyarrow as pa
    import pyarrow.compute as pc

    if isinstance(values, pa.ChunkedArray):
        values = values.combine_chunks() if values.num_chunks else pa.array([], type=values.type)
    if not isinstance(values, pa.Array):
        values = pa.array(list(values), type=pa.large_string())
    if pa.types.is_dictionary(values.type):
        values = values.dictionary_decode()
    if pa.types.is_binary(values.type) or pa.types.is_large_binary(values.type):
        values = pa.array(
            [None if v is None else v.decode("utf-8", "replace") for v in values.to_pylist()],
            type=pa.large_string(),
        )  # per-row: Arrow has no lenient UTF-8 cast; binary columns are rare in practice
    if pa.types.is_null(values.type):
        values = pa.nulls(len(values), pa.large_string())
    if not pa.types.is_large_string(values.type):
        values = pc.cast(values, pa.large_string())
    return values


def as_float64(values: NDArray[np.floating]) -> Scores:
    """Scores always leave vigil as float64."""
    return np.asarray(values, dtype=np.float64)
