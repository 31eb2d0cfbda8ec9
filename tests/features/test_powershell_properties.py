"""Properties of the PowerShell extractor over vigil.testing's generated inputs.

Arrow columns with nulls and several chunks, generated benign and malicious command lines,
and the obfuscations attackers use (case, backticks, carets, string concatenation).
"""

from __future__ import annotations

import base64
import re

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from vigil.features import normalize
from vigil.features.powershell import PowerShellExtractor, log1p_counts
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
def test_the_launcher_payload_is_what_the_whole_pattern_captures(
    body: str, padding: str, before: str, after: str, launcher: str
) -> None:
    """unwrap_launchers takes the payload as the tail after the last separator on rows the
    whole launcher pattern matched: on every such row it must be what the pattern captures."""
    line = f"{launcher}{before}{body}{padding}{after}"
    whole = pc.extract_regex(pa.array([line], type=pa.large_string()), normalize._LAUNCHER_RE2)
    if not whole[0].is_valid:
        return  # not a launcher: its tail is never asked for
    assert normalize._launcher_payload(line) == whole[0]["payload"].as_py()


def _utf16_base64(script: str) -> str:
    return base64.b64encode(script.encode("utf-16-le")).decode()


@st.composite
def payload_rows(draw: st.DrawFn) -> tuple[list[str], list[str | None]]:
    """Launchers (some nested), FromBase64String payloads, short and broken payloads, and
    rows without any, as one batch; and per row, the script it must unwrap to (None: not
    a launcher of a script)."""
    scripts = st.sampled_from(
        [
            "Get-Date",
            "iex (New-Object Net.WebClient)",
            "A",
            "",
            # payloads decoding must find once unwrapping has revealed them
            f"iex ([Convert]::FromBase64String('{_utf16_base64('Get-Process')}'))",
            f"powershell -w hidden -enc {_utf16_base64('Get-Service')}",
        ]
    )
    launchers = st.sampled_from(["powershell -nop -enc", "pwsh -ep bypass -ec", "-e", "/enc"])
    rows: list[str] = []
    expected: list[str | None] = []
    for _ in range(draw(st.integers(1, 8))):
        script = inner = draw(scripts)
        depth = draw(st.integers(0, normalize.MAX_DECODE_DEPTH))
        for _ in range(depth):  # nested launchers
            script = f"{draw(launchers)} {_utf16_base64(script)}"
        kind = draw(st.sampled_from(["as is", "frombase64", "short", "broken"]))
        expected.append(inner if kind == "as is" and depth and inner else None)
        if kind == "frombase64":
            script = f"[Convert]::FromBase64String('{_utf16_base64(script)}')"
        elif kind == "short":
            script = f"{draw(launchers)} {draw(st.sampled_from(['A', 'QQ', 'QQA', 'QQA=']))}"
        elif kind == "broken":
            script = f"{draw(launchers)} {_utf16_base64(script)[:-1]}!"
        rows.append(script)
    return rows, expected


@PROPERTY
@given(payload_rows())
def test_unwrapping_candidate_rows_only_is_unwrapping_every_row(
    batch: tuple[list[str], list[str | None]],
) -> None:
    """Unwrapping looks only at rows the payload prefilter matches (and, after a level, at
    the rows it changed): it must change exactly what testing every row does, and unwrap
    every launcher, nested up to MAX_DECODE_DEPTH levels, to its script."""
    rows, expected = batch
    text = normalize.clean_text(pa.array(rows, type=pa.large_string()))
    candidates = normalize._matching(text, normalize._CANDIDATE_RE2)
    every_row = np.arange(len(text), dtype=np.int64)
    prefiltered, changed = normalize._unwrap(text, candidates)
    unwrapped, changed_too = normalize._unwrap(text, every_row)
    assert prefiltered.equals(unwrapped)
    assert changed.tolist() == changed_too.tolist()
    for row, script in enumerate(expected):
        if script is not None:
            assert prefiltered[row].as_py() == script
            assert row in changed

    one_pass = normalize.unwrap_and_decode(text)
    two_passes = normalize.decode_payloads(normalize.unwrap_launchers(text))
    assert one_pass.text.equals(two_passes.text)
    assert one_pass.content.equals(two_passes.content)
    for field in ("layers", "binary_payloads", "failed_payloads"):
        assert getattr(one_pass, field).tolist() == getattr(two_passes, field).tolist()


#: _ENCODED_RE as the switch reads: a dash at the start or after whitespace, a quote or a
#: bracket. The package's pattern puts the dash first (faster); they must find the same.
_ENCODED_AS_WRITTEN = re.compile(
    rf"(?:^|(?<=[\s'\"(]))[-/\u2013\u2014\u2015]{normalize._ENCODED_FLAG}[\s:]+['\"]?"
    r"(?P<payload>[A-Za-z0-9+/]{2,}={0,2})(?![A-Za-z0-9+/=])",
    re.IGNORECASE,
)


_switch = st.tuples(
    st.sampled_from([" ", "\t", "'", '"', "(", ")", "x", "é", "=", ""]),  # before the dash
    st.sampled_from(["-", "/", "\u2013", "\u2014", "\u2015", "\u2012", ""]),
    st.sampled_from(["e", "E", "ec", "enc", "EncodedCommand", "en", "ex", ""]),
    st.sampled_from([" ", ":", " '", ': "', "\t", ""]),
    st.text(alphabet="aZ09+/=", max_size=4),
).map("".join)
_switch_texts = st.lists(st.one_of(_switch, st.text(max_size=3)), max_size=4).map("".join)


@settings(max_examples=2000, deadline=None)
@given(_switch_texts)
def test_the_encoded_command_pattern_finds_what_its_plain_form_finds(text: str) -> None:
    def found(pattern: re.Pattern[str]) -> list[tuple[int, int]]:
        return [match.span("payload") for match in pattern.finditer(text)]

    assert found(normalize._ENCODED_RE) == found(_ENCODED_AS_WRITTEN)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (b"Get-Date\r\n\tWrite-Host 'x'", "Get-Date\r\n\tWrite-Host 'x'"),  # printable ASCII
        (b"a" * 17 + b"\x07" * 3, "a" * 17 + "\x07" * 3),  # 85 % printable: still text
        (b"a" * 16 + b"\x07" * 4, None),  # 80 %: binary
        (b"a\x7f" * 10, None),  # DEL is not printable
        ("caf\u00e9 \u2713".encode(), "caf\u00e9 \u2713"),  # non-ASCII takes the general path
    ],
)
def test_payload_text_is_printable_text(raw: bytes, expected: str | None) -> None:
    assert normalize._as_text(raw) == expected


@settings(max_examples=200, deadline=None)
@given(
    arrays(
        np.int32,
        st.tuples(st.integers(0, 40), st.sampled_from([1, 3, 129])),
        elements=st.integers(0, 300),
    )
)
def test_log1p_of_counts_is_numpys_bit_for_bit(counts: np.ndarray) -> None:
    """Counts below 256 by the table, any count past it by np.log1p: the same bits."""
    got = log1p_counts(counts)
    want = np.log1p(counts.astype(np.float32))
    assert got.dtype == want.dtype == np.float32
    assert got.shape == want.shape
    assert got.tobytes() == want.tobytes()


# -- launcher payloads: the kernel's common case, Python's rest ------------------------------

_LAUNCH_CHARACTERS = [*"Get-Dat e()'\"$;|", "\t", "\r", "\n", "\x00", "\x01", "\x7f", "é", "\ufeff"]
_LAUNCH_TEXT = st.text(st.sampled_from(_LAUNCH_CHARACTERS), max_size=30)


@st.composite
def launcher_lines(draw: st.DrawFn) -> str:
    """A launcher line whose payload is text, bytes or broken base64, padded every way."""
    kind = draw(st.sampled_from(["utf-16", "utf-8", "bytes"]))
    if kind == "bytes":
        raw = draw(st.binary(max_size=24))
    else:
        raw = draw(_LAUNCH_TEXT).encode("utf-16-le" if kind == "utf-16" else "utf-8")
    payload = base64.b64encode(raw).decode()
    padding = draw(st.sampled_from(["keep", "strip", "extra", "inside", "noise"]))
    if padding == "strip":
        payload = payload.rstrip("=")
    elif padding == "extra":
        payload += "=" * draw(st.integers(1, 3))
    elif padding == "inside" and payload:
        cut = draw(st.integers(0, len(payload)))
        payload = payload[:cut] + "=" + payload[cut:]
    elif padding == "noise" and payload:
        cut = draw(st.integers(0, len(payload)))
        noise = draw(st.sampled_from(["\x0b", "\x1c", "\xa0", "!", "-", "_", "é"]))
        payload = payload[:cut] + noise + payload[cut:]
    if draw(st.booleans()) and len(payload) > 1:  # a non-canonical last digit
        payload = payload[:-1] + draw(st.sampled_from(list("AQgw/+9")))
    before = draw(st.sampled_from([" ", ":", " '", ' "', "\t", "\n", "\f", "\r"]))
    after = draw(st.sampled_from(["", "'", '"']))
    return f"powershell -nop -enc{before}{payload}{after}"


@settings(max_examples=300, deadline=None)
@given(st.lists(launcher_lines(), min_size=1, max_size=12))
def test_launcher_scripts_in_the_kernel_are_pythons(lines: list[str]) -> None:
    from vigil.features import _accel

    if _accel.kernels is None:
        pytest.skip("the compiled kernels are not loaded")
    array = pa.array(lines, type=pa.large_string())
    decoded, found = normalize._launcher_scripts(array)
    with _accel.numpy_only():
        python_decoded, python_found = normalize._launcher_scripts(array)
    assert found.tolist() == python_found.tolist()
    assert decoded.to_pylist() == python_decoded.to_pylist()


def test_the_kernel_decodes_the_common_payload_itself() -> None:
    """Canonical base64 of printable ASCII in UTF-16LE is the kernel's; the rest Python's."""
    from vigil.features import _accel

    kernels = _accel.kernels
    if kernels is None:
        pytest.skip("the compiled kernels are not loaded")
    scripts = ["Get-Date", "a", "ab", "iex\t(x)\r\n", "x\x00y", ">>?"]  # ">>?": digits + and /
    deferred = ["é", "\x01", "\ufeffx", "", "\x7f", "\x00\x00"]
    lines = [f"powershell -enc {_utf16_base64(s)}" for s in (*scripts, *deferred)]
    lines += ["-e 'QQBiAA'", '-e "QQBiAA="', "-e:QQBiAA==", "-e QQBiAA==:", "-e =QQB"]
    lines += ["-e QQBi\x0bAA=="]
    data, offsets = normalize.buffers(pa.array(lines, type=pa.large_string()))
    out = np.empty(len(data), dtype=np.uint8)
    out_offsets = np.empty(len(lines) + 1, dtype=np.int64)
    status = np.empty(len(lines), dtype=np.uint8)
    kernels.launcher_scripts(data, offsets, out, out_offsets, status)
    assert status.tolist() == [1] * 6 + [0] * 6 + [1, 1, 1, 0, 0, 0]
    got = [bytes(out[out_offsets[i] : out_offsets[i + 1]]).decode() for i in range(len(lines))]
    assert got[:6] == ["Get-Date", "a", "ab", "iex\t(x)\r\n", "xy", ">>?"]
    assert got[12:15] == ["Ab", "Ab", "Ab"]
    with pytest.raises(ValueError, match="status byte per row"):
        kernels.launcher_scripts(data, offsets, out, out_offsets, status[:-1])
    with pytest.raises(ValueError, match="as long as the data"):
        kernels.launcher_scripts(data, offsets, out[:1], out_offsets, status)
