"""The catalog DFA's compiled scan finds exactly the hits ahocorasick-rs finds."""

from __future__ import annotations

from dataclasses import replace

import ahocorasick_rs
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from vigil.features import _accel
from vigil.features._patterns import PatternDfa
from vigil.features.catalog import Catalog

pytestmark = pytest.mark.skipif(_accel.kernels is None, reason="needs the compiled kernels")

Hit = tuple[int, int, bytes]


def reference_hits(patterns: list[bytes], switch: list[bool], text: bytes) -> list[Hit]:
    """Every non-switch occurrence (overlaps) and the leftmost-longest switch occurrences,
    by ahocorasick-rs, as (start, inclusive end, pattern)."""
    hits: list[Hit] = []
    for kind in (False, True):
        chosen = [p for p, s in zip(patterns, switch, strict=True) if s == kind]
        if not chosen:
            continue
        automaton = ahocorasick_rs.BytesAhoCorasick(
            chosen,
            matchkind=(
                ahocorasick_rs.MATCHKIND_LEFTMOST_LONGEST
                if kind
                else ahocorasick_rs.MATCHKIND_STANDARD
            ),
        )
        for index, start, end in automaton.find_matches_as_indexes(text, overlapping=not kind):
            hits.append((start, end - 1, chosen[index]))
    return sorted(hits)


def dfa_hits(dfa: PatternDfa, patterns: list[bytes], text: bytes) -> list[Hit]:
    start, end, pattern = dfa.scan(text)
    found = zip(start.tolist(), end.tolist(), pattern.tolist(), strict=True)
    return sorted((s, e, patterns[p]) for s, e, p in found)


pattern_sets = st.lists(
    st.tuples(
        st.binary(min_size=1, max_size=5).map(lambda b: bytes(x % 4 + 97 for x in b)), st.booleans()
    ),
    min_size=1,
    max_size=25,
    unique_by=lambda pair: pair[0],
)


@settings(max_examples=400, deadline=None)
@given(pattern_sets, st.binary(max_size=200).map(lambda b: bytes(x % 5 + 97 for x in b)))
def test_random_pattern_sets_give_ahocorasick_rs_hits(
    pairs: list[tuple[bytes, bool]], text: bytes
) -> None:
    """Patterns over a 4-letter alphabet (nested, overlapping, prefixes of each other),
    texts over 5 letters: every failure link and every leftmost-longest choice is hit."""
    patterns = [p for p, _ in pairs]
    switch = [s for _, s in pairs]
    dfa = PatternDfa.build(patterns, switch)
    assert dfa_hits(dfa, patterns, text) == reference_hits(patterns, switch, text)


@pytest.fixture(scope="module")
def catalog_patterns() -> tuple[list[bytes], list[bool]]:
    catalog = Catalog.load()
    patterns = [p.encode() for i in catalog.indicators for p in i.patterns]
    return patterns, [i.switch for i in catalog.indicators for _ in i.patterns]


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.one_of(
            st.sampled_from(
                ["iex", "-e", "-ep bypass", "-enc", "/e", "-noprofile", "mimikatz", " ", "x("]
            ),
            st.text(alphabet="-/abcdeinoprstx ()'\"", max_size=8),
        ),
        max_size=30,
    ).map(lambda parts: "".join(parts).encode()),
)
def test_the_catalog_gives_ahocorasick_rs_hits(
    catalog_patterns: tuple[list[bytes], list[bool]], text: bytes
) -> None:
    patterns, switch = catalog_patterns
    dfa = PatternDfa.build(patterns, switch)
    assert dfa_hits(dfa, patterns, text) == reference_hits(patterns, switch, text)


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.lists(
            st.sampled_from(["iex", "-e", "-ep bypass", "-enc", "/e", "-nop", "mimikatz", " "]),
            max_size=12,
        ).map(lambda parts: "".join(parts).encode()),
        min_size=1,
        max_size=40,
    ),
    st.integers(1, 400),
)
def test_long_batches_scanned_in_lanes_give_ahocorasick_rs_hits(
    catalog_patterns: tuple[list[bytes], list[bool]], rows: list[bytes], repeat: int
) -> None:
    """Batches of 4 KiB and more are cut after NULs into lanes scanned in lockstep."""
    patterns, switch = catalog_patterns
    dfa = PatternDfa.build(patterns, switch)
    text = b"\0".join(rows * repeat)
    assert dfa_hits(dfa, patterns, text) == reference_hits(patterns, switch, text)


def test_a_pattern_holding_a_nul_keeps_one_lane() -> None:
    patterns = [b"a\0b", b"b"]
    dfa = PatternDfa.build(patterns, [False, False])
    text = b"xa\0b" * 3000
    assert dfa_hits(dfa, patterns, text) == reference_hits(patterns, [False, False], text)


def test_a_text_with_more_hits_than_the_first_guess() -> None:
    """Every byte a hit of several patterns: the scan is repeated with room for all."""
    patterns = [b"a", b"aa", b"aaa"]
    dfa = PatternDfa.build(patterns, [False] * 3)
    text = b"a" * 5000
    assert len(dfa_hits(dfa, patterns, text)) == 5000 + 4999 + 4998


@settings(max_examples=100, deadline=None)
@given(st.integers(0, 2**32 - 1), st.binary(max_size=300))
def test_a_garbage_table_gives_wrong_hits_not_a_crash(seed: int, text: bytes) -> None:
    """Transitions are not checked per call: a step masks its row into the padded table."""
    dfa = PatternDfa.build([b"ab", b"b", b"abc"], [False, True, False])
    table = np.random.default_rng(seed).integers(-(2**31), 2**31, dfa.table.size)
    garbage = replace(dfa, table=table.astype(np.int32))
    start, end, pattern = garbage.scan(text)
    assert len(start) == len(end) == len(pattern)
    assert np.all((pattern >= 0) & (pattern < 3))


def test_bad_pattern_sets_are_refused() -> None:
    with pytest.raises(ValueError, match="non-empty and distinct"):
        PatternDfa.build([b"a", b"a"], [False, False])
    with pytest.raises(ValueError, match="non-empty and distinct"):
        PatternDfa.build([b""], [False])


def test_the_scan_refuses_bad_tables() -> None:
    kernels = _accel.require()
    dfa = PatternDfa.build([b"ab", b"b"], [False, True])
    out = [np.zeros(4, np.int64) for _ in range(3)]
    good = [
        b"abab",
        dfa.byte_class,
        dfa.table,
        dfa.classes,
        dfa.out_offsets,
        dfa.out_patterns,
        dfa.pattern_length,
        dfa.pattern_switch,
    ]
    assert kernels.scan_patterns(*good, *out) == 4  # ab twice, the switch b twice
    broken_class = dfa.byte_class.copy()
    broken_class[0] = dfa.classes
    for position, bad, why in [
        (2, dfa.table[:-1], "2\\*\\*k"),
        (1, broken_class, "byte class"),
        (1, dfa.byte_class[:-1], "256 byte classes"),
        (5, np.array([0, 1, 7], np.int64), "names no pattern"),
        (5, np.array([0, 1], np.int64), "run from 0 to the outputs"),
        (6, np.zeros(2, np.int64), "lengths"),
        (7, np.zeros(1, np.uint8), "switch flag"),
    ]:
        args = list(good)
        args[position] = bad
        with pytest.raises(ValueError, match=why):
            kernels.scan_patterns(*args, *out)
