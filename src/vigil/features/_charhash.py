"""Hashed character n-grams of short strings (entity names) and a linear model over them.

Why: a logistic regression over character 1-4-grams ranks domain names well on its own
(it is the peer baseline); its log-odds, as one column beside the lexical features, give
the tree model what per-name statistics cannot see. Both training (``vigil.train``) and
serving call :func:`ngram_rows`, so they hash identically, bit for bit.

Each name is framed as ``^name$`` so prefixes and suffixes are n-grams of their own. An
n-gram of k <= 4 bytes is its exact 32-bit code; one multiply by an odd constant per size
(Fibonacci hashing) spreads it and the top ``bits`` bits pick the bucket. Rows are raw
counts scaled by ``1 / sqrt(n-grams in the row)``: no per-row de-duplication, so the cost
is a gather and a bincount.
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass
from typing import Any

import numpy as np
import pyarrow as pa
from numpy.typing import NDArray

from vigil.features.normalize import buffers

#: n-gram sizes (the peer baseline uses 1-4 for domains).
NGRAM_SIZES = (1, 2, 3, 4)
_MULTIPLIER = {1: 0x9E3779B1, 2: 0x85EBCA77, 3: 0xC2B2AE3D, 4: 0x27D4EB2F}
#: Names are cut to this many bytes (DNS names are at most 253).
MAX_BYTES = 256
_START, _END = 0x02, 0x03


def ngram_rows(
    names: pa.Array, bits: int
) -> tuple[NDArray[np.int64], NDArray[np.int64], NDArray[np.float32]]:
    """Row index and bucket of every n-gram of every name, and each row's scale.

    Null names have no n-grams (scale 0). n-grams that would span two rows land in the
    padding bucket ``2**bits - 1``, whose weight must stay 0; the others use the rest.
    """
    if not 4 <= bits <= 24:
        raise ValueError(f"n-gram buckets must number 2**4 to 2**24, got 2**{bits}")
    array = names.cast(pa.large_string()) if names.type != pa.large_string() else names
    n = len(array)
    if n == 0:
        return np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0, np.float32)
    data, offsets = buffers(array)
    valid = np.asarray(array.is_valid(), dtype=bool)
    lengths = np.where(valid, np.minimum(np.diff(offsets), MAX_BYTES), 0)
    # One flat stream "^name$^name$...": every row framed, rows back to back.
    framed_length = np.where(valid, lengths + 2, 0)
    ends = np.cumsum(framed_length)
    total = int(ends[-1])
    framed = np.empty(total, dtype=np.uint32)
    framed[ends[valid] - framed_length[valid]] = _START
    framed[ends[valid] - 1] = _END
    row_of = np.repeat(np.arange(n, dtype=np.int64), framed_length)
    n_bytes = int(lengths.sum())
    if n_bytes:
        destination = _byte_positions(framed_length, total)
        byte_rows = row_of[destination]
        contiguous = n_bytes == int(offsets[-1])
        if contiguous:  # the usual case: no clipped rows, no nulls holding bytes
            source = data
        else:
            within = np.arange(n_bytes, dtype=np.int64) - np.repeat(
                np.cumsum(lengths) - lengths, lengths
            )
            source = data[offsets[byte_rows] + within]
        framed[destination] = source
    # An n-gram that runs into the next row hashes to the padding bucket (weight 0).
    row_end = ends[row_of]
    position = np.arange(total, dtype=np.int64)
    padding = np.int64((1 << bits) - 1)
    top = np.uint32((1 << bits) - 2)
    shift = np.uint32(32 - bits)
    row_parts: list[NDArray[np.int64]] = []
    bucket_parts: list[NDArray[np.int64]] = []
    code = framed.copy()
    for k in range(1, max(NGRAM_SIZES) + 1):
        count = total - k + 1
        if count <= 0:
            break
        if k > 1:  # code[j] holds the k bytes starting at j, most significant first
            code = (code[:count] << np.uint32(8)) | framed[k - 1 :]
        if k not in NGRAM_SIZES:
            continue
        hashed = np.minimum((code * np.uint32(_MULTIPLIER[k])) >> shift, top).astype(np.int64)
        hashed[position[:count] + k > row_end[:count]] = padding
        row_parts.append(row_of[:count])
        bucket_parts.append(hashed)
    rows = np.concatenate(row_parts) if row_parts else np.zeros(0, np.int64)
    buckets = np.concatenate(bucket_parts) if bucket_parts else np.zeros(0, np.int64)
    per_row = sum(np.maximum(framed_length - k + 1, 0) for k in NGRAM_SIZES) * valid
    scale = np.where(per_row > 0, 1.0 / np.sqrt(np.maximum(per_row, 1)), 0.0).astype(np.float32)
    return rows, buckets, scale


def _byte_positions(framed_length: NDArray[np.int64], total: int) -> NDArray[np.int64]:
    """Positions in the framed stream of each name byte (between its row's markers)."""
    keep = np.ones(total, dtype=bool)
    ends = np.cumsum(framed_length)
    framed_rows = framed_length > 0
    keep[(ends - framed_length)[framed_rows]] = False
    keep[(ends - 1)[framed_rows]] = False
    return np.flatnonzero(keep)


@dataclass(frozen=True)
class NgramLogit:
    """A fitted linear model over hashed n-grams: ``bias + w . x`` per name."""

    weights: NDArray[np.float32]
    bias: float

    @property
    def bits(self) -> int:
        return int(np.log2(len(self.weights)))

    def __call__(self, names: pa.Array) -> NDArray[np.float32]:
        rows, buckets, scale = ngram_rows(names, self.bits)
        weights = self.weights.copy()
        weights[-1] = 0.0  # the padding bucket
        total = np.bincount(rows, weights=weights[buckets], minlength=len(names))
        return (self.bias + total * scale).astype(np.float32)

    def to_dict(self) -> dict[str, Any]:
        raw = self.weights.astype("<f4").tobytes()
        return {"bits": self.bits, "bias": self.bias, "weights": base64.b64encode(raw).decode()}

    @classmethod
    def from_dict(cls, data: Any) -> NgramLogit:
        try:
            bits = int(data["bits"])
            weights = np.frombuffer(base64.b64decode(data["weights"], validate=True), "<f4")
            bias = float(data["bias"])
        except (KeyError, TypeError, ValueError, binascii.Error) as exc:
            raise ValueError(f"n-gram model state is malformed: {exc}") from exc
        if len(weights) != 1 << bits:
            raise ValueError(f"n-gram model has {len(weights)} weights, expected 2**{bits}")
        return cls(weights.astype(np.float32), bias)
