"""A bounded memo of final scores across batches, for one bound detection.

Logs repeat themselves across batches, not only within one: a DNS log asks for the same
names all day, a process log runs the same scheduled command lines. The memo keeps the
final score (after ensemble combination and the ``listed_score`` override) of each value
seen, so a value met again in a later 2,048-row batch costs a dict lookup instead of
features and a model run.

**Validity.** Every entry belongs to one *generation*: the sha256 of each member model
serving the batch plus the identity and fingerprint of the bound intel. A batch with
another generation (a promoted or rolled-back model, a refreshed intel snapshot) empties
the memo before it looks anything up, so a hot swap shows on the very next batch.

**Bounds.** At most ``size`` entries and ``max_bytes`` bytes of value text (UTF-8);
values longer than ``max_value_bytes`` are never stored nor even looked up (they stay in
Arrow: one 1 MB script block would push a sixteenth of the other values out).

**Eviction: two generations of plain dicts** ("new" and "old", each holding at most half
the budget). Lookups read ``new``, then ``old`` for what ``new`` lacks; an ``old`` hit is
copied into ``new``. When ``new`` is full it becomes ``old`` and the previous ``old`` is
dropped. That approximates LRU (whatever was used since the last rotation survives it) at
the cost of plain dict lookups: a hit is ``dict.get`` through ``map`` in C, with none of
the per-hit bookkeeping an ``OrderedDict`` LRU needs (``move_to_end``, ~0.1 µs each in a
Python loop), and unlike clearing everything when full, the hot values survive a rotation.
"""

from __future__ import annotations

import threading
from collections.abc import Hashable
from dataclasses import dataclass
from itertools import repeat
from typing import TYPE_CHECKING

import numpy as np
from numpy.typing import NDArray

from vigil.defaults import SCORE_MEMO_MAX_BYTES, SCORE_MEMO_MAX_VALUE_BYTES
from vigil.errors import ConfigError

if TYPE_CHECKING:
    import pyarrow as pa

#: Marks "not in the memo": final scores are in [0, 1] or NaN, never negative.
_ABSENT = -1.0


@dataclass(frozen=True)
class MemoStats:
    """Counters of a score memo; hits and misses count distinct values of each batch."""

    hits: int
    misses: int
    entries: int
    capacity: int

    @property
    def lookups(self) -> int:
        return self.hits + self.misses

    @property
    def hit_rate(self) -> float:
        """Share of the batches' distinct values answered from the memo (0.0 before any)."""
        return self.hits / self.lookups if self.lookups else 0.0


@dataclass
class MemoLookup:
    """One batch's answer from the memo: what it knew, and what is left to score.

    ``scores[i]`` is the memoized score of ``uniques[i]``; ``missing`` lists the positions
    to score (and then hand to :meth:`ScoreMemo.store` with the same lookup).
    """

    generation: Hashable
    scores: NDArray[np.float64]
    missing: NDArray[np.int64]
    keys: list[str]
    key_of: NDArray[np.int64] | None  # position in uniques -> index in keys, -1: too long
    lengths: NDArray[np.int64]


class ScoreMemo:
    """Final scores by value for one generation of models and intel; see the module doc.

    Thread-safe: DuckDB may call a UDF from several threads. The lock is held for the
    lookups and the inserts only, never while a batch is scored.
    """

    def __init__(
        self,
        size: int,
        *,
        max_value_bytes: int = SCORE_MEMO_MAX_VALUE_BYTES,
        max_bytes: int = SCORE_MEMO_MAX_BYTES,
    ) -> None:
        if size < 1 or max_value_bytes < 0 or max_bytes < 0:
            raise ConfigError(
                f"score memo: size {size} must be at least 1 (memo_size=0 turns the memo "
                f"off), max_value_bytes {max_value_bytes} and max_bytes {max_bytes} at least 0"
            )
        self.size = size
        self.max_value_bytes = max_value_bytes
        self.max_bytes = max_bytes
        # Two halves keep both generations inside the budget; a memo of one entry has no
        # room for an old generation.
        self._two = size >= 2
        self._cap = size // 2 if self._two else size
        self._byte_cap = max_bytes // 2 if self._two else max_bytes
        self._lock = threading.Lock()
        self._generation: Hashable = None
        self._new: dict[str, float] = {}
        self._old: dict[str, float] = {}
        self._new_bytes = 0
        self._hits = 0
        self._misses = 0

    @property
    def stats(self) -> MemoStats:
        with self._lock:
            return MemoStats(self._hits, self._misses, len(self._new) + len(self._old), self.size)

    def clear(self) -> None:
        """Forget every score and zero the counters."""
        with self._lock:
            self._reset(None)
            self._hits = self._misses = 0

    def lookup(self, generation: Hashable, uniques: pa.Array) -> MemoLookup:
        """What the memo knows of ``uniques`` (distinct, non-null) under ``generation``."""
        import pyarrow.compute as pc

        n = len(uniques)
        lengths = np.asarray(pc.binary_length(uniques), dtype=np.int64)
        short = lengths <= self.max_value_bytes
        key_of: NDArray[np.int64] | None = None
        if bool(short.all()):
            keys: list[str] = uniques.to_pylist()
        else:  # long values never become Python strings
            positions = np.flatnonzero(short)
            keys = uniques.take(positions).to_pylist()
            key_of = np.full(n, -1, dtype=np.int64)
            key_of[positions] = np.arange(len(positions))
            lengths = lengths[positions]
        with self._lock:
            if generation != self._generation:
                self._reset(generation)
            found = np.fromiter(
                map(self._new.get, keys, repeat(_ABSENT)), dtype=np.float64, count=len(keys)
            )
            if self._old:
                self._revive(keys, found, lengths)
            hits = int(np.count_nonzero(found != _ABSENT))
            self._hits += hits
            self._misses += n - hits
        if key_of is None:
            scores = found
        else:
            scores = np.full(n, _ABSENT, dtype=np.float64)
            scores[key_of >= 0] = found
        missing = np.flatnonzero(scores == _ABSENT)
        return MemoLookup(generation, scores, missing, keys, key_of, lengths)

    def store(self, lookup: MemoLookup, scores: NDArray[np.float64]) -> None:
        """Remember ``scores`` of ``lookup.missing`` (the values that fit the memo)."""
        missing = lookup.missing
        if lookup.key_of is not None:
            keyed = lookup.key_of[missing]
            fits = keyed >= 0
            missing, scores = keyed[fits], scores[fits]
        keys = lookup.keys
        new_keys = keys if missing.size == len(keys) else [keys[i] for i in missing.tolist()]
        with self._lock:
            if lookup.generation != self._generation:
                return  # another batch moved to a newer model or intel meanwhile
            self._insert(new_keys, scores.tolist(), lookup.lengths[missing])

    def _revive(
        self, keys: list[str], found: NDArray[np.float64], lengths: NDArray[np.int64]
    ) -> None:
        """Answer from the old generation what the new one lacks; copy those into it."""
        absent = np.flatnonzero(found == _ABSENT)
        if absent.size == 0:
            return
        asked = keys if absent.size == len(keys) else [keys[i] for i in absent.tolist()]
        old = np.fromiter(
            map(self._old.get, asked, repeat(_ABSENT)), dtype=np.float64, count=absent.size
        )
        known = old != _ABSENT
        if not known.any():
            return
        revived = absent[known]
        found[revived] = old[known]
        self._insert([keys[i] for i in revived.tolist()], old[known].tolist(), lengths[revived])

    def _insert(self, keys: list[str], scores: list[float], lengths: NDArray[np.int64]) -> None:
        if not keys:
            return
        total = int(lengths.sum())
        if len(self._new) + len(keys) > self._cap or self._new_bytes + total > self._byte_cap:
            self._old = self._new if self._two else {}
            self._new = {}
            self._new_bytes = 0
            if len(keys) > self._cap or total > self._byte_cap:  # more than half the budget
                used = np.cumsum(lengths)
                fit = min(self._cap, int(np.searchsorted(used, self._byte_cap, side="right")))
                keys, scores = keys[:fit], scores[:fit]
                total = int(used[fit - 1]) if fit else 0
        self._new.update(zip(keys, scores, strict=True))
        self._new_bytes += total

    def _reset(self, generation: Hashable) -> None:
        self._generation = generation
        self._new = {}
        self._old = {}
        self._new_bytes = 0
