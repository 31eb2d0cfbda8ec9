"""The shared n-gram core: windows, hashes and row prefixes against plain-Python references.

Both n-gram models (PowerShell's wide part, the domain names' n-gram logit) and PowerShell's
signed character n-gram columns hash through :mod:`vigil.features._ngrams`; the models' own
tests pin their buckets. Here: the kernel's hashes and buckets equal one-window-at-a-time
hashing with Python integers for any sizes and constants, buckets stay in range, the
windows it flags as crossing are exactly those that leave their row, the signed columns
equal a one-window-at-a-time sum, and row prefixes are the rows' first bytes.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from vigil.features import _charhash, _wide, powershell
from vigil.features._ngrams import (
    MAX_SIZE,
    clip_rows,
    crossing_windows,
    row_prefixes,
    window_buckets,
    window_hashes,
)

MULTIPLIERS = {1: 0x9E3779B1, 2: 0x85EBCA77, 3: 0xC2B2AE3D, 4: 0x27D4EB2F, 5: 0x165667B1}
FIFTH = 0x27D4EB2F


def reference_hash(window: bytes, multiplier: int, fifth: int = FIFTH) -> int:
    """One window's full 32-bit hash, with Python integers."""
    if len(window) < 5:
        code = int.from_bytes(window, "big")
    else:
        code = (int.from_bytes(window[:4], "big") * fifth + window[4]) % 2**32
    return code * multiplier % 2**32


def reference_bucket(window: bytes, multiplier: int, bits: int, fifth: int = FIFTH) -> int:
    """One window's bucket, with Python integers."""
    return min(reference_hash(window, multiplier, fifth) >> (32 - bits), 2**bits - 2)


def as_buffers(rows: Sequence[bytes]) -> tuple[np.ndarray, np.ndarray]:
    data = np.frombuffer(b"".join(rows), dtype=np.uint8)
    offsets = np.zeros(len(rows) + 1, dtype=np.int64)
    np.cumsum([len(r) for r in rows], out=offsets[1:])
    return data, offsets


rows_strategy = st.lists(st.binary(max_size=24), max_size=10)
sizes_strategy = st.sets(st.integers(1, MAX_SIZE), min_size=1).map(sorted)


@settings(max_examples=200, deadline=None)
@given(rows_strategy, sizes_strategy, st.integers(1, 32))
def test_kernel_equals_one_window_at_a_time(rows: list[bytes], sizes: list[int], bits: int) -> None:
    data, _ = as_buffers(rows)
    raw = data.tobytes()
    got = {
        k: hashed.copy()
        for k, hashed in window_buckets(data, sizes, MULTIPLIERS, bits, fifth=FIFTH)
    }
    assert list(got) == [k for k in sizes if k <= len(raw)]
    for k, hashed in got.items():
        assert hashed.dtype == np.uint32
        assert len(hashed) == len(raw) - k + 1
        assert int(hashed.max()) <= 2**bits - 2  # the last bucket stays the padding
        expected = [
            reference_bucket(raw[i : i + k], MULTIPLIERS[k], bits) for i in range(len(hashed))
        ]
        assert hashed.tolist() == expected


@settings(max_examples=200, deadline=None)
@given(rows_strategy, sizes_strategy, st.integers(1, 32))
def test_full_hashes_equal_one_window_at_a_time(
    rows: list[bytes], sizes: list[int], bits: int
) -> None:
    data, _ = as_buffers(rows)
    raw = data.tobytes()
    got = {k: hashed.copy() for k, hashed in window_hashes(data, sizes, MULTIPLIERS, fifth=FIFTH)}
    assert list(got) == [k for k in sizes if k <= len(raw)]
    for k, hashed in got.items():
        assert hashed.dtype == np.uint32
        expected = [reference_hash(raw[i : i + k], MULTIPLIERS[k]) for i in range(len(raw) - k + 1)]
        assert hashed.tolist() == expected
    # Buckets are the hashes' top bits, the padding bucket moved to the one before.
    buckets = window_buckets(data, sizes, MULTIPLIERS, bits, fifth=FIFTH)
    for (k, hashed), (k_bucket, bucket) in zip(got.items(), buckets, strict=True):
        assert k == k_bucket
        top = np.minimum(hashed >> np.uint32(32 - bits), np.uint32(2**bits - 2))
        np.testing.assert_array_equal(bucket, top)


def reference_signed_columns(
    rows: Sequence[bytes], buckets: int, column: int, width: int
) -> np.ndarray:
    """PowerShell's signed character n-gram columns, one window at a time.

    Each n-gram that stays in its row adds ``+-1/sqrt(row length)`` to the column its
    hash's top bits pick, negative when the next bit is set; additions run in the order
    the kernel makes them (every 3-gram of the batch, then every 4-gram), in float32.
    """
    bits = buckets.bit_length() - 1
    values = np.zeros((len(rows), width), dtype=np.float32)
    for k in powershell.CHAR_NGRAM_SIZES:
        multiplier = int(powershell._CHAR_NGRAM_MULTIPLIER[k])
        for r, row in enumerate(rows):
            scale = np.float32(1.0 / np.sqrt(max(len(row), 1)))
            for i in range(len(row) - k + 1):
                h = reference_hash(row[i : i + k], multiplier)
                sign = np.float32(-1.0 if (h >> (31 - bits)) & 1 else 1.0)
                values[r, column + (h >> (32 - bits))] += sign * scale
    return values


@settings(max_examples=200, deadline=None)
@given(rows_strategy, st.sampled_from([2, 16, 1024]), st.integers(0, 3))
def test_signed_columns_equal_one_window_at_a_time(
    rows: list[bytes], buckets: int, column: int
) -> None:
    data, offsets = as_buffers(rows)
    width = column + buckets + 2
    got = np.zeros((len(rows), width), dtype=np.float32)
    powershell._add_char_ngrams(got, column, data, offsets, buckets)
    expected = reference_signed_columns(rows, buckets, column, width)
    assert got.tobytes() == expected.tobytes()


@settings(max_examples=200, deadline=None)
@given(rows_strategy, st.integers(1, MAX_SIZE))
def test_crossing_windows_are_exactly_those_that_leave_their_row(rows: list[bytes], k: int) -> None:
    data, offsets = as_buffers(rows)
    count = max(len(data) - k + 1, 0)
    crossing = crossing_windows(offsets, k, count)
    row_end = np.repeat(offsets[1:], np.diff(offsets))
    expected = [j for j in range(count) if j + k > row_end[j]]
    assert sorted(crossing.tolist()) == expected
    assert len(set(crossing.tolist())) == len(crossing)
    # What is left never crosses a row: each row's own windows, no more, no less.
    kept = sorted(set(range(count)) - set(crossing.tolist()))
    per_row = [int(offsets[r]) + i for r, row in enumerate(rows) for i in range(len(row) - k + 1)]
    assert kept == per_row


@settings(max_examples=100, deadline=None)
@given(rows_strategy, st.data())
def test_row_prefixes_are_each_rows_first_bytes(rows: list[bytes], data: st.DataObject) -> None:
    kept = [data.draw(st.integers(0, len(row))) for row in rows]
    buffer, offsets = as_buffers(rows)
    got, got_offsets = row_prefixes(buffer, offsets, np.asarray(kept, dtype=np.int64))
    expected, expected_offsets = as_buffers([row[:n] for row, n in zip(rows, kept, strict=True)])
    assert got.tobytes() == expected.tobytes()
    np.testing.assert_array_equal(got_offsets, expected_offsets)
    for cap in (0, 1, 5):
        clipped, clipped_offsets = clip_rows(buffer, offsets, cap)
        expected, expected_offsets = as_buffers([row[:cap] for row in rows])
        assert clipped.tobytes() == expected.tobytes()
        np.testing.assert_array_equal(clipped_offsets, expected_offsets)


def test_nothing_cut_returns_the_inputs_themselves() -> None:
    data, offsets = as_buffers([b"abc", b"", b"de"])
    assert row_prefixes(data, offsets, np.diff(offsets))[0] is data
    assert clip_rows(data, offsets, 3)[0] is data
    empty = np.zeros(0, dtype=np.uint8), np.zeros(1, dtype=np.int64)
    assert clip_rows(*empty, 1)[1] is empty[1]


def test_both_models_hash_through_the_core_with_their_own_constants() -> None:
    data, _ = as_buffers([b"powershell -nop -w hidden", b"^example.com$"])
    raw = data.tobytes()
    for k, hashed in _wide.ngram_hashes(data, 12):
        assert hashed.dtype == np.uint16
        expected = [
            reference_bucket(raw[i : i + k], int(_wide.WIDE_MULTIPLIER[k]), 12, int(_wide._FIFTH))
            for i in range(len(hashed))
        ]
        assert hashed.tolist() == expected
    ngram_sizes = _charhash.NGRAM_SIZES
    for k, hashed in window_buckets(data, ngram_sizes, _charhash._MULTIPLIER, 18):
        expected = [
            reference_bucket(raw[i : i + k], _charhash._MULTIPLIER[k], 18)
            for i in range(len(hashed))
        ]
        assert hashed.tolist() == expected


def test_nothing_to_hash_yields_nothing() -> None:
    assert list(window_buckets(np.zeros(0, np.uint8), (1, 2), MULTIPLIERS, 8)) == []
    two = np.frombuffer(b"ab", np.uint8)
    assert [k for k, _ in window_buckets(two, (1, 3, 5), MULTIPLIERS, 8, fifth=FIFTH)] == [1]


@pytest.mark.parametrize(
    ("sizes", "bits", "fifth", "match"),
    [
        ((3,), 0, None, "2\\*\\*1 to 2\\*\\*32"),
        ((3,), 33, None, "2\\*\\*1 to 2\\*\\*32"),
        ((), 8, None, "sizes"),
        ((0, 3), 8, None, "sizes"),
        ((6,), 8, FIFTH, "sizes"),
        ((3, 5), 8, None, "fifth byte"),
    ],
)
def test_bad_parameters_are_refused(
    sizes: tuple[int, ...], bits: int, fifth: int | None, match: str
) -> None:
    data = np.frombuffer(b"abcdefgh", np.uint8)
    with pytest.raises(ValueError, match=match):
        next(window_buckets(data, sizes, MULTIPLIERS, bits, fifth=fifth))
    if "sizes" in match or "fifth" in match:
        with pytest.raises(ValueError, match=match):
            next(window_hashes(data, sizes, MULTIPLIERS, fifth=fifth))
