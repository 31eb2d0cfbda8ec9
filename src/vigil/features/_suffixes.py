"""The public suffix split of normalized names, vectorized over a whole batch.

tldextract answers one name at a time (about 3 µs each); here its bundled Public Suffix
List snapshot is only data, read once by :mod:`vigil._psl` (which the intel ancestor walk
shares). Every suffix of every rule becomes a 64-bit hash, each name's last 1..k labels are
hashed with numpy, and tldextract's trie walk (longest rule, ``*`` wildcards, ``!``
exceptions) is replayed with hash-table lookups. The hashes are not checked against the
strings (see ``_BASE``); the intel ancestor walk, which replays the same walk on the same
rules, checks every string it matches (``intel/_strings``).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache, cached_property
from types import ModuleType

import numpy as np
import pyarrow as pa
from numpy.typing import NDArray

from vigil._psl import SuffixRules, bundled_rules
from vigil.features import _accel
from vigil.features._hashindex import HashIndex
from vigil.features.normalize import buffers

#: Odd multiplier of the polynomial hash (mod 2**64). Names are at most 253 bytes, far
#: below the ~2,048 bytes the known collision constructions for such hashes need.
_BASE = np.uint64(0x9E3779B97F4A7C15)
_MAX_POWER = 1024


@cache
def _powers() -> NDArray[np.uint64]:
    steps = np.full(_MAX_POWER, _BASE, dtype=np.uint64)
    steps[0] = 1
    return np.cumprod(steps, dtype=np.uint64)  # wraps mod 2**64 by design


def tail_hashes(
    data: NDArray[np.uint8], offsets: NDArray[np.int64], row_of_byte: NDArray[np.int64]
) -> NDArray[np.uint64]:
    """For every byte, the hash of the rest of its row: ``h(s) = sum s[k] * B**(len-1-k)``.

    In that (Horner) form ``h(c + s) = c * B**len(s) + h(s)``, so a prefixed rule such as
    ``*.`` + suffix is hashed from the suffix's hash alone.
    """
    if data.size == 0:
        return np.zeros(0, dtype=np.uint64)
    ends = offsets[1:][row_of_byte]
    exponent = ends - 1 - np.arange(data.size, dtype=np.int64)
    weights = data.astype(np.uint64) * _powers()[np.minimum(exponent, _MAX_POWER - 1)]
    total = np.zeros(data.size + 1, dtype=np.uint64)
    total[:-1] = np.cumsum(weights[::-1], dtype=np.uint64)[::-1]
    return total[:-1] - total[ends]


def hash_strings(strings: pa.Array) -> NDArray[np.uint64]:
    """:func:`tail_hashes` of whole strings (empty strings hash to 0).

    Unlike the seeded, mixed hash of ``vigil.intel._strings`` this one is linear, which is
    what lets :meth:`SuffixTable.split` hash every tail of every name in one pass.
    """
    data, offsets = buffers(strings)
    lengths = np.diff(offsets)
    row_of_byte = np.repeat(np.arange(len(lengths), dtype=np.int64), lengths)
    tails = tail_hashes(data, offsets, row_of_byte)
    out = np.zeros(len(lengths), dtype=np.uint64)
    nonempty = lengths > 0
    out[nonempty] = tails[offsets[:-1][nonempty]]
    return out


def _prefixed(
    prefix: bytes, hashes: NDArray[np.uint64], lengths: NDArray[np.int64]
) -> NDArray[np.uint64]:
    """``h(prefix + s)`` from ``h(s)`` and ``len(s)``."""
    powers = _powers()
    out = hashes.copy()
    for i, byte in enumerate(reversed(prefix)):
        out += np.uint64(byte) * powers[np.minimum(lengths + i, _MAX_POWER - 1)]
    return out


@dataclass(frozen=True)
class Split:
    """Where each name's public suffix and registered label lie.

    ``suffix_labels`` is 0 where no rule matches (tldextract's empty suffix); the
    registered label (``label_*``) is then the last label, as in tldextract. The
    ``effective_*`` fields treat an unknown last label as the suffix instead, which is
    what features want (``evil.zz``: label ``evil``). Byte positions index the batch
    buffer; an empty label (the name is itself a suffix) has ``start == end``.
    """

    labels: NDArray[np.int64]
    suffix_labels: NDArray[np.int64]
    private: NDArray[np.bool_]
    label_start: NDArray[np.int64]
    label_end: NDArray[np.int64]
    suffix_start: NDArray[np.int64]
    #: hash of the effective suffix: the suffix, or the last label where no rule matched
    suffix_hash: NDArray[np.uint64]
    effective_suffix_start: NDArray[np.int64]
    effective_label_start: NDArray[np.int64]
    effective_label_end: NDArray[np.int64]


@dataclass(frozen=True)
class SuffixTable:
    """Hashes of every rule suffix ("node") and of the rules themselves ("ends")."""

    nodes: NDArray[np.uint64]
    ends: NDArray[np.uint64]
    end_private: NDArray[np.bool_]
    depth: int
    digest: str

    @cached_property
    def _nodes(self) -> HashIndex:
        return HashIndex.build(self.nodes)

    @cached_property
    def _ends(self) -> HashIndex:
        return HashIndex.build(self.ends)

    @classmethod
    def from_rules(cls, rules: SuffixRules) -> SuffixTable:
        """Build the table from normalized PSL rules (``*`` and ``!`` kept)."""
        node_hashes = np.unique(hash_strings(pa.array(sorted(rules.nodes), type=pa.large_string())))
        end_names = sorted(rules.rules)
        end_hashes = hash_strings(pa.array(end_names, type=pa.large_string()))
        order = np.argsort(end_hashes)
        return cls(
            nodes=node_hashes,
            ends=end_hashes[order],
            end_private=np.asarray([rules.rules[end_names[i]] for i in order], dtype=bool),
            depth=rules.depth,
            digest=rules.digest,
        )

    def split(
        self,
        data: NDArray[np.uint8],
        offsets: NDArray[np.int64],
        row_of_byte: NDArray[np.int64] | None = None,
    ) -> Split:
        """Split every name of the batch (normalized names; any bytes give a defined split).

        In one compiled pass per name when the kernels are loaded (``suffix_split``), else
        by the numpy passes below; both give the same split.
        """
        kernels = _accel.kernels
        if kernels is not None:
            return self._compiled_split(kernels, data, offsets)
        n = len(offsets) - 1
        if row_of_byte is None:
            row_of_byte = np.repeat(np.arange(n, dtype=np.int64), np.diff(offsets))
        tails = np.append(tail_hashes(data, offsets, row_of_byte), np.uint64(0))
        dots = np.flatnonzero(data == ord("."))
        dots_per_row = np.bincount(row_of_byte[dots], minlength=n).astype(np.int64)
        labels = dots_per_row + 1
        dot_end = np.cumsum(dots_per_row)
        row_start, row_end = offsets[:-1], offsets[1:]
        rows = np.arange(n)

        k = self.depth + 2
        # starts[j]: where the last j labels begin (j = 0: the row end, an empty string)
        starts = np.empty((k + 1, n), dtype=np.int64)
        starts[0] = row_end
        padded_dots = np.append(dots, 0)
        for j in range(1, k + 1):
            has_dot = dots_per_row >= j
            starts[j] = np.where(
                has_dot, padded_dots[np.where(has_dot, dot_end - j, dots.size)] + 1, row_start
            )
        # A start at the row's end (j = 0, or after a final dot) is the empty string.
        hashes = np.where(starts < row_end[None, :], tails[np.minimum(starts, data.size)], 0)
        lens = row_end[None, :] - starts

        depth = np.zeros(n, dtype=np.int64)
        rule = np.zeros(n, dtype=np.int64)
        private = np.zeros(n, dtype=bool)
        alive = np.ones(n, dtype=bool)
        for j in range(1, self.depth + 1):
            alive &= labels >= j
            idx = np.flatnonzero(alive)
            if idx.size == 0:
                break
            found, _ = self._nodes.lookup(hashes[j, idx])
            inside = idx[found]
            depth[inside] = j
            is_end, where = self._ends.lookup(hashes[j, inside])
            rule[inside[is_end]] = j
            private[inside[is_end]] = self.end_private[where[is_end]]
            alive[:] = False
            alive[inside] = True

        # a "*" child below the deepest node takes the next label too, unless "!label" says no
        below = depth < labels
        wildcard_hash = _prefixed(b"*.", hashes[depth, rows], lens[depth, rows])
        wild, _ = self._nodes.lookup(wildcard_hash)
        wild &= below
        exception_hash = _prefixed(b"!", hashes[depth + 1, rows], lens[depth + 1, rows])
        exception, _ = self._nodes.lookup(exception_hash)
        exception &= wild
        is_rule, where = self._ends.lookup(wildcard_hash)
        suffix_labels = np.where(wild, np.where(exception, depth, depth + 1), rule)
        if self.end_private.size:  # no rules at all (no tldextract): nothing is private
            private = np.where(wild, is_rule & self.end_private[where], private)

        effective = np.maximum(suffix_labels, 1)
        label_start, label_end = _label_before(suffix_labels, labels, starts, row_start)
        effective_start, effective_end = _label_before(effective, labels, starts, row_start)
        return Split(
            labels=labels,
            suffix_labels=suffix_labels,
            private=private,
            label_start=label_start,
            label_end=label_end,
            suffix_start=starts[suffix_labels, rows],
            suffix_hash=hashes[effective, rows],
            effective_suffix_start=starts[effective, rows],
            effective_label_start=effective_start,
            effective_label_end=effective_end,
        )

    def _compiled_split(
        self, kernels: ModuleType, data: NDArray[np.uint8], offsets: NDArray[np.int64]
    ) -> Split:
        data, offsets = _accel.rows(data, offsets)
        out = np.empty((len(offsets) - 1, 10), dtype=np.int64)
        node_keys, node_slots = self._nodes.compiled_table
        end_keys, end_slots = self._ends.compiled_table
        kernels.suffix_split(
            data,
            offsets,
            node_slots,
            node_keys,
            end_slots,
            end_keys,
            self._end_private_flags,
            self.depth,
            out,
        )
        return Split(
            labels=out[:, 0],
            suffix_labels=out[:, 1],
            private=out[:, 2].astype(bool),
            label_start=out[:, 3],
            label_end=out[:, 4],
            suffix_start=out[:, 5],
            suffix_hash=out[:, 6].view(np.uint64),
            effective_suffix_start=out[:, 7],
            effective_label_start=out[:, 8],
            effective_label_end=out[:, 9],
        )

    @cached_property
    def _end_private_flags(self) -> NDArray[np.uint8]:
        return self.end_private.astype(np.uint8)


def _label_before(
    suffix_labels: NDArray[np.int64],
    labels: NDArray[np.int64],
    starts: NDArray[np.int64],
    row_start: NDArray[np.int64],
) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
    """Byte range of the label in front of the last ``suffix_labels`` labels (may be empty)."""
    rows = np.arange(len(labels))
    present = labels > suffix_labels
    end = starts[suffix_labels, rows] - (suffix_labels > 0)
    start = starts[np.minimum(suffix_labels + 1, starts.shape[0] - 1), rows]
    return np.where(present, start, row_start), np.where(present, end, row_start)


@cache
def public_suffixes() -> SuffixTable:
    """The table built from tldextract's bundled snapshot (never fetched: no network)."""
    return SuffixTable.from_rules(bundled_rules())
