"""A read-only open-addressing hash table of uint64 keys, probed for a whole array at once.

``np.searchsorted`` into ten thousand keys costs ~75 ns a query here (cache misses at every
level of the binary search); one multiply, one or two gathers and a compare cost ~10 ns.
The public suffix walk and the word scan make several lookups per name.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np
from numpy.typing import NDArray

from vigil.features import _accel

#: Odd multiplier (Fibonacci hashing); the top bits of the product pick the slot.
_MULTIPLIER = np.uint64(0x9E3779B97F4A7C15)


@dataclass(frozen=True)
class HashIndex:
    """Maps each of a set of distinct uint64 keys to its position in the array it was built from.

    Linear probing at a load of at most 1/4; ``probes`` is the longest probe sequence any
    key needed, so a lookup gives up after that many slots.

    Keys only: for small tables probed several times per name (suffix rules, word prefixes).
    :class:`vigil.intel._strings.StringSet` is not built on it: its hits must be checked
    against the string (re-seeding on collisions), which a table of bare keys cannot do,
    and for a million names its numpy path builds ~4x faster as sorted hashes (its
    compiled path builds and probes its own table in C).

    With the compiled kernels, lookups probe the intel sets' C table instead (built on
    first use): the numpy probe costs ~25 µs a call whatever its size, and a name's
    features make about ten.
    """

    slot_keys: NDArray[np.uint64]
    slot_values: NDArray[np.int64]
    bits: int
    probes: int
    keys: NDArray[np.uint64]

    @classmethod
    def build(cls, keys: NDArray[np.uint64]) -> HashIndex:
        keys = np.asarray(keys, dtype=np.uint64)
        bits = max(4, int(np.ceil(np.log2(max(len(keys), 1) * 4))))
        size = 1 << bits
        slot_keys = np.zeros(size, dtype=np.uint64)
        slot_values = np.full(size, -1, dtype=np.int64)
        home = _home(keys, bits)
        pending = np.arange(len(keys), dtype=np.int64)
        slot = home.copy()
        while pending.size:  # each round places one key per free slot, first come first
            wanted = slot[pending] & (size - 1)
            free = slot_values[wanted] < 0
            taken, first = np.unique(wanted[free], return_index=True)
            winners = pending[free][first]
            slot_values[taken] = winners
            slot_keys[taken] = keys[winners]
            placed = np.zeros(len(keys), dtype=bool)
            placed[winners] = True
            pending = pending[~placed[pending]]
            slot[pending] += 1
        probes = int((slot - home).max()) + 1 if len(keys) else 1
        return cls(slot_keys, slot_values, bits, probes, keys)

    @cached_property
    def compiled_table(self) -> tuple[NDArray[np.uint64], NDArray[np.int64]]:
        """The compiled path's table: the keys mixed (the C table takes its slot from the
        low bits, which base-27 word codes leave uneven) and the open-addressing table over
        them, at most half full. Kernels that probe it themselves (``segment_words``) mix
        their queries the same way."""
        mixed = _mix(self.keys)
        slots = np.empty(1 << max(4, (2 * len(mixed)).bit_length()), dtype=np.int64)
        _accel.require().hash_slots(mixed, slots)
        return mixed, slots

    def lookup(self, keys: NDArray[np.uint64]) -> tuple[NDArray[np.bool_], NDArray[np.int64]]:
        """Which keys are in the table, and their positions (-1 where absent)."""
        keys = np.asarray(keys, dtype=np.uint64)
        kernels = _accel.kernels
        if kernels is not None and keys.ndim == 1:
            mixed, slots = self.compiled_table
            found = np.empty(keys.shape, dtype=np.int64)
            kernels.hash_slots_find(slots, mixed, np.ascontiguousarray(_mix(keys)), found)
            return found >= 0, found
        result = np.full(keys.shape, -1, dtype=np.int64)
        mask = (1 << self.bits) - 1
        home = _home(keys, self.bits)
        open_ = np.arange(keys.size, dtype=np.int64)
        for probe in range(self.probes):
            slot = (home[open_] + probe) & mask
            value = self.slot_values[slot]
            hit = (value >= 0) & (self.slot_keys[slot] == keys[open_])
            result[open_[hit]] = value[hit]
            open_ = open_[(value >= 0) & ~hit]
            if open_.size == 0:
                break
        return result >= 0, result


def _home(keys: NDArray[np.uint64], bits: int) -> NDArray[np.int64]:
    with np.errstate(over="ignore"):
        return ((keys * _MULTIPLIER) >> np.uint64(64 - bits)).astype(np.int64)


def _mix(keys: NDArray[np.uint64]) -> NDArray[np.uint64]:
    """A bijection of uint64 (odd multiply, then xor-shift) whose low bits depend on all
    of the key's: distinct keys stay distinct."""
    with np.errstate(over="ignore"):
        mixed = keys * _MULTIPLIER
    return mixed ^ (mixed >> np.uint64(31))
