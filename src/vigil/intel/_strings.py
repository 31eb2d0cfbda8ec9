"""An exact-match set of strings that is built once and searched many times.

``pc.index_in`` rebuilds its hash table from the value set on every call: ~0.2 s for a
million names, paid again for every 2,048-row batch a DuckDB UDF hands over. This set keeps
64-bit hashes of its strings instead, so a lookup costs a hash of the queries plus a probe
per query; every hit is verified against the stored string, so a hash collision can cost a
rebuild (with another seed) but never a wrong answer.

With vigil's compiled kernels (``vigil.features._accel``) the hashes are computed one
string at a time in C and probed in an open-addressing table; without them, numpy hashes
column by column and binary-searches the sorted hashes. Both give the same hashes and the
same answers (tests/intel/test_strings.py runs both).

Not ``vigil.features._hashindex.HashIndex`` with the features' string hash: that pair maps
bare 64-bit keys of a polynomial (linear, unseeded) hash without ever seeing the strings,
which suits a fixed table of a few thousand suffix rules probed per name but could not
take a list where two entries collide, nor answer exactly.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from numpy.typing import NDArray

from vigil._types import as_string_array
from vigil.features import _accel
from vigil.features.normalize import buffers

_BASE = np.uint64(0x100000001B3)  # the FNV-1 64-bit prime: odd, spreads bytes well
_MIX1 = np.uint64(0xBF58476D1CE4E5B9)
_MIX2 = np.uint64(0x94D049BB133111EB)
_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_SEEDS = (0x243F6A8885A308D3, 0x13198A2E03707344, 0xA4093822299F31D0, 0x082EFA98EC4E6C89)


def _buffers(values: pa.Array) -> tuple[NDArray[np.int64], NDArray[np.uint8]]:
    """Per-string offsets (n + 1) and the UTF-8 bytes; nulls read as empty strings."""
    array = pc.fill_null(values, "") if values.null_count else values
    if not pa.types.is_large_string(array.type):
        array = pc.cast(array, pa.large_string())
    data, offsets = buffers(array)
    return offsets, data


def hash_strings(values: pa.Array, seed: int = _SEEDS[0]) -> NDArray[np.uint64]:
    """A 64-bit hash of each string (null hashes like the empty string).

    Horner's rule runs column by column over the strings sorted longest first, so the work
    is one multiply-add per byte with no per-string Python; the loop is over character
    positions (at most the longest string).
    """
    offsets, data = _buffers(values)
    n = len(offsets) - 1
    if n <= 0:
        return np.zeros(0, dtype=np.uint64)
    kernels = _accel.kernels
    if kernels is not None:
        hashes = np.empty(n, dtype=np.uint64)
        kernels.string_hashes(*_accel.rows(data, offsets), seed, hashes)
        return hashes
    lengths = np.diff(offsets)
    longest = int(lengths.max())
    shortness = longest - lengths
    if longest < 1 << 16:
        shortness = shortness.astype(np.uint16)  # numpy radix-sorts 16-bit keys
    order = np.argsort(shortness, kind="stable")
    cursor = offsets[:-1][order]  # next byte of each string, longest strings first
    lengths_sorted = lengths[order]
    # active[j]: how many strings are longer than j (they lead, being sorted longest first)
    active = np.searchsorted(-lengths_sorted, -np.arange(longest), side="left")
    h = np.full(n, np.uint64(seed), dtype=np.uint64)
    for j in range(longest):  # per character position, vectorized over strings
        a = int(active[j])
        head = h[:a]
        np.multiply(head, _BASE, out=head)
        head += data[cursor[:a]]
        cursor[:a] += 1
    h ^= lengths_sorted.astype(np.uint64) * _GOLDEN
    h ^= h >> np.uint64(30)
    h *= _MIX1
    h ^= h >> np.uint64(27)
    h *= _MIX2
    h ^= h >> np.uint64(31)
    out = np.empty(n, dtype=np.uint64)
    out[order] = h
    return out


class HashCache:
    """Hashes of one query array per seed, so several sets can share one hashing pass."""

    def __init__(self, queries: pa.Array) -> None:
        self.queries = queries
        self._by_seed: dict[int, NDArray[np.uint64]] = {}

    def get(self, seed: int) -> NDArray[np.uint64]:
        if seed not in self._by_seed:
            self._by_seed[seed] = hash_strings(self.queries, seed)
        return self._by_seed[seed]


@dataclass(frozen=True, eq=False)
class StringSet:
    """Distinct strings (``values``) and their hashes (``hashes[i]`` of ``values[i]``)."""

    values: pa.Array
    hashes: NDArray[np.uint64]
    seed: int

    @classmethod
    def build(cls, values: pa.Array) -> StringSet:
        """The set of the non-null strings in ``values``, in order of first appearance."""
        array = as_string_array(values)
        return cls.from_unique(pc.unique(array.drop_null()))

    @classmethod
    def from_unique(cls, unique: pa.Array) -> StringSet:
        """A set over ``unique`` (distinct, non-null strings), keeping its order as indices."""
        unique = as_string_array(unique)
        for seed in _SEEDS:
            candidate = cls(unique, hash_strings(unique, seed), seed)
            if candidate._hashes_distinct():
                return candidate
        raise RuntimeError(
            "four 64-bit hash seeds collided on distinct strings"
        )  # pragma: no cover

    @classmethod
    def empty(cls) -> StringSet:
        return cls.build(pa.array([], type=pa.large_string()))

    def __len__(self) -> int:
        return len(self.values)

    def _hashes_distinct(self) -> bool:
        if _accel.kernels is not None:
            return self._slots is not None
        ordered = self._sorted[0]
        return not np.any(ordered[1:] == ordered[:-1])

    @cached_property
    def _slots(self) -> NDArray[np.int64] | None:
        """The open-addressing table of the compiled path (None if two hashes are equal)."""
        capacity = 1 << max(4, (2 * len(self.hashes)).bit_length())  # at most half full
        slots = np.empty(capacity, dtype=np.int64)
        repeats = _accel.require().hash_slots(self.hashes, slots)
        return None if repeats else slots

    @cached_property
    def _sorted(self) -> tuple[NDArray[np.uint64], NDArray[np.int64]]:
        """The hashes in ascending order and where each came from (the numpy path)."""
        order = np.argsort(self.hashes, kind="stable").astype(np.int64)
        return self.hashes[order], order

    def find(
        self,
        queries: pa.Array,
        hashes: HashCache | None = None,
        where: NDArray[np.bool_] | None = None,
    ) -> NDArray[np.int64]:
        """Index into ``values`` of each query, -1 where absent, null or not ``where``.

        ``hashes`` may carry the queries' hashes from an earlier lookup in another set.
        """
        n = len(queries)
        found = np.full(n, -1, dtype=np.int64)
        if n == 0 or len(self.values) == 0:
            return found
        queries = as_string_array(queries)
        h = (hashes or HashCache(queries)).get(self.seed)
        candidate, index = self._candidates(h, where)
        if candidate.size == 0:
            return found
        same = pc.equal(queries.take(pa.array(candidate)), self.values.take(pa.array(index)))
        keep = np.asarray(pc.fill_null(same, False), dtype=bool)
        found[candidate[keep]] = index[keep]
        return found

    def _candidates(
        self, h: NDArray[np.uint64], where: NDArray[np.bool_] | None
    ) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
        """Queries whose hash is in the set (asked where ``where``), and the value each names."""
        kernels = _accel.kernels
        if kernels is not None:
            slots = self._slots
            assert slots is not None  # from_unique made sure the hashes are distinct
            index = np.empty(len(h), dtype=np.int64)
            kernels.hash_slots_find(slots, self.hashes, np.ascontiguousarray(h), index)
            if where is not None:
                index[~np.asarray(where, dtype=bool)] = -1
            candidate = np.flatnonzero(index >= 0)
            return candidate, index[candidate]
        ordered, order = self._sorted
        asked = np.arange(len(h)) if where is None else np.flatnonzero(where)
        # Searching in sorted order lets numpy narrow each search from the previous one:
        # about twice as fast as random order against a million hashes.
        asked = asked[np.argsort(h[asked])]
        pos = np.searchsorted(ordered, h[asked])
        pos[pos == len(ordered)] = 0
        hit = ordered[pos] == h[asked]
        return asked[hit], order[pos[hit]]
