"""StringSet: exact membership through 64-bit hashes, verified on every hit.

Every test runs twice: with vigil's compiled kernels (C hashes, an open-addressing table)
and with their numpy twins (column-wise hashes, a binary search), which must agree.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from vigil.features import _accel
from vigil.intel._strings import _SEEDS, HashCache, StringSet, hash_strings


def test_find_returns_positions_in_values(way: str) -> None:
    values = StringSet.build(pa.array(["b.com", "a.com", None, "b.com", "ünï.com", ""]))
    assert values.values.to_pylist() == ["b.com", "a.com", "ünï.com", ""]
    found = values.find(pa.array(["a.com", "zzz", None, "ünï.com", "", "b.com"]))
    assert found.tolist() == [1, -1, -1, 2, 3, 0]


def test_where_limits_what_is_looked_up(way: str) -> None:
    values = StringSet.build(pa.array(["a", "b"]))
    queries = pa.array(["a", "b", "a"])
    where = np.array([True, False, False])
    assert values.find(queries, HashCache(queries), where).tolist() == [0, -1, -1]


def test_hashes_do_not_depend_on_slicing_or_string_type(way: str) -> None:
    whole = pa.array(["pad", "evil.com", "x"], type=pa.large_string())
    assert hash_strings(whole.slice(1, 1))[0] == hash_strings(pa.array(["evil.com"]))[0]
    assert len(hash_strings(pa.array([], type=pa.large_string()))) == 0


def test_empty_sets_find_nothing(way: str) -> None:
    assert StringSet.empty().find(pa.array(["a"])).tolist() == [-1]
    assert len(StringSet.empty()) == 0


def test_a_set_built_one_way_answers_the_other_way(way: str) -> None:
    built = StringSet.build(pa.array([f"name{i}.example" for i in range(3000)]))
    queries = pa.array([f"name{i}.example" for i in range(2990, 3010)])
    expected = [i if i < 3000 else -1 for i in range(2990, 3010)]
    with _accel.numpy_only():
        assert built.find(queries).tolist() == expected
    assert built.find(queries).tolist() == expected


# the fixture only picks the way, the same for every example
@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    values=st.lists(st.text(max_size=12), max_size=30),
    queries=st.lists(st.one_of(st.text(max_size=12), st.none()), max_size=30),
)
def test_find_agrees_with_a_dict(way: str, values: list[str], queries: list[str | None]) -> None:
    built = StringSet.build(pa.array(values, type=pa.large_string()))
    position = {v: i for i, v in enumerate(built.values.to_pylist())}
    assert sorted(position) == sorted(set(values))
    found = built.find(pa.array(queries, type=pa.large_string()))
    assert found.tolist() == [position.get(q, -1) if q is not None else -1 for q in queries]


needs_kernels = pytest.mark.skipif(
    _accel.kernels is None,
    reason=f"the compiled kernels are off ({_accel.ENV_SWITCH}=0) or were not built",
)


@needs_kernels
@settings(max_examples=100, deadline=None)
@given(
    strings=st.lists(st.one_of(st.binary(max_size=300), st.none()), max_size=40),
    seed=st.sampled_from(_SEEDS),
)
def test_compiled_hashes_equal_the_numpy_ones_bit_for_bit(
    strings: list[bytes | None], seed: int
) -> None:
    array = pa.array(strings, type=pa.large_binary()).cast(pa.large_string(), safe=False)
    compiled = hash_strings(array, seed)
    with _accel.numpy_only():
        assert np.array_equal(compiled, hash_strings(array, seed))


@needs_kernels
def test_the_table_kernels_refuse_bad_calls() -> None:
    kernels = _accel.require()
    hashes = np.arange(4, dtype=np.uint64)
    with pytest.raises(ValueError, match="power of two"):
        kernels.hash_slots(hashes, np.empty(12, dtype=np.int64))
    with pytest.raises(ValueError, match="more slots than hashes"):
        kernels.hash_slots(hashes, np.empty(4, dtype=np.int64))
    slots = np.empty(8, dtype=np.int64)
    assert kernels.hash_slots(np.array([5, 5, 6], dtype=np.uint64), slots) == 1
    found = np.empty(2, dtype=np.int64)
    with pytest.raises(ValueError, match="past the hashes"):
        kernels.hash_slots_find(np.full(8, 7, dtype=np.int64), hashes, hashes[:2], found)
    with pytest.raises(ValueError, match="one output index per query"):
        kernels.hash_slots_find(slots, hashes, hashes, found)
    # a full table (no free slot) is searched once around, not forever
    kernels.hash_slots_find(
        np.array([0, 1, 2, 3], dtype=np.int64), hashes, np.array([9, 2], dtype=np.uint64), found
    )
    assert found.tolist() == [-1, 2]
    out = np.empty(1, dtype=np.uint64)
    with pytest.raises(ValueError, match="one output hash per string"):
        kernels.string_hashes(
            np.zeros(3, dtype=np.uint8), np.array([0, 1, 3], dtype=np.int64), 0, out
        )
