"""Properties of the PowerShell extractor over vigil.testing's generated inputs.

Arrow columns with nulls and several chunks, generated benign and malicious command lines,
and the obfuscations attackers use (case, backticks, carets, string concatenation).
"""

from __future__ import annotations

import base64

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from vigil.features import normalize
from vigil.features.powershell import PowerShellExtractor
from vigil.testing.strategies import encoded_pairs, obfuscated_pairs, string_columns

EXTRACTOR = PowerShellExtractor()
PROPERTY = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _rows(column: pa.Array | pa.ChunkedArray) -> list[str | None]:
    return column.to_pylist()


@PROPERTY
@given(string_columns(max_size=12))
def test_arrow_columns_with_nulls_and_chunks_match_row_by_row(column: pa.Array) -> None:
    batch = EXTRACTOR.transform(column)
    rows = _rows(column)
    assert batch.values.shape == (len(rows), EXTRACTOR.spec.width)
    assert np.isfinite(batch.values).all()
    assert batch.valid.tolist() == [value is not None for value in rows]
    for i, value in enumerate(rows):
        one = EXTRACTOR.transform([value])
        np.testing.assert_allclose(one.values[0], batch.values[i], atol=1e-6)


@PROPERTY
@given(string_columns(max_size=12))
def test_indicators_line_up_with_rows_and_nulls(column: pa.Array) -> None:
    indicators = EXTRACTOR.indicators(column).to_pylist()
    assert [i is None for i in indicators] == [v is None for v in _rows(column)]


@PROPERTY
@given(obfuscated_pairs())
def test_obfuscation_normalizes_away(pair: tuple[str, str]) -> None:
    plain, obfuscated = pair
    assert EXTRACTOR.normalize([obfuscated]).to_pylist() == EXTRACTOR.normalize([plain]).to_pylist()
    np.testing.assert_allclose(
        EXTRACTOR.transform([obfuscated]).values, EXTRACTOR.transform([plain]).values, atol=1e-6
    )


@PROPERTY
@given(encoded_pairs())
def test_encoded_launch_contains_the_script_it_runs(pair: tuple[str, str]) -> None:
    script, launcher = pair
    decoded = EXTRACTOR.normalize([launcher]).to_pylist()[0]
    plain = EXTRACTOR.normalize([script]).to_pylist()[0]
    assert plain in decoded
    # an ordinary launcher (deployment tools' switches only) is unwrapped to the script;
    # one with telling switches (-w hidden) keeps them and counts a decoded layer
    assert decoded == plain or EXTRACTOR.analyze([launcher]).layers[0] >= 1
    assert base64.b64encode(script.encode("utf-16-le")).decode() not in decoded


@PROPERTY
@given(
    st.text(
        alphabet="ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/", min_size=1
    ),
    st.sampled_from(["", "=", "=="]),
    st.sampled_from([" ", ":", " '", ' "', ": ", ":'"]),
    st.sampled_from(["", "'", '"']),
    st.sampled_from(["powershell -nop -enc", "pwsh.exe -ep bypass -ec", "-e", "/EncodedCommand"]),
)
def test_the_launcher_payload_pattern_extracts_what_the_whole_pattern_does(
    body: str, padding: str, before: str, after: str, launcher: str
) -> None:
    """unwrap_launchers takes the payload with a short tail pattern on rows the whole
    launcher pattern matched: on every such row both must capture the same payload."""
    row = pa.array([f"{launcher}{before}{body}{padding}{after}"], type=pa.large_string())
    whole = pc.extract_regex(row, normalize._LAUNCHER_RE2)
    if not whole[0].is_valid:
        return  # not a launcher: the tail pattern is never asked
    tail = pc.extract_regex(row, normalize._LAUNCHER_PAYLOAD_RE2)
    assert tail[0]["payload"] == whole[0]["payload"]
