"""Addresses as sortable numpy keys, and ranges of them as searchable elementary intervals.

IPv4 keys are ``uint64`` values; IPv6 keys are ``(hi, lo)`` ``uint64`` pairs in a structured
dtype, which numpy sorts and ``searchsorted``-s field by field, i.e. as 128-bit numbers.

Listed networks overlap across sources and nest within one. Cutting the address space at
every network's first address and one past its last gives elementary intervals that each
lie wholly inside or outside every network; each carries the set of sources covering it and
the longest covering prefix, so one ``np.searchsorted`` answers both for any address.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from vigil.intel import _bits

V6 = np.dtype([("hi", "<u8"), ("lo", "<u8")])
_ALL = np.uint64(0xFFFFFFFFFFFFFFFF)
BITS = {4: 32, 6: 128}

Keys = NDArray[Any]


def make_keys(hi: NDArray[np.uint64], lo: NDArray[np.uint64], version: int) -> Keys:
    if version == 4:
        return np.asarray(lo, dtype=np.uint64).copy()
    keys = np.empty(len(hi), dtype=V6)
    keys["hi"] = hi
    keys["lo"] = lo
    return keys


def _ones(bits: NDArray[np.int64]) -> NDArray[np.uint64]:
    """A mask of the low ``bits`` bits (0 to 64) of a ``uint64``."""
    shift = np.minimum(bits, 63).astype(np.uint64)
    low = (np.uint64(1) << shift) - np.uint64(1)
    return np.where(bits >= 64, _ALL, low).astype(np.uint64)


def last_address(start: Keys, prefix: NDArray[np.int64], version: int) -> Keys:
    """The last address of each network ``start/prefix``."""
    host_bits = BITS[version] - np.asarray(prefix, dtype=np.int64)
    if version == 4:
        return start | _ones(host_bits)
    end = start.copy()
    end["hi"] |= _ones(np.maximum(host_bits - 64, 0))
    end["lo"] |= _ones(np.minimum(host_bits, 64))
    return end


def network_start(keys: Keys, prefix: NDArray[np.int64], version: int) -> Keys:
    """Each key with its host bits cleared."""
    host_bits = BITS[version] - np.asarray(prefix, dtype=np.int64)
    if version == 4:
        return keys & ~_ones(host_bits)
    start = keys.copy()
    start["hi"] &= ~_ones(np.maximum(host_bits - 64, 0))
    start["lo"] &= ~_ones(np.minimum(host_bits, 64))
    return start


def successor(keys: Keys, version: int) -> tuple[Keys, NDArray[np.bool_]]:
    """``keys + 1`` and where that overflowed the address space (the key was the last)."""
    if version == 4:
        return keys + np.uint64(1), keys == np.uint64(0xFFFFFFFF)
    nxt = keys.copy()
    nxt["lo"] = keys["lo"] + np.uint64(1)
    carry = nxt["lo"] == 0
    nxt["hi"] = keys["hi"] + carry.astype(np.uint64)
    return nxt, carry & (keys["hi"] == _ALL)


def group(keys: Keys, version: int) -> NDArray[np.uint64]:
    """The /24 (IPv4) or /64 (IPv6) each address lies in, as a sortable number."""
    if version == 4:
        return keys >> np.uint64(8)
    return np.asarray(keys["hi"], dtype=np.uint64)


def sort_unique(keys: Keys) -> tuple[Keys, NDArray[np.int64]]:
    """Distinct keys in order, and for each input its index among them."""
    unique, inverse = np.unique(keys, return_inverse=True)
    return unique, inverse.astype(np.int64).ravel()


@dataclass(frozen=True, eq=False)
class Intervals:
    """Elementary intervals ``[bounds[i], bounds[i+1])`` with covering sources and prefix."""

    bounds: Keys
    sources: _bits.Bits
    longest: NDArray[np.int32]
    n_sources: int

    @classmethod
    def build(
        cls,
        start: Keys,
        prefix: NDArray[np.int64],
        source: NDArray[np.int64],
        n_sources: int,
        version: int,
    ) -> Intervals:
        """Intervals of the networks ``start/prefix``, each listed by ``source``."""
        end_next, overflow = successor(last_address(start, prefix, version), version)
        bounds, _ = sort_unique(np.concatenate([start, end_next[~overflow]]))
        m = len(bounds)
        first = np.searchsorted(bounds, start)
        after = np.where(overflow, m, np.searchsorted(bounds, end_next))
        covered = np.zeros((m, max(n_sources, 1)), dtype=bool)
        for s in range(n_sources):  # per source: a difference array over the intervals
            mine = source == s
            covered[:, s] = _coverage(first[mine], after[mine], m)
        longest = np.full(m, -1, dtype=np.int32)
        for p in np.unique(prefix):  # per prefix length (at most 129): shorter first
            mine = prefix == p
            longest[_coverage(first[mine], after[mine], m)] = p
        packed = np.packbits(covered[:, :n_sources], axis=1, bitorder="little")
        if packed.shape[1] == 0:
            packed = _bits.empty(m, n_sources)
        return cls(bounds, packed, longest, n_sources)

    @classmethod
    def empty(cls, n_sources: int, version: int) -> Intervals:
        no_keys = make_keys(np.zeros(0, np.uint64), np.zeros(0, np.uint64), version)
        return cls(no_keys, _bits.empty(0, n_sources), np.zeros(0, np.int32), n_sources)

    def lookup(self, keys: Keys) -> tuple[_bits.Bits, NDArray[np.int32]]:
        """Sources covering each key, and the longest listed prefix covering it (-1: none)."""
        n = len(keys)
        if len(self.bounds) == 0:
            return _bits.empty(n, self.n_sources), np.full(n, -1, dtype=np.int32)
        at = np.searchsorted(self.bounds, keys, side="right") - 1
        inside = at >= 0
        at = np.maximum(at, 0)
        sources = np.where(inside[:, None], self.sources[at], np.uint8(0))
        longest = np.where(inside, self.longest[at], -1).astype(np.int32)
        return sources, longest


def _coverage(first: NDArray[np.int64], after: NDArray[np.int64], m: int) -> NDArray[np.bool_]:
    """Which of ``m`` intervals lie inside at least one ``[first, after)`` run."""
    delta = np.bincount(first, minlength=m + 1) - np.bincount(after, minlength=m + 1)
    return np.cumsum(delta[:m]) > 0
