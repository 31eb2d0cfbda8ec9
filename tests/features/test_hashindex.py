"""The uint64 hash index finds exactly its keys, the same way with and without the kernels."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from vigil.features import _accel
from vigil.features._hashindex import HashIndex


def test_hash_index_finds_exactly_its_keys(way: str) -> None:
    rng = np.random.default_rng(3)
    keys = np.unique(rng.integers(0, 2**63, 5000, dtype=np.uint64))
    # crowd the table: keys that share their home slot force long probe sequences
    keys = np.concatenate([keys, (np.arange(1, 40, dtype=np.uint64) << np.uint64(50))])
    # and keys that share their low bits (the compiled table's slot before mixing)
    keys = np.concatenate([keys, (np.arange(1, 40, dtype=np.uint64) << np.uint64(20)) + 7])
    index = HashIndex.build(keys)
    found, where = index.lookup(keys)
    assert found.all()
    np.testing.assert_array_equal(keys[where], keys)
    others = rng.integers(0, 2**63, 5000, dtype=np.uint64)
    others = others[~np.isin(others, keys)]
    assert not index.lookup(others)[0].any()
    assert not HashIndex.build(np.zeros(0, dtype=np.uint64)).lookup(keys)[0].any()
    assert index.lookup(np.zeros(0, dtype=np.uint64))[1].shape == (0,)


keys_strategy = st.one_of(
    st.lists(st.integers(0, 2**64 - 1), max_size=60),
    st.lists(st.integers(0, 27**4), max_size=60),  # base-27 word codes: uneven low bits
    st.lists(st.integers(0, 40).map(lambda k: k << 40), max_size=40),  # equal low bits
)


@settings(max_examples=200, deadline=None)
@given(keys_strategy, keys_strategy)
def test_lookups_agree_both_ways(keys: list[int], queries: list[int]) -> None:
    distinct = np.unique(np.asarray(keys, dtype=np.uint64))
    asked = np.asarray(queries + keys, dtype=np.uint64)
    index = HashIndex.build(distinct)
    found, where = index.lookup(asked)
    with _accel.numpy_only():
        found_numpy, where_numpy = HashIndex.build(distinct).lookup(asked)
    np.testing.assert_array_equal(found, found_numpy)
    np.testing.assert_array_equal(where, where_numpy)
    np.testing.assert_array_equal(found, np.isin(asked, distinct))
    np.testing.assert_array_equal(distinct[where[found]], asked[found])
