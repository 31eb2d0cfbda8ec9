"""expand(): every name with each of its ancestors, the same with and without the kernels."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from vigil.features import _accel
from vigil.intel._ancestors import MAX_NAME_LENGTH, _levels, _levels_compiled, expand
from vigil.intel._suffixes import bundled

needs_kernels = pytest.mark.skipif(
    _accel.kernels is None,
    reason=f"the compiled kernels are off ({_accel.ENV_SWITCH}=0) or were not built",
)


def test_a_name_expands_to_itself_and_every_ancestor_level_major() -> None:
    ancestors = expand(pa.array(["a.b.example.co.uk", None, "x.com", "", "local"]), bundled())
    assert ancestors.strings.to_pylist() == [
        "a.b.example.co.uk",
        "x.com",
        "local",
        "b.example.co.uk",
        "com",
        "example.co.uk",
        "co.uk",
        "uk",
    ]
    assert ancestors.rows.tolist() == [0, 2, 4, 0, 2, 0, 0, 0]
    assert ancestors.levels.tolist() == [0, 0, 0, 1, 1, 2, 3, 4]
    assert ancestors.registered_level.tolist() == [2, -1, 0, -1, -1]


names = st.lists(
    st.one_of(
        st.none(),
        st.text(alphabet="ab.-é", max_size=12),
        st.builds(".".join, st.lists(st.text(alphabet="xyz", max_size=4), max_size=7)),
        st.just("a." * 127 + "b"),  # 255 bytes: longer than a name can be
        st.just("a." * 126 + "b"),  # 253 bytes: the longest name
    ),
    max_size=20,
)


@needs_kernels
@settings(max_examples=300, deadline=None)
@given(names)
def test_the_compiled_levels_equal_the_arrow_ones(values: list[str | None]) -> None:
    array = pa.array(values, type=pa.large_string())
    strings, rows, levels, labels = _levels_compiled(array)
    expected = _levels(array)
    assert strings.to_pylist() == expected[0].to_pylist()
    np.testing.assert_array_equal(rows, expected[1])
    np.testing.assert_array_equal(levels, expected[2])
    np.testing.assert_array_equal(labels, expected[3])
    compiled = expand(array, bundled())
    with _accel.numpy_only():
        reference = expand(array, bundled())
    np.testing.assert_array_equal(compiled.registered_level, reference.registered_level)


@needs_kernels
def test_the_ancestor_kernels_refuse_bad_calls() -> None:
    kernels = _accel.require()
    data = np.frombuffer(b"a.bc.d", dtype=np.uint8)
    offsets = np.array([0, 3, 6], dtype=np.int64)
    labels = np.empty(2, dtype=np.int32)
    assert kernels.ancestor_sizes(data, offsets, MAX_NAME_LENGTH, labels) == (
        4,
        8,
        2,
    )  # "a.b", "c.d", "b", "d"
    assert labels.tolist() == [2, 2]
    with pytest.raises(ValueError, match="one label count per row"):
        kernels.ancestor_sizes(data, offsets, MAX_NAME_LENGTH, labels[:1])

    def fill(counts: list[int], depth: int, size: int, ancestors: int) -> None:
        kernels.ancestor_fill(
            data,
            offsets,
            np.array(counts, dtype=np.int32),
            depth,
            np.empty(size, dtype=np.uint8),
            np.empty(ancestors + 1, dtype=np.int64),
            np.empty(ancestors, dtype=np.int64),
            np.empty(ancestors, dtype=np.int32),
        )

    fill([2, 2], 2, 8, 4)  # what ancestor_sizes said: fine
    with pytest.raises(ValueError, match="over the depth"):
        fill([3, 2], 2, 8, 5)
    with pytest.raises(ValueError, match="every ancestor"):
        fill([2, 2], 2, 8, 3)
    with pytest.raises(ValueError, match="too small"):
        fill([2, 2], 2, 7, 4)
