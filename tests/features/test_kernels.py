"""The compiled feature kernels give what their numpy implementations give, and refuse bad calls.

Each kernel has a numpy twin in the package (the fallback where the C module cannot be
built or loaded); ``numpy_only()`` switches to it, so every property here runs both on the
same input. Where both add the same floats in the same order the results must be equal
bit for bit; the wide part's sums add in another order and agree to 1e-12.
"""

from __future__ import annotations

import dataclasses
import hashlib
from collections.abc import Callable
from types import ModuleType
from typing import TypeVar

import numpy as np
import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from numpy.typing import NDArray

from vigil.datasets.powershell import generate_commands
from vigil.features import _accel, normalize, powershell
from vigil.features import _lexical as lexical
from vigil.features._charhash import NgramLogit
from vigil.features._suffixes import Split, public_suffixes
from vigil.features._wide import WideState
from vigil.features.catalog import Catalog
from vigil.features.entities import normalize_domain, normalize_domains
from vigil.features.normalize import clean_text
from vigil.features.powershell import PowerShellExtractor, byte_statistics
from vigil.testing.strategies import command_lines

pytestmark = pytest.mark.skipif(
    _accel.kernels is None,
    reason=f"the compiled kernels are off ({_accel.ENV_SWITCH}=0) or were not built",
)

T = TypeVar("T")

rows_strategy = st.lists(st.binary(max_size=60), max_size=12)


def as_buffers(rows: list[bytes]) -> tuple[NDArray[np.uint8], NDArray[np.int64]]:
    offsets = np.zeros(len(rows) + 1, dtype=np.int64)
    np.cumsum([len(r) for r in rows], out=offsets[1:])
    return np.frombuffer(b"".join(rows), dtype=np.uint8), offsets


def both_ways(run: Callable[[], T]) -> tuple[T, T]:
    """``run()`` with the compiled kernels, then with their numpy twins."""
    compiled = run()
    with _accel.numpy_only():
        return compiled, run()


@settings(max_examples=200, deadline=None)
@given(rows_strategy, st.sampled_from([2, 16, 1024]), st.integers(0, 3))
def test_signed_character_columns_are_identical(
    rows: list[bytes], buckets: int, column: int
) -> None:
    data, offsets = as_buffers(rows)

    def columns() -> NDArray[np.float32]:
        values = np.zeros((len(rows), column + buckets + 2), dtype=np.float32)
        powershell._add_char_ngrams(values, column, data, offsets, buckets)
        return values

    compiled, expected = both_ways(columns)
    assert compiled.tobytes() == expected.tobytes()


token_rows = st.lists(
    st.one_of(
        st.binary(max_size=60),
        st.text(alphabet="ab_9 é()", max_size=40).map(str.encode),
        # tokens around BLAKE2b's 128-byte block, and base64-looking ones
        st.sampled_from([127, 128, 129, 256, 257, 20, 19]).map(lambda k: b"x" * k + b" q0"),
    ),
    max_size=12,
)


@settings(max_examples=300, deadline=None)
@given(token_rows, st.sampled_from([1, 7, 64, 1024]), st.integers(0, 3))
def test_token_ngrams_and_statistics_are_identical(
    rows: list[bytes], buckets: int, column: int
) -> None:
    data, offsets = as_buffers(rows)

    def columns() -> tuple[NDArray[np.float32], powershell.TokenStats]:
        values = np.zeros((len(rows), column + buckets + 2), dtype=np.float32)
        return values, powershell.add_token_ngrams(values, column, buckets, data, offsets)

    (compiled, stats), (expected, expected_stats) = both_ways(columns)
    assert compiled.tobytes() == expected.tobytes()
    for name in ("per_row", "longest", "mean_length", "base64_bytes"):
        assert getattr(stats, name).tobytes() == getattr(expected_stats, name).tobytes(), name


def test_a_long_token_hashes_as_blake2b_over_several_blocks() -> None:
    rows = [b"a" * 5000, b"b" * 128]
    data, offsets = as_buffers(rows)
    compiled = np.zeros((2, 1 << 16), dtype=np.float32)
    powershell.add_token_ngrams(compiled, 0, 1 << 16, data, offsets)
    for r, row in enumerate(rows):
        digest = int.from_bytes(hashlib.blake2b(row, digest_size=8).digest(), "little")
        sign = -1.0 if digest >> 63 else 1.0
        assert compiled[r, digest & 0xFFFF] == sign
        assert np.count_nonzero(compiled[r]) == 1


@settings(max_examples=200, deadline=None)
@given(rows_strategy)
def test_byte_statistics_agree(rows: list[bytes]) -> None:
    data, offsets = as_buffers(rows)
    (entropy, classes), (expected_entropy, expected_classes) = both_ways(
        lambda: byte_statistics(data, offsets)
    )
    np.testing.assert_allclose(entropy, expected_entropy, rtol=1e-12, atol=1e-12)
    np.testing.assert_array_equal(classes, expected_classes)
    assert classes.sum(axis=1).tolist() == [len(r) for r in rows]


@settings(max_examples=200, deadline=None)
@given(rows_strategy, st.integers(4, 16), st.integers(5, 70), st.integers(0, 2**32 - 1))
def test_wide_bucket_sums_agree(rows: list[bytes], bits: int, max_bytes: int, seed: int) -> None:
    weights = np.random.default_rng(seed).normal(size=1 << bits).astype(np.float32)
    state = WideState(weights, 0.25, max_bytes)
    data, offsets = as_buffers(rows)
    sums, counts = state.compiled_bucket_sums(data, offsets)
    expected_sums, expected_counts = state.bucket_sums(data, offsets)
    np.testing.assert_array_equal(counts, expected_counts)
    np.testing.assert_allclose(sums, expected_sums, rtol=1e-12, atol=1e-12)


@settings(max_examples=150, deadline=None)
@given(
    st.lists(st.one_of(st.none(), st.text(max_size=40), st.just("x" * 300)), max_size=12),
    st.integers(4, 20),
    st.integers(0, 2**32 - 1),
)
def test_name_ngram_logits_are_identical(names: list[str | None], bits: int, seed: int) -> None:
    weights = np.random.default_rng(seed).normal(size=1 << bits).astype(np.float32)
    model = NgramLogit(weights, -0.75)
    array = pa.array(names, type=pa.large_string())
    compiled, expected = both_ways(lambda: model(array))
    assert compiled.tobytes() == expected.tobytes()


name_rows = st.lists(
    st.one_of(
        st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789-_.", max_size=70).map(str.encode),
        st.binary(max_size=40),
        st.just(b"a" * 300),  # a symbol counted more than 255 times
    ),
    max_size=12,
)


@settings(max_examples=300, deadline=None)
@given(name_rows)
def test_name_statistics_are_identical(rows: list[bytes]) -> None:
    data, offsets = as_buffers(rows)
    buffer = lexical.Buffer(data, offsets)
    compiled, expected = both_ways(lambda: lexical.char_stats(lexical.Buffer(data, offsets)))
    assert compiled.tobytes() == expected.tobytes()
    assert compiled.shape == (len(buffer), len(lexical.CHAR_STATS))


#: A fitted trigram model of ordinary names, so that scores differ from name to name.
_NAME_LM = lexical.fit_trigram_model(
    lexical.Buffer(*as_buffers([b"example.com", b"mail.google.com", b"wikipedia.org", b"a-b_c9"]))
)


@settings(max_examples=300, deadline=None)
@given(name_rows)
def test_trigram_scores_are_identical(rows: list[bytes]) -> None:
    data, offsets = as_buffers(rows)
    compiled, expected = both_ways(
        lambda: lexical.trigram_scores(_NAME_LM, lexical.Buffer(data, offsets))
    )
    for got, want in zip(compiled, expected, strict=True):
        assert got.dtype == want.dtype == np.float32
        assert got.tobytes() == want.tobytes()


def test_trigram_scores_of_empty_and_one_byte_names() -> None:
    data, offsets = as_buffers([b"", b"a", b"ab", b"", b"\xff"])
    mean, low = lexical.trigram_scores(_NAME_LM, lexical.Buffer(data, offsets))
    with _accel.numpy_only():
        mean_numpy, low_numpy = lexical.trigram_scores(_NAME_LM, lexical.Buffer(data, offsets))
    assert mean.tobytes() == mean_numpy.tobytes()
    assert low.tobytes() == low_numpy.tobytes()
    end_only = _NAME_LM[
        (lexical.BOS * lexical.SYMBOLS + lexical.BOS) * lexical.SYMBOLS + lexical.EOS
    ]
    assert mean[0] == low[0] == end_only  # an empty name has its end event only


#: Words that share prefixes and run to 13 letters, so every lookup length is reached.
_WORDS = lexical.WordList.from_words(
    [
        "cat",
        "catalog",
        "catalogue",
        "dog",
        "micro",
        "microsoft",
        "soft",
        "software",
        "password",
        "pass",
        "word",
        "internationa",
        "abc",
        "abcdefghijklm",
        "zzz",
    ]
)
segment_rows = st.lists(
    st.one_of(
        st.lists(
            st.sampled_from(
                [
                    "cat",
                    "catalo",
                    "catalogue",
                    "micro",
                    "soft",
                    "ware",
                    "password",
                    "x1",
                    "-",
                    ".",
                    "abcdefghijklm",
                    "abcdefghijkl",
                    "internationa",
                    "zz",
                    "q",
                    "9",
                ]
            ),
            max_size=8,
        ).map(lambda parts: "".join(parts).encode()),
        st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789-_.", max_size=40).map(str.encode),
        st.binary(max_size=20),
    ),
    max_size=10,
)


@settings(max_examples=300, deadline=None)
@given(segment_rows, st.sampled_from(["shipped", "small"]))
def test_word_segmentation_is_identical(rows: list[bytes], words: str) -> None:
    data, offsets = as_buffers(rows)
    word_list = lexical.english_words() if words == "shipped" else _WORDS
    compiled, expected = both_ways(lambda: word_list.segment(lexical.Buffer(data, offsets)))
    for got, want in zip(compiled, expected, strict=True):
        assert got.tobytes() == want.tobytes()


def test_word_segmentation_takes_the_longest_word_first() -> None:
    names = [b"catalogue", b"catalogx", b"microsoftware", b"abcdefghijklm", b"", b"-cat-"]
    data, offsets = as_buffers(names)
    covered, words, longest = _WORDS.segment(lexical.Buffer(data, offsets))
    # catalogue whole; catalog, then no word in "x"; microsoft, then none in "ware"
    assert words.tolist() == [1, 1, 1, 1, 0, 1]
    assert longest.tolist() == [9, 7, 9, 13, 0, 3]
    assert covered.tolist() == pytest.approx([1.0, 7 / 8, 9 / 13, 1.0, 0.0, 3 / 5])


ioc_rows = st.lists(
    st.one_of(
        command_lines().map(lambda text: text.lower().encode()),
        st.lists(
            st.sampled_from(
                ["iex", "iex(", "mimikatz", "invoke-mimikatz", "-e", "-ep bypass", "x", " "]
            ),
            max_size=12,
        ).map(lambda parts: "".join(parts).encode()),
        st.binary(max_size=30),
    ),
    max_size=10,
)


@settings(max_examples=200, deadline=None)
@given(ioc_rows)
def test_indicator_counts_are_identical(rows: list[bytes]) -> None:
    matcher = Catalog.load().matcher
    data, offsets = as_buffers(rows)
    compiled, expected = both_ways(lambda: matcher.count(data, offsets))
    assert compiled.dtype == expected.dtype
    np.testing.assert_array_equal(compiled, expected)


label_text = st.text(alphabet="abcXYZ019_-", min_size=0, max_size=70)
domain_values = st.lists(
    st.one_of(
        st.none(),
        st.builds(
            lambda labels, dots: ".".join(labels) + dots,
            st.lists(label_text, min_size=1, max_size=6),
            st.sampled_from(["", ".", ".."]),
        ),
        st.builds(lambda head, tld: f"{head}.{tld}", label_text, st.from_regex(r"[0-9]{1,4}")),
        st.text(alphabet="aZ9.-_:/ \té[]", max_size=40),
        st.just("a." * 130 + "com"),  # 263 characters: longer than a name can be
        st.text(max_size=20),
    ),
    max_size=16,
)


@settings(max_examples=300, deadline=None)
@given(domain_values)
def test_plain_domain_names_are_normalized_identically(values: list[str | None]) -> None:
    compiled, expected = both_ways(lambda: normalize_domains(values))
    assert compiled.equals(expected)
    assert compiled.to_pylist() == [normalize_domain(v) for v in values]


def test_plain_domain_name_edges_are_normalized_identically() -> None:
    edges = [
        "a" * 63 + ".com",  # the longest label
        "a" * 64 + ".com",  # one too long
        "x." + "b" * 64,
        ("a" * 49 + ".") * 5 + "com",  # 253 characters: the longest name
        ("a" * 49 + ".") * 5 + "comx",  # 254
        ("a" * 49 + ".") * 5 + "com.",  # 253 and the final dot
        "Example.COM.",
        "example.com..",
        ".example.com",
        "example..com",
        "example",
        "example.",
        "1.2.3.4",
        "host.123",
        "host.1a",
        "host.a1",
        "_dmarc.example.com",
        "-x-.y-",
        "",
        ".",
        None,
        "exa mple.com",
        "example.com\n",
        "ex\u00e4mple.com",
        "https://example.com/x",
    ]
    compiled, expected = both_ways(lambda: normalize_domains(edges))
    assert compiled.equals(expected)
    assert compiled.to_pylist() == [normalize_domain(v) for v in edges]


#: Script text dense in what cleaning touches: ticks, carets, NULs, every ASCII whitespace
#: byte and its neighbours (\x08, \x0e, \x1c), quotes and pluses, and non-ASCII (NBSP, NEL).
script_values = st.lists(
    st.one_of(
        st.none(),
        st.text(alphabet="ab `^\x00'\"+ \t\n\x0b\x0c\r\x08\x0e\x1c\u00a0\u0085é", max_size=40),
        st.text(max_size=20),
    ),
    max_size=16,
)


@settings(max_examples=400, deadline=None)
@given(script_values, st.integers(0, 3))
def test_script_text_is_cleaned_identically(values: list[str | None], start: int) -> None:
    # A slice starts its rows (and its validity bits) past the array's first byte.
    text = pa.array([None, "x", " y ", *values], type=pa.large_string()).slice(start)
    compiled, expected = both_ways(lambda: clean_text(text))
    assert compiled.equals(expected)
    assert compiled.null_count == text.null_count
    compiled.validate(full=True)


def test_script_text_edges_are_cleaned_identically() -> None:
    edges = [
        "'a'+'b'",
        "'a' + 'b' + 'c'",
        "'+'+'",  # two spans sharing a quote
        "+'a'",
        "'a'+",
        "' +'",
        "a + b",  # no quotes: arithmetic stays
        "'a'  +  'b'",  # two spaces collapse to one first, so this joins
        "'a'\t+\n'b'",
        "'a'`+^'b'",  # ticks and carets go first
        "  lead and trail \r\n",
        "\x00\x00",
        "`^",
        "",
        None,
        "i`E`x (n`e`w-o`b`j`e`c`t n^e^t.w^e^b^c^l^i^e^n^t)",
        "'Down'+'load'+'String'",
        "a\u00a0b",  # NBSP is not ASCII whitespace
    ]
    compiled, expected = both_ways(lambda: clean_text(pa.array(edges, type=pa.large_string())))
    assert compiled.equals(expected)
    assert compiled.to_pylist()[:3] == ["'ab'", "'abc'", ""]


@st.composite
def payload_texts(draw: st.DrawFn) -> str:
    """Text near the payload prefilter's edges: dashes (ASCII and Unicode), prefixes of
    -EncodedCommand in any case, separators (\v is not one), quotes, base64 characters
    with the two non-ASCII code points RE2 folds into them, FromBase64String with a long
    s, cut anywhere."""
    dash = draw(st.sampled_from(["-", "/", "\u2013", "\u2014", "\u2015", "\u2012", "", "x"]))
    word = draw(st.sampled_from(["encodedcommand", "ec", "ea", "enc", "e", "encodedcommandx"]))
    length = draw(st.integers(0, len(word)))
    flag = "".join(c.upper() if draw(st.booleans()) else c for c in word[:length])
    gap = draw(st.text(alphabet=" \t\n\x0b\x0c\r:", max_size=3))
    quote = draw(st.sampled_from(["", "'", '"', "`"]))
    body = draw(st.text(alphabet="aZ09+/=\u017f\u212a\u0131.-", max_size=4))
    b64 = "".join(
        draw(st.sampled_from([c, c.upper(), "\u017f"])) if c == "s" else c
        for c in "frombase64string"
    )
    b64 = b64[: draw(st.integers(0, len(b64)))] if draw(st.booleans()) else b64
    pieces = [dash + flag + gap + quote + body, b64, draw(st.text(max_size=8))]
    order = draw(st.permutations(pieces))
    return "".join(order)[: draw(st.integers(0, 60))]


@settings(max_examples=1500, deadline=None)
@given(st.lists(st.one_of(st.none(), payload_texts()), max_size=8))
def test_payload_prefilter_matches_what_the_regex_matches(values: list[str | None]) -> None:
    text = pa.array(values, type=pa.large_string())
    compiled, expected = both_ways(lambda: normalize._payload_rows(text))
    assert compiled.tolist() == expected.tolist()


def test_payload_prefilter_edges() -> None:
    rows = [
        "powershell -e JAB",
        "powershell -EncodedCommand:'JA'",
        "-EC  J",  # one base64 character is not enough
        "-ec\vJAB",  # a vertical tab is not \s to RE2
        "\u2014enc JA",
        "-encodedcommandx JA",
        "-ex JA",
        "[Convert]::FROMBASE64STRING",
        "frombase64\u017ftring",
        "frombase46string",
        "- e JA",
        "-e \u212a\u017f",  # Kelvin sign and long s are base64 letters to RE2
        "-e \u0131\u0131",  # dotless i is not
        "",
        None,
    ]
    text = pa.array(rows, type=pa.large_string())
    compiled, expected = both_ways(lambda: normalize._payload_rows(text))
    assert compiled.tolist() == expected.tolist() == [0, 1, 4, 7, 8, 11]


def test_the_powershell_feature_matrix_is_identical_both_ways() -> None:
    commands = generate_commands(600, malicious_share=0.4, seed=3).column("command_line")
    edge = pa.array(["", None, "é" * 3000, "powershell -enc " + "A" * 5000, "\x00\x01`^"])
    values = pa.concat_arrays(
        [commands.combine_chunks().cast(pa.large_string()), edge.cast(pa.large_string())]
    )
    weights = np.random.default_rng(1).normal(size=1 << 12).astype(np.float32)
    extractor = PowerShellExtractor().with_wide(WideState(weights, -1.5, 512))
    compiled, expected = both_ways(lambda: extractor.transform(values).values)
    assert compiled.tobytes() == expected.tobytes()


# -- bad calls raise instead of reading or writing out of bounds ------------------------------


def kernels() -> ModuleType:
    return _accel.require()


def test_offsets_that_decrease_or_run_past_the_data_are_refused() -> None:
    data = np.frombuffer(b"abcdef", dtype=np.uint8)
    stats = (np.zeros(2), np.zeros((2, 8)))
    class_ids = np.zeros(256, dtype=np.uint8)
    with pytest.raises(ValueError, match="must not decrease"):
        kernels().byte_stats(data, np.array([0, 4, 2], dtype=np.int64), class_ids, *stats, 8)
    with pytest.raises(ValueError, match="past the end"):
        kernels().byte_stats(data, np.array([0, 4, 9], dtype=np.int64), class_ids, *stats, 8)
    with pytest.raises(ValueError, match="negative"):
        kernels().byte_stats(data, np.array([-1, 4, 6], dtype=np.int64), class_ids, *stats, 8)
    with pytest.raises(ValueError, match="at least one"):
        kernels().byte_stats(data, np.zeros(0, dtype=np.int64), class_ids, *stats, 8)
    with pytest.raises(ValueError, match="class id"):
        kernels().byte_stats(data, np.array([0, 4, 6], dtype=np.int64), class_ids + 9, *stats, 8)


def test_outputs_of_the_wrong_size_are_refused() -> None:
    data = np.frombuffer(b"abcdef", dtype=np.uint8)
    offsets = np.array([0, 3, 6], dtype=np.int64)
    sizes, multipliers = np.array([3], np.uint8), np.array([0x9E3779B1], np.uint32)
    with pytest.raises(ValueError, match="rows x width"):
        kernels().add_signed_windows(
            np.zeros((2, 10), np.float32), 10, 4, data, offsets, 3, sizes, multipliers
        )
    with pytest.raises(ValueError, match="one multiplier per size"):
        kernels().add_signed_windows(
            np.zeros((2, 10), np.float32), 10, 0, data, offsets, 3, sizes, multipliers[:0]
        )
    with pytest.raises(ValueError, match="sizes must be 1 to 4"):
        kernels().add_signed_windows(
            np.zeros((2, 10), np.float32), 10, 0, data, offsets, 3, sizes + 2, multipliers
        )
    stats = [np.zeros(2) for _ in range(4)]
    flags = np.ones(256, dtype=np.uint8)
    with pytest.raises(ValueError, match="bucket block"):
        kernels().token_ngrams(
            data, offsets, flags, np.zeros((2, 10), np.float32), 10, 4, 8, *stats
        )
    with pytest.raises(ValueError, match="256 token flags"):
        kernels().token_ngrams(
            data, offsets, flags[:255], np.zeros((2, 10), np.float32), 10, 0, 8, *stats
        )
    with pytest.raises(ValueError, match="one value per row"):
        kernels().wide_sums(
            data, offsets, np.zeros(16, np.float32), np.zeros(1), np.zeros(2), 10, 1, 1, 1, 1
        )
    with pytest.raises(ValueError, match="power of two"):
        kernels().wide_sums(
            data, offsets, np.zeros(15, np.float32), np.zeros(2), np.zeros(2), 10, 1, 1, 1, 1
        )
    with pytest.raises(ValueError, match="whole number"):
        kernels().wide_sums(
            data, offsets, np.zeros(15, np.uint8), np.zeros(2), np.zeros(2), 10, 1, 1, 1, 1
        )


def test_cleaning_with_short_outputs_is_refused() -> None:
    data = np.frombuffer(b"a ` b", dtype=np.uint8)
    offsets = np.array([0, 5], dtype=np.int64)
    valid = np.ones(1, dtype=np.uint8)
    out, ends, scratch = np.empty(5, np.uint8), np.empty(2, np.int64), np.empty(5, np.uint8)
    for args in [
        (data, offsets, valid, out[:4], ends, scratch),
        (data, offsets, valid, out, ends[:1], scratch),
        (data, offsets, valid, out, ends, scratch[:4]),
        (data, offsets, np.ones(2, np.uint8), out, ends, scratch),
    ]:
        with pytest.raises(ValueError, match="validity byte per row"):
            kernels().clean_script(*args)
    kernels().clean_script(data, offsets, valid, out, ends, scratch)
    assert bytes(out[: ends[1]]) == b"a b"


def test_the_payload_prefilter_refuses_bad_sizes() -> None:
    data = np.frombuffer(b"-e JA", dtype=np.uint8)
    offsets = np.array([0, 5], dtype=np.int64)
    with pytest.raises(ValueError, match="output byte per row"):
        kernels().payload_rows(data, offsets, np.ones(1, np.uint8), np.empty(2, np.uint8))
    with pytest.raises(ValueError, match="output byte per row"):
        kernels().payload_rows(data, offsets, np.ones(2, np.uint8), np.empty(1, np.uint8))


def test_trigram_scores_refuse_a_model_or_table_of_the_wrong_size() -> None:
    data, offsets = np.frombuffer(b"ab", dtype=np.uint8), np.array([0, 2], dtype=np.int64)
    table = np.zeros(256, dtype=np.uint8)
    out = (np.empty(1, np.float32), np.empty(1, np.float32))
    model = np.zeros(8, dtype=np.float32)
    with pytest.raises(ValueError, match="n_symbols\\*\\*3"):
        kernels().trigram_scores(data, offsets, table, model[:7], 0, 1, 2, *out)
    with pytest.raises(ValueError, match="below n_symbols"):
        kernels().trigram_scores(data, offsets, table, model, 0, 2, 2, *out)
    with pytest.raises(ValueError, match="256 symbol ids"):
        kernels().trigram_scores(data, offsets, table[:255], model, 0, 1, 2, *out)
    with pytest.raises(ValueError, match="symbol ids must be below"):
        kernels().trigram_scores(data, offsets, table + 2, model, 0, 1, 2, *out)
    with pytest.raises(ValueError, match="one mean and one low"):
        kernels().trigram_scores(data, offsets, table, model, 0, 1, 2, out[0][:0], out[1])


def test_segmentation_refuses_tables_of_the_wrong_size() -> None:
    data, offsets = np.frombuffer(b"cat", dtype=np.uint8), np.array([0, 3], dtype=np.int64)
    keys, slots = np.zeros(2, np.uint64), np.full(8, -1, np.int64)
    letters = np.zeros(256, np.uint8)
    direct3, direct4 = np.zeros(27**3, np.uint8), np.zeros(27**4, np.uint8)
    out = [np.zeros(1, np.int64) for _ in range(3)]
    good = [data, offsets, letters, direct3, direct4, slots, keys, np.zeros(2, np.uint8), 3, 13]
    kernels().segment_words(*good, *out)
    for position, bad in [(3, direct3[:-1]), (4, direct4[:-1]), (7, np.zeros(1, np.uint8))]:
        args = list(good)
        args[position] = bad
        with pytest.raises(ValueError, match="direct tables"):
            kernels().segment_words(*args, *out)
    with pytest.raises(ValueError, match="letter ids"):
        kernels().segment_words(data, offsets, letters + 27, *good[3:], *out)
    with pytest.raises(ValueError, match="power of two"):
        kernels().segment_words(*good[:5], slots[:7], *good[6:], *out)
    # a table that names a position past the keys, reached by a five-letter prefix
    letters = np.zeros(256, np.uint8)
    letters[np.frombuffer(b"abcdefghijklmnopqrstuvwxyz", np.uint8)] = np.arange(1, 27)
    direct3[(1 * 27 + 2) * 27 + 3] = 1  # "abc", a prefix
    direct4[((1 * 27 + 2) * 27 + 3) * 27 + 4] = 1  # "abcd", a prefix
    data = np.frombuffer(b"abcde", dtype=np.uint8)
    with pytest.raises(ValueError, match="past the keys"):
        kernels().segment_words(
            data,
            np.array([0, 5], np.int64),
            letters,
            direct3,
            direct4,
            np.full(8, 5, np.int64),
            keys,
            np.zeros(2, np.uint8),
            3,
            13,
            *out,
        )


#: Labels that reach every branch of the suffix walk: plain, multi-label, private and
#: wildcard rules (``*.ck`` with the exception ``!www.ck``; ``*.kawasaki.jp`` with
#: ``!city.kawasaki.jp``), labels no rule has, and empty labels.
_SUFFIX_LABELS = [
    "com", "uk", "co", "jp", "kawasaki", "city", "ck", "www", "io", "github", "blogspot",
    "appspot", "example", "xn--p1ai", "zz", "a", "", "*", "!www", "compute", "amazonaws",
]  # fmt: skip

suffix_names = st.lists(
    st.one_of(
        st.lists(st.sampled_from(_SUFFIX_LABELS), min_size=1, max_size=8).map(
            lambda labels: ".".join(labels).encode()
        ),
        st.text(alphabet="abc.-", max_size=12).map(str.encode),
        st.binary(max_size=30),
    ),
    max_size=12,
)


@settings(max_examples=400, deadline=None)
@given(suffix_names)
def test_the_public_suffix_split_is_identical(rows: list[bytes]) -> None:
    data, offsets = as_buffers(rows)
    table = public_suffixes()
    compiled, expected = both_ways(lambda: table.split(data, offsets))
    for field in dataclasses.fields(Split):
        got, want = getattr(compiled, field.name), getattr(expected, field.name)
        assert got.dtype == want.dtype, field.name
        assert np.array_equal(got, want), (field.name, rows)


def test_public_suffix_split_edges() -> None:
    rows = [
        b"a.b.ck", b"www.ck", b"x.www.ck", b"foo.blogspot.com", b"a.b.c.d.e.f.g.h.co.uk",
        b"com", b"", b"a.", b"a..b", b".com", b".", b"..", b"x.city.kawasaki.jp",
        b"city.kawasaki.jp", b"kawasaki.jp", b"evil.zz", b"x" * 1100 + b".com", b"x" * 1100,
        b"host.eu-west-1.compute.amazonaws.com",
    ]  # fmt: skip
    data, offsets = as_buffers(rows)
    compiled, expected = both_ways(lambda: public_suffixes().split(data, offsets))
    for field in dataclasses.fields(Split):
        assert np.array_equal(getattr(compiled, field.name), getattr(expected, field.name))
    assert compiled.suffix_labels[:5].tolist() == [2, 1, 1, 2, 2]  # *.ck, !www.ck, blogspot
    assert compiled.private[3]
    assert compiled.suffix_labels[-1] == 4  # *.compute.amazonaws.com, a private wildcard
    assert compiled.private[-1]


def test_the_suffix_split_refuses_bad_calls() -> None:
    data, offsets = np.frombuffer(b"a.com", np.uint8), np.array([0, 5], np.int64)
    slots, keys = np.full(8, -1, np.int64), np.zeros(1, np.uint64)
    out = np.zeros((1, 10), np.int64)
    good = [data, offsets, slots, keys, slots, keys, np.zeros(1, np.uint8), 3, out]
    kernels().suffix_split(*good)
    for position, bad, why in [
        (8, np.zeros((1, 9), np.int64), "rows x 10"),
        (7, 63, "depth"),
        (6, np.zeros(2, np.uint8), "private flag"),
        (2, slots[:7], "power of two"),
    ]:
        args = list(good)
        args[position] = bad
        with pytest.raises(ValueError, match=why):
            kernels().suffix_split(*args)
    with pytest.raises(ValueError, match="past the keys"):
        kernels().suffix_split(data, offsets, np.full(8, 3, np.int64), *good[3:])


def test_hits_outside_the_text_or_across_rows_are_refused() -> None:
    data = np.frombuffer(b"abcdef", dtype=np.uint8)
    offsets = np.array([0, 3, 6], dtype=np.int64)  # joined with a NUL: "abc\0def"
    flags = np.zeros(256, dtype=np.uint8)

    def count(start: int, end: int, indicator: int = 0) -> None:
        kernels().indicator_counts(
            data,
            offsets,
            np.array([start], np.int64),
            np.array([end], np.int64),
            np.array([indicator], np.int64),
            np.zeros(2, np.uint8),
            flags,
            np.zeros((2, 2), np.int32),
        )

    count(4, 6)  # "def" in row 1
    with pytest.raises(ValueError, match="outside the text"):
        count(4, 7)
    with pytest.raises(ValueError, match="names no indicator"):
        count(0, 1, indicator=2)
    with pytest.raises(ValueError, match="across two rows"):
        count(2, 4)


def test_read_only_outputs_are_refused() -> None:
    data = np.frombuffer(b"abcdef", dtype=np.uint8)
    entropy = np.zeros(2)
    entropy.flags.writeable = False
    with pytest.raises((TypeError, BufferError, ValueError)):
        kernels().byte_stats(
            data,
            np.array([0, 3, 6], np.int64),
            np.zeros(256, np.uint8),
            entropy,
            np.zeros((2, 8)),
            8,
        )
