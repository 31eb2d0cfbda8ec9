"""Every name with each of its ancestors, and where its registered domain begins.

``a.b.example.co.uk`` expands to itself (level 0), ``b.example.co.uk`` (1),
``example.co.uk`` (2), ``co.uk`` (3) and ``uk`` (4). The public suffix is the longest
ancestor the suffix list names (``co.uk``, level 3); the registered domain is one label
more (``example.co.uk``, level 2). Levels are produced in two compiled passes over all
names (vigil's kernels), or without them with Arrow kernels, one pass per label depth.
Which ancestor is the suffix follows tldextract's trie walk exactly as the features' split
does (``vigil.features._suffixes``), on the same rules.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from numpy.typing import NDArray

from vigil._types import as_string_array
from vigil.features import _accel
from vigil.features.normalize import buffers
from vigil.intel._strings import HashCache
from vigil.intel._suffixes import EXACT, EXCEPTION, NODE, WILDCARD, PublicSuffixes

#: RFC 1035: longer text is not a name, so it is never looked up.
MAX_NAME_LENGTH = 253


@dataclass(frozen=True)
class Ancestors:
    """Candidates in level-major order, with the row and level of each.

    ``registered_level`` is per input row: the level of its registered domain (0 when the
    name is one), -1 when the name is itself a public suffix, null or not a name.
    """

    strings: pa.Array
    rows: NDArray[np.int64]
    levels: NDArray[np.int32]
    registered_level: NDArray[np.int32]
    hashes: HashCache

    @property
    def registered(self) -> NDArray[np.int64]:
        """Per input row, the index in ``strings`` of its registered domain, or -1."""
        out = np.full(len(self.registered_level), -1, dtype=np.int64)
        at = np.flatnonzero(self.registered_level[self.rows] == self.levels)
        out[self.rows[at]] = at
        return out

    @property
    def up_to_registered(self) -> NDArray[np.bool_]:
        """Candidates that are the name itself or an ancestor no shorter than its
        registered domain: the ones a list may speak for."""
        speaks: NDArray[np.bool_] = (self.levels == 0) | (
            self.levels <= self.registered_level[self.rows]
        )
        return speaks


def expand(domains: pa.Array, suffixes: PublicSuffixes) -> Ancestors:
    """The ancestors of each name in ``domains`` (normalized names; others give no rows)."""
    array = as_string_array(domains)
    expanded = _levels if _accel.kernels is None else _levels_compiled
    strings, rows, levels, labels = expanded(array)
    hashes = HashCache(strings)
    suffix = _suffix_level(strings, rows, levels, labels, suffixes, hashes)
    registered_level = np.where(labels > 0, suffix - 1, -1).astype(np.int32)
    return Ancestors(strings, rows, levels, registered_level, hashes)


def _levels(
    array: pa.Array,
) -> tuple[pa.Array, NDArray[np.int64], NDArray[np.int32], NDArray[np.int32]]:
    """Every name and each of its ancestors (level-major), their rows and levels, and each
    row's label count (0: not a name): one Arrow pass per label depth."""
    n = len(array)
    length = pc.binary_length(array)
    valid = np.asarray(
        pc.fill_null(pc.and_(pc.greater(length, 0), pc.less_equal(length, MAX_NAME_LENGTH)), False),
        dtype=bool,
    )
    labels = np.zeros(n, dtype=np.int32)
    labels[valid] = (
        np.asarray(pc.count_substring(array.filter(pa.array(valid)), "."), dtype=np.int32) + 1
    )
    current = array.filter(pa.array(valid))
    current_rows = np.flatnonzero(valid)
    parts, row_parts, level_parts = (
        [current],
        [current_rows],
        [np.zeros(len(current_rows), np.int32)],
    )
    level = 0
    while True:  # per label depth (at most 127), vectorized over names
        deeper = labels[current_rows] > level + 1
        if not deeper.any():
            break
        level += 1
        split = pc.split_pattern(current.filter(pa.array(deeper)), ".", max_splits=1)
        current = pc.list_element(split, 1)
        current_rows = current_rows[deeper]
        parts.append(current)
        row_parts.append(current_rows)
        level_parts.append(np.full(len(current_rows), level, np.int32))
    strings = pa.concat_arrays([p.cast(pa.large_string()) for p in parts])
    rows = np.concatenate(row_parts).astype(np.int64)
    levels = np.concatenate(level_parts)
    return strings, rows, levels, labels


def _levels_compiled(
    array: pa.Array,
) -> tuple[pa.Array, NDArray[np.int64], NDArray[np.int32], NDArray[np.int32]]:
    """:func:`_levels` in two compiled passes (sizes, then the bytes): the Arrow version
    costs a dozen kernel calls per batch, which a DNS log's small batches of memo misses
    pay again and again."""
    kernels = _accel.require()
    filled = pc.fill_null(array, "") if array.null_count else array
    data, offsets = _accel.rows(*buffers(filled))
    labels = np.empty(len(array), dtype=np.int32)
    count, size, depth = kernels.ancestor_sizes(data, offsets, MAX_NAME_LENGTH, labels)
    out = np.empty(size, dtype=np.uint8)
    out_offsets = np.empty(count + 1, dtype=np.int64)
    rows = np.empty(count, dtype=np.int64)
    levels = np.empty(count, dtype=np.int32)
    kernels.ancestor_fill(data, offsets, labels, depth, out, out_offsets, rows, levels)
    strings = pa.LargeStringArray.from_buffers(count, pa.py_buffer(out_offsets), pa.py_buffer(out))
    return strings, rows, levels, labels


def _suffix_level(
    strings: pa.Array,
    rows: NDArray[np.int64],
    levels: NDArray[np.int32],
    labels: NDArray[np.int32],
    suffixes: PublicSuffixes,
    hashes: HashCache,
) -> NDArray[np.int32]:
    """Per row, the level of its public suffix by tldextract's walk; the last label's level
    where no rule matches (an unknown top-level domain is its own suffix)."""
    n = len(labels)
    depth = int(labels.max()) if n else 0
    flags = np.zeros((n, depth + 1), dtype=np.uint8)  # [row, level]; column `labels` stays 0
    flags[rows, levels] = suffixes.lookup(strings, hashes)
    node, end = flags & NODE > 0, flags & EXACT > 0
    # The walk goes down rule labels from the right while it can. Every label suffix of a
    # rule is a node too, so the nodes a name reaches are exactly its ancestors that are
    # nodes, and it stops at the deepest (lowest level) one.
    all_rows = np.arange(n)
    stop = np.where(node.any(axis=1), node.argmax(axis=1), labels)
    suffix = np.where(end.any(axis=1), end.argmax(axis=1), labels)
    # A "*" under the stop takes the label below it too, unless "!label" excepts that one.
    below = np.maximum(stop - 1, 0)
    wild = (stop > 0) & (flags[all_rows, stop] & WILDCARD > 0)
    excepted = flags[all_rows, below] & EXCEPTION > 0
    suffix = np.where(wild, np.where(excepted, stop, below), suffix)
    return np.minimum(suffix, labels - 1).astype(np.int32)
