"""The catalog's patterns as one Aho-Corasick DFA that the compiled ``scan_patterns`` walks.

Why not only ahocorasick-rs: its scans are fast, but it hands every hit back as a Python
tuple (~12,000 per 2,048 command lines, over two scans: literals with overlaps, switches
leftmost-longest), and building those tuples and flattening them cost as much as the
scans. The DFA here (byte classes, a full transition table, each state's patterns with
those of its failure chain) is built once per catalog in a few milliseconds; the kernel
scans a batch once for both kinds and writes the hits into numpy arrays. Switch hits are
then chosen leftmost-longest, as ahocorasick-rs's ``MATCHKIND_LEFTMOST_LONGEST`` chooses
them. The ahocorasick-rs scans stay as the fallback and the reference the tests compare
against.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from vigil.features import _accel

#: Rows are masked to at most 30 bits in the kernel.
_MAX_ROWS = 2**30


@dataclass(frozen=True)
class PatternDfa:
    """A full DFA over byte classes for a set of byte patterns.

    ``table[row + byte_class[b]]`` is the next state's row (``state * classes``), its
    sign bit set when the state ends patterns; they are
    ``out_patterns[out_offsets[state]:out_offsets[state + 1]]``. The table is padded with
    zeros to ``2**k + classes`` entries (see ``scan_patterns``).
    """

    byte_class: NDArray[np.uint8]
    table: NDArray[np.int32]
    classes: int
    out_offsets: NDArray[np.int64]
    out_patterns: NDArray[np.int64]
    pattern_length: NDArray[np.int64]
    pattern_switch: NDArray[np.uint8]

    @classmethod
    def build(cls, patterns: Sequence[bytes], switch: Sequence[bool]) -> PatternDfa:
        """The DFA of ``patterns`` (non-empty, distinct); ``switch`` marks the ones chosen
        leftmost-longest instead of reported with overlaps."""
        if not patterns or any(not p for p in patterns) or len(set(patterns)) != len(patterns):
            raise ValueError("patterns must be non-empty and distinct")
        used = sorted({b for p in patterns for b in p})
        byte_class = np.zeros(256, dtype=np.uint8)  # class 0: every byte no pattern has
        byte_class[used] = np.arange(1, len(used) + 1, dtype=np.uint8)
        classes = len(used) + 1

        # The trie: children per state as {class: state}; the patterns each state ends.
        children: list[dict[int, int]] = [{}]
        ends: list[list[int]] = [[]]
        for index, pattern in enumerate(patterns):
            state = 0
            for byte in pattern:
                c = int(byte_class[byte])
                nxt = children[state].get(c)
                if nxt is None:
                    nxt = len(children)
                    children[state][c] = nxt
                    children.append({})
                    ends.append([])
                state = nxt
            ends[state].append(index)
        if len(children) * classes > _MAX_ROWS:
            raise ValueError("too many patterns for one table")

        # Breadth first, so a state's failure state (always shallower) is complete before
        # it: a state's row is its failure state's row with its own children written over
        # it, and its patterns are its own and its failure state's.
        table = np.zeros((len(children), classes), dtype=np.int32)
        fail = np.zeros(len(children), dtype=np.int64)
        outputs: list[list[int]] = [list(e) for e in ends]
        for c, child in children[0].items():
            table[0, c] = child
        queue = list(children[0].values())
        for state in queue:
            row = table[fail[state]].copy()
            for c, child in children[state].items():
                row[c] = child
                fail[child] = table[fail[state], c]
                outputs[child] = ends[child] + outputs[int(fail[child])]
                queue.append(child)
            table[state] = row
        out_offsets = np.zeros(len(children) + 1, dtype=np.int64)
        np.cumsum([len(o) for o in outputs], out=out_offsets[1:])
        out_patterns = np.asarray([p for o in outputs for p in o], dtype=np.int64)
        ends_here = np.asarray([bool(o) for o in outputs])
        rows = table.astype(np.int64) * classes
        flagged = np.where(ends_here[table], rows | (1 << 31), rows).reshape(-1)
        # Padded to 2**k + classes entries (zeros: transitions to the start), so the kernel
        # can mask rows to k bits instead of checking every transition on every call.
        span = 1 << max(int(flagged.size - 1).bit_length(), 0)
        padded = np.zeros(span + classes, dtype=np.int64)
        padded[: flagged.size] = flagged
        return cls(
            byte_class=byte_class,
            table=padded.astype(np.uint32).view(np.int32),
            classes=classes,
            out_offsets=out_offsets,
            out_patterns=out_patterns,
            pattern_length=np.asarray([len(p) for p in patterns], dtype=np.int64),
            pattern_switch=np.asarray(switch, dtype=np.uint8),
        )

    def scan(self, text: bytes) -> tuple[NDArray[np.int64], NDArray[np.int64], NDArray[np.int64]]:
        """Start, end (inclusive) and pattern index of every hit in ``text``: every
        occurrence of a non-switch pattern, and the leftmost-longest switch occurrences."""
        kernels = _accel.require()
        capacity = len(text) // 8 + 1024
        while True:
            start = np.empty(capacity, dtype=np.int64)
            end = np.empty(capacity, dtype=np.int64)
            pattern = np.empty(capacity, dtype=np.int64)
            count = kernels.scan_patterns(
                text,
                self.byte_class,
                self.table,
                self.classes,
                self.out_offsets,
                self.out_patterns,
                self.pattern_length,
                self.pattern_switch,
                start,
                end,
                pattern,
            )
            if count <= capacity:
                return start[:count], end[:count], pattern[:count]
            capacity = count
