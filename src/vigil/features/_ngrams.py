"""The core of hashed character n-grams over byte buffers, shared by every n-gram feature.

Two linear models read hashed character n-grams: PowerShell's wide part
(:mod:`vigil.features._wide`: 3-5-grams, distinct buckets per row) and the domain names'
n-gram logit (:mod:`vigil.features._charhash`: 1-4-grams of ``^name$``, counted); so do
PowerShell's signed character 3-4-gram columns (:mod:`vigil.features.powershell`), which
take a column and a sign from each window's full hash (:func:`window_hashes`). Trained
weights are indexed by the buckets computed here, so this code must keep every bucket bit
for bit; what differs between them (sizes, multipliers, framing, how a row's buckets
become a log-odds or columns) stays in those modules and comes in as parameters.

Rows are the usual pair of a flat ``uint8`` buffer and ``int64`` offsets starting at 0
(:func:`vigil.features.normalize.buffers`). Hashing runs over the whole buffer at once,
every byte starting a window of each size; the windows that run past their row's end
(:func:`crossing_windows`) are the caller's to drop or send to padding.

Hashing: a window of k <= 4 bytes is its own exact 32-bit code (most significant byte
first); a 5-byte one folds its fifth byte in (``code4 * fifth + byte``, mod 2**32). One
multiply by an odd constant per size spreads the code (Fibonacci hashing) and the top
``bits`` bits pick the bucket (:func:`window_buckets`); the last bucket, ``2**bits - 1``,
is left for padding, so a window that lands there moves to the one before it.
"""

from __future__ import annotations

from collections.abc import Collection, Iterator, Mapping

import numpy as np
from numpy.typing import NDArray

#: Widest window: 4 bytes are an exact uint32 code, a fifth is folded in, no more.
MAX_SIZE = 5


def row_prefixes(
    data: NDArray[np.uint8], offsets: NDArray[np.int64], kept: NDArray[np.int64]
) -> tuple[NDArray[np.uint8], NDArray[np.int64]]:
    """Each row's first ``kept[i]`` bytes (``kept <= row lengths``), rows back to back.

    Returns the inputs themselves when nothing is cut.
    """
    new_offsets = np.zeros(len(offsets), dtype=np.int64)
    np.cumsum(kept, out=new_offsets[1:])
    if int(new_offsets[-1]) == int(offsets[-1]):
        return data, offsets
    shift = np.repeat(offsets[:-1] - new_offsets[:-1], kept)
    return data[np.arange(int(new_offsets[-1]), dtype=np.int64) + shift], new_offsets


def clip_rows(
    data: NDArray[np.uint8], offsets: NDArray[np.int64], max_bytes: int
) -> tuple[NDArray[np.uint8], NDArray[np.int64]]:
    """Each row's first ``max_bytes`` bytes (rows already that short are untouched)."""
    lengths = np.diff(offsets)
    if len(lengths) == 0 or int(lengths.max()) <= max_bytes:
        return data, offsets
    return row_prefixes(data, offsets, np.minimum(lengths, max_bytes))


def window_hashes(
    data: NDArray[np.uint8],
    sizes: Collection[int],
    multipliers: Mapping[int, int | np.uint32],
    *,
    fifth: int | np.uint32 | None = None,
) -> Iterator[tuple[int, NDArray[np.uint32]]]:
    """For each window size ``k`` in ``sizes``, the full 32-bit hash of the window at every byte.

    Yields ``(k, hashes)`` in increasing ``k``, ``hashes[i]`` the code of ``data[i : i + k]``
    (across row boundaries) times ``multipliers[k]``, mod 2**32: the word whose top bits
    :func:`window_buckets` turns into buckets, whole for callers that take more from it
    than a bucket. Sizes with no whole window in ``data`` are not yielded.
    ``multipliers[k]`` is size ``k``'s odd 32-bit multiplier; ``fifth`` folds the fifth
    byte into a 5-byte code (needed only for size 5). ``hashes`` is scratch space,
    overwritten by the next size: copy it or use it before asking for the next.
    """
    if not sizes or min(sizes) < 1 or max(sizes) > MAX_SIZE:
        raise ValueError(f"n-gram sizes must be 1 to {MAX_SIZE}, got {sorted(sizes)}")
    if MAX_SIZE in sizes and fifth is None:
        raise ValueError("5-grams need the multiplier that folds in their fifth byte")
    fold = np.uint32(0 if fifth is None else fifth)
    size = len(data)
    code = data.astype(np.uint32)  # code[i]: the (k - 1)-byte code at i, then the k-byte one
    scratch = np.empty(size, dtype=np.uint32)
    for k in range(1, max(sizes) + 1):
        count = size - k + 1
        if count <= 0:
            return
        hashed = scratch[:count]
        if k == MAX_SIZE:  # 40 bits: fold the fifth byte into the 4-byte code
            np.multiply(code[:count], fold, out=hashed)
            np.add(hashed, data[4:], out=hashed, casting="unsafe")
        else:  # the exact k-byte code, in place
            current = code[:count]
            if k > 1:
                np.left_shift(current, np.uint32(8), out=current)
                np.bitwise_or(current, data[k - 1 :], out=current, casting="unsafe")
            if k not in sizes:
                continue
            hashed[:] = current
        np.multiply(hashed, np.uint32(multipliers[k]), out=hashed)
        yield k, hashed


def window_buckets(
    data: NDArray[np.uint8],
    sizes: Collection[int],
    multipliers: Mapping[int, int | np.uint32],
    bits: int,
    *,
    fifth: int | np.uint32 | None = None,
) -> Iterator[tuple[int, NDArray[np.uint32]]]:
    """For each window size ``k`` in ``sizes``, the bucket of the window at every byte it can.

    Yields ``(k, buckets)`` in increasing ``k``, ``buckets[i]`` the bucket of
    ``data[i : i + k]`` across row boundaries, in ``[0, 2**bits - 2]``: the top ``bits``
    bits of its :func:`window_hashes` hash, the padding bucket moved to the one before.
    Sizes, multipliers, ``fifth`` and the scratch space are as for :func:`window_hashes`.
    """
    if not 1 <= bits <= 32:
        raise ValueError(f"n-gram buckets must number 2**1 to 2**32, got 2**{bits}")
    shift = np.uint32(32 - bits)
    top = np.uint32((1 << bits) - 2)  # the last bucket is the padding
    for k, hashed in window_hashes(data, sizes, multipliers, fifth=fifth):
        np.right_shift(hashed, shift, out=hashed)
        np.minimum(hashed, top, out=hashed)
        yield k, hashed


def crossing_windows(offsets: NDArray[np.int64], k: int, count: int) -> NDArray[np.int64]:
    """Starts of the ``k``-byte windows that run past their row's end: its last ``k - 1`` bytes.

    Only starts below ``count`` (the windows :func:`window_buckets` hashed) are returned,
    row by row, each row's in decreasing order.
    """
    tail = (offsets[1:, None] - np.arange(1, k, dtype=np.int64)).reshape(-1)
    inside: NDArray[np.int64] = tail[(tail >= np.repeat(offsets[:-1], k - 1)) & (tail < count)]
    return inside
