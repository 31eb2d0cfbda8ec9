"""Hashed character n-grams of short strings (entity names) and a linear model over them.

Why: a logistic regression over character 1-4-grams ranks domain names well on its own
(it is the peer baseline); its log-odds, as one column beside the lexical features, give
the tree model what per-name statistics cannot see. Both training (``vigil.train``) and
serving call :func:`ngram_rows`, so they hash identically, bit for bit.

Hashing is the kernel PowerShell's wide part uses too (:mod:`vigil.features._ngrams`): an
n-gram of k <= 4 bytes is its exact 32-bit code; one multiply by an odd constant per size
(Fibonacci hashing) spreads it and the top ``bits`` bits pick the bucket. What is this
model's own: each name is framed as ``^name$`` so prefixes and suffixes are n-grams of
their own; sizes 1-4 with their own multipliers (the stored weights were fitted with
them); up to 2**24 buckets, as int64; and rows of raw counts scaled by
``1 / sqrt(n-grams in the row)``: no per-row de-duplication, so the cost is a gather and
a bincount.
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass
from typing import Any

import numpy as np
import pyarrow as pa
from numpy.typing import NDArray

from vigil.features import _accel
from vigil.features._ngrams import crossing_windows, row_prefixes, window_buckets
from vigil.features.normalize import buffers

#: n-gram sizes (the peer baseline uses 1-4 for domains).
NGRAM_SIZES = (1, 2, 3, 4)
#: Odd 32-bit multipliers (Fibonacci hashing), one per n-gram size.
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
    # Long names are cut; null rows keep none of the bytes Arrow may leave under them.
    kept = np.where(valid, np.minimum(np.diff(offsets), MAX_BYTES), 0)
    framed, framed_offsets = _frame(*row_prefixes(data, offsets, kept), valid)
    framed_length = np.diff(framed_offsets)
    row_of = np.repeat(np.arange(n, dtype=np.int64), framed_length)
    padding = np.int64((1 << bits) - 1)
    row_parts: list[NDArray[np.int64]] = []
    bucket_parts: list[NDArray[np.int64]] = []
    for k, hashed in window_buckets(framed, NGRAM_SIZES, _MULTIPLIER, bits):
        count = len(hashed)
        buckets = hashed.astype(np.int64)
        # An n-gram that runs into the next row hashes to the padding bucket (weight 0).
        buckets[crossing_windows(framed_offsets, k, count)] = padding
        row_parts.append(row_of[:count])
        bucket_parts.append(buckets)
    rows = np.concatenate(row_parts) if row_parts else np.zeros(0, np.int64)
    buckets = np.concatenate(bucket_parts) if bucket_parts else np.zeros(0, np.int64)
    per_row = sum(np.maximum(framed_length - k + 1, 0) for k in NGRAM_SIZES) * valid
    scale = np.where(per_row > 0, 1.0 / np.sqrt(np.maximum(per_row, 1)), 0.0).astype(np.float32)
    return rows, buckets, scale


def _frame(
    data: NDArray[np.uint8], offsets: NDArray[np.int64], valid: NDArray[np.bool_]
) -> tuple[NDArray[np.uint8], NDArray[np.int64]]:
    """Every valid row as ``^row$`` (null rows, already empty, stay empty), back to back."""
    lengths = np.diff(offsets)
    framed_offsets = np.zeros(len(offsets), dtype=np.int64)
    np.cumsum(np.where(valid, lengths + 2, 0), out=framed_offsets[1:])
    framed = np.empty(int(framed_offsets[-1]), dtype=np.uint8)
    framed[framed_offsets[:-1][valid]] = _START
    framed[framed_offsets[1:][valid] - 1] = _END
    # Byte i of row r moves from offsets[r] + i to framed_offsets[r] + 1 + i.
    shift = np.repeat(framed_offsets[:-1] + 1 - offsets[:-1], lengths)
    framed[np.arange(len(data), dtype=np.int64) + shift] = data
    return framed, framed_offsets


@dataclass(frozen=True)
class NgramLogit:
    """A fitted linear model over hashed n-grams: ``bias + w . x`` per name."""

    weights: NDArray[np.float32]
    bias: float

    @property
    def bits(self) -> int:
        return int(np.log2(len(self.weights)))

    def __call__(self, names: pa.Array) -> NDArray[np.float32]:
        if _accel.kernels is not None:
            return self._compiled(names)
        rows, buckets, scale = ngram_rows(names, self.bits)
        weights = self.weights.copy()
        weights[-1] = 0.0  # the padding bucket
        total = np.bincount(rows, weights=weights[buckets], minlength=len(names))
        return (self.bias + total * scale).astype(np.float32)

    def _compiled(self, names: pa.Array) -> NDArray[np.float32]:
        """The same log-odds, one pass per name: frame, hash, sum (same order, same sums)."""
        kernels = _accel.require()
        array = names.cast(pa.large_string()) if names.type != pa.large_string() else names
        n = len(array)
        data, offsets = buffers(array)
        valid = np.ascontiguousarray(array.is_valid(), dtype=bool)
        totals = np.empty(n, dtype=np.float64)
        windows = np.empty(n, dtype=np.float64)
        kernels.framed_window_sums(
            *_accel.rows(data, offsets),
            valid,
            np.ascontiguousarray(self.weights, dtype=np.float32),
            MAX_BYTES,
            *(_MULTIPLIER[k] for k in NGRAM_SIZES),
            totals,
            windows,
        )
        scale = np.where(windows > 0, 1.0 / np.sqrt(np.maximum(windows, 1)), 0.0)
        return (self.bias + totals * scale.astype(np.float32)).astype(np.float32)

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
