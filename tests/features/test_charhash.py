"""Hashed character n-grams: the vectorized kernel equals a per-name reference, bit for bit."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from vigil.features._charhash import MAX_BYTES, NgramLogit, ngram_rows

_MULTIPLIER = {1: 0x9E3779B1, 2: 0x85EBCA77, 3: 0xC2B2AE3D, 4: 0x27D4EB2F}


def reference(name: str, bits: int) -> list[int]:
    framed = b"\x02" + name.encode()[:MAX_BYTES] + b"\x03"
    top = (1 << bits) - 2
    out = []
    for k in (1, 2, 3, 4):
        for j in range(len(framed) - k + 1):
            code = int.from_bytes(framed[j : j + k], "big")
            out.append(min(((code * _MULTIPLIER[k]) & 0xFFFFFFFF) >> (32 - bits), top))
    return sorted(out)


@settings(max_examples=150, deadline=None)
@given(st.lists(st.one_of(st.none(), st.text(max_size=40)), max_size=12), st.integers(4, 20))
def test_kernel_equals_the_reference(names: list[str | None], bits: int) -> None:
    rows, buckets, scale = ngram_rows(pa.array(names, type=pa.large_string()), bits)
    padding = (1 << bits) - 1
    for i, name in enumerate(names):
        mine = sorted(buckets[(rows == i) & (buckets != padding)].tolist())
        if name is None:
            assert mine == []
            assert scale[i] == 0
        else:
            expected = reference(name, bits)
            assert mine == expected
            assert scale[i] == pytest.approx(1 / np.sqrt(len(expected)))


def test_long_names_are_cut_and_sliced_arrays_work() -> None:
    names = pa.array(["x" * 600, "abc.example.com", "ab"], type=pa.large_string()).slice(1)
    rows, buckets, _ = ngram_rows(names, 10)
    assert sorted(buckets[(rows == 0) & (buckets != 1023)].tolist()) == reference(
        "abc.example.com", 10
    )
    _, long_buckets, _ = ngram_rows(pa.array(["x" * 600]), 10)
    assert len(long_buckets[long_buckets != 1023]) == len(reference("x" * 600, 10))


def test_logit_is_bias_plus_scaled_weights_and_ignores_padding() -> None:
    rng = np.random.default_rng(0)
    weights = rng.normal(size=1 << 8).astype(np.float32)
    model = NgramLogit(weights, 0.5)
    names = pa.array(["google.com", None, "qzxv.top"], type=pa.large_string())
    got = model(names)
    for i, name in enumerate(names.to_pylist()):
        if name is None:
            assert got[i] == pytest.approx(0.5)
            continue
        hashed = reference(name, 8)
        assert got[i] == pytest.approx(0.5 + weights[hashed].sum() / np.sqrt(len(hashed)), rel=1e-5)


def test_round_trip_and_malformed_state() -> None:
    model = NgramLogit(np.arange(16, dtype=np.float32), -1.25)
    again = NgramLogit.from_dict(model.to_dict())
    np.testing.assert_array_equal(again.weights, model.weights)
    assert again.bias == -1.25
    with pytest.raises(ValueError, match="malformed"):
        NgramLogit.from_dict({"bits": 4, "bias": 0, "weights": "!!"})
    with pytest.raises(ValueError, match="expected 2"):
        NgramLogit.from_dict({**model.to_dict(), "bits": 5})
