"""StringSet: exact membership through sorted hashes, verified on every hit."""

from __future__ import annotations

import pyarrow as pa
from hypothesis import given, settings
from hypothesis import strategies as st

from vigil.intel._strings import HashCache, StringSet, hash_strings


def test_find_returns_positions_in_values() -> None:
    values = StringSet.build(pa.array(["b.com", "a.com", None, "b.com", "ünï.com", ""]))
    assert values.values.to_pylist() == ["b.com", "a.com", "ünï.com", ""]
    found = values.find(pa.array(["a.com", "zzz", None, "ünï.com", "", "b.com"]))
    assert found.tolist() == [1, -1, -1, 2, 3, 0]


def test_where_limits_what_is_looked_up() -> None:
    values = StringSet.build(pa.array(["a", "b"]))
    queries = pa.array(["a", "b", "a"])
    assert values.find(queries, HashCache(queries), [True, False, False]).tolist() == [0, -1, -1]  # type: ignore[arg-type]


def test_hashes_do_not_depend_on_slicing_or_string_type() -> None:
    whole = pa.array(["pad", "evil.com", "x"], type=pa.large_string())
    assert hash_strings(whole.slice(1, 1))[0] == hash_strings(pa.array(["evil.com"]))[0]
    assert len(hash_strings(pa.array([], type=pa.large_string()))) == 0


def test_empty_sets_find_nothing() -> None:
    assert StringSet.empty().find(pa.array(["a"])).tolist() == [-1]
    assert len(StringSet.empty()) == 0


@settings(max_examples=60, deadline=None)
@given(
    values=st.lists(st.text(max_size=12), max_size=30),
    queries=st.lists(st.one_of(st.text(max_size=12), st.none()), max_size=30),
)
def test_find_agrees_with_a_dict(values: list[str], queries: list[str | None]) -> None:
    built = StringSet.build(pa.array(values, type=pa.large_string()))
    position = {v: i for i, v in enumerate(built.values.to_pylist())}
    assert sorted(position) == sorted(set(values))
    found = built.find(pa.array(queries, type=pa.large_string()))
    assert found.tolist() == [position.get(q, -1) if q is not None else -1 for q in queries]
