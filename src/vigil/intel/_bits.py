"""Sets of sources as packed bit rows: one row per name, address or range, one bit per source.

Unions are bitwise ORs and "how many sources" is a popcount, so combining what several
ancestors or ranges say about one row stays vectorized however many sources there are.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pyarrow as pa
from numpy.typing import NDArray

Bits = NDArray[np.uint8]


def width(n_sources: int) -> int:
    """Bytes per row for ``n_sources`` bits (at least one, so empty sets keep a shape)."""
    return max(1, (n_sources + 7) // 8)


def empty(n_rows: int, n_sources: int) -> Bits:
    return np.zeros((n_rows, width(n_sources)), dtype=np.uint8)


def of_sources(source_ids: NDArray[np.integer], n_sources: int) -> Bits:
    """One row per id with only that source's bit set."""
    ids = np.asarray(source_ids, dtype=np.int64)
    rows = empty(len(ids), n_sources)
    rows[np.arange(len(ids)), ids // 8] = np.left_shift(1, ids % 8).astype(np.uint8)
    return rows


def union_into(target: Bits, rows: NDArray[np.integer], bits: Bits) -> None:
    """``target[rows[i]] |= bits[i]`` for every i, repeated rows included."""
    if len(rows):
        np.bitwise_or.at(target, np.asarray(rows, dtype=np.int64), bits)


def count(bits: Bits) -> NDArray[np.int32]:
    """How many sources each row holds."""
    counts: NDArray[np.int32] = np.bitwise_count(bits).sum(axis=1, dtype=np.int32)
    return counts


def names(bits: Bits, source_names: Sequence[str], valid: NDArray[np.bool_]) -> pa.Array:
    """``list<string>`` of the source names in each row; null where ``valid`` is False."""
    n = len(bits)
    flags = np.unpackbits(bits, axis=1, count=len(source_names), bitorder="little")
    rows, sources = np.nonzero(flags)
    offsets = np.zeros(n + 1, dtype=np.int32)
    np.cumsum(np.bincount(rows, minlength=n), out=offsets[1:])
    values = pa.array(list(source_names), type=pa.string()).take(pa.array(sources))
    return pa.ListArray.from_arrays(
        pa.array(offsets, type=pa.int32()), values, mask=pa.array(~valid)
    )
