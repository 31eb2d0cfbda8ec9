"""Properties of the domain features: total on any text, batch-independent, and equal to
plain-Python reference implementations of every vectorized kernel."""

from __future__ import annotations

import math
from collections import Counter
from importlib import resources

import numpy as np
import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from vigil.features import _lexical as lex
from vigil.features.domain import FEATURE_NAMES, DomainExtractor, _decoded_scripts
from vigil.features.entities import normalize_domain
from vigil.features.normalize import buffers

_EXTRACTOR = DomainExtractor().fit(
    ["google.com", "mail.yahoo.co.uk", "bestbuy.com", "xkqjzvbwp.top", "a1b2c3.xyz"],
    np.array([0, 0, 0, 1, 1]),
)

_LABEL = st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789-_", min_size=1, max_size=20)
_NAMES = st.builds(
    lambda labels, tld: ".".join([*labels, tld]),
    st.lists(_LABEL, min_size=1, max_size=4),
    st.sampled_from(["com", "co.uk", "top", "blogspot.com", "ck", "zz", "xn--p1ai", "github.io"]),
)
_ANY_TEXT = st.one_of(st.none(), st.text(max_size=40), _NAMES)
_WORDY = st.lists(
    st.sampled_from(["face", "book", "secure", "login", "x", "q", "zz", "bank", "ing", "3", "-"]),
    min_size=1,
    max_size=6,
).map("".join)


def _buffer(strings: list[str]) -> lex.Buffer:
    return lex.Buffer(*buffers(pa.array(strings, type=pa.large_string())))


@settings(max_examples=40, deadline=None)
@given(st.lists(_ANY_TEXT, max_size=25))
def test_transform_is_total_and_defined(values: list[str | None]) -> None:
    matrix = _EXTRACTOR.transform(values)
    assert matrix.values.shape == (len(values), len(FEATURE_NAMES))
    assert np.isfinite(matrix.values).all()
    expected_valid = [v is not None and normalize_domain(v) is not None for v in values]
    assert matrix.valid.tolist() == expected_valid
    assert not matrix.values[~matrix.valid].any()


@settings(max_examples=25, deadline=None)
@given(st.lists(_ANY_TEXT, min_size=1, max_size=12))
def test_rows_do_not_depend_on_their_batch(values: list[str | None]) -> None:
    batch = _EXTRACTOR.transform(values).values
    for i, value in enumerate(values):
        alone = _EXTRACTOR.transform([value]).values[0]
        np.testing.assert_allclose(batch[i], alone, rtol=1e-6, atol=1e-6)


def test_blocks_give_the_same_rows(monkeypatch: pytest.MonkeyPatch) -> None:
    import vigil.features.domain as domain

    names = [f"name{i}x.example{i % 7}.com" for i in range(50)]
    whole = _EXTRACTOR.transform(names).values
    monkeypatch.setattr(domain, "BLOCK_ROWS", 7)
    np.testing.assert_array_equal(_EXTRACTOR.transform(names).values, whole)


# -- kernels against references -------------------------------------------------------------


def _reference_stats(s: str) -> list[float]:
    n = len(s)
    if n == 0:
        return [0.0] * len(lex.CHAR_STATS)
    counts = Counter(s)
    entropy = -sum(c / n * math.log2(c / n) for c in counts.values())
    vowels = sum(ch in "aeiou" for ch in s)
    consonants = sum(ch.isalpha() and ch not in "aeiou" for ch in s)

    def longest(predicate: object) -> int:
        best = run = 0
        for ch in s:
            run = run + 1 if predicate(ch) else 0  # type: ignore[operator]
            best = max(best, run)
        return best

    return [
        n,
        entropy,
        sum(ch.isdigit() for ch in s) / n,
        s.count("-") / n,
        vowels / max(consonants, 1),
        longest(lambda ch: ch.isalpha() and ch not in "aeiou"),
        longest(str.isdigit),
        len(counts) / n,
    ]


@settings(max_examples=50, deadline=None)
@given(st.lists(st.one_of(st.just(""), _LABEL, _NAMES), max_size=15))
def test_char_stats_equal_reference(strings: list[str]) -> None:
    got = lex.char_stats(_buffer(strings))
    expected = np.array([_reference_stats(s) for s in strings], dtype=np.float32)
    np.testing.assert_allclose(got, expected.reshape(got.shape), rtol=1e-5, atol=1e-5)


def _reference_lm(model: np.ndarray, s: str) -> tuple[float, float]:
    symbols = [lex.ALPHABET.index(ch) for ch in s] + [lex.EOS]
    a, b, scores = lex.BOS, lex.BOS, []
    for c in symbols:
        scores.append(float(model[(a * lex.SYMBOLS + b) * lex.SYMBOLS + c]))
        a, b = b, c
    return sum(scores) / len(scores), min(scores)


@settings(max_examples=50, deadline=None)
@given(st.lists(st.one_of(st.just(""), _LABEL, _NAMES), max_size=15))
def test_trigram_scores_equal_reference(strings: list[str]) -> None:
    state = _EXTRACTOR.state
    assert state is not None
    mean, low = lex.trigram_scores(state.name_lm, _buffer(strings))
    for i, s in enumerate(strings):
        expected_mean, expected_low = _reference_lm(state.name_lm, s)
        assert mean[i] == pytest.approx(expected_mean, rel=1e-5)
        assert low[i] == pytest.approx(expected_low, rel=1e-5)


def test_trigram_model_is_normalized() -> None:
    state = _EXTRACTOR.state
    assert state is not None
    probabilities = np.exp(state.label_lm.astype(np.float64)).reshape(lex.SYMBOLS**2, -1)
    outcomes = np.delete(probabilities, lex.BOS, axis=1)
    np.testing.assert_allclose(outcomes.sum(axis=1), 1.0, rtol=1e-4)


_WORDS = lex.english_words()
_WORD_SET = set(
    resources.files("vigil.features").joinpath("data/words.txt").read_text("ascii").split()
)


def _reference_segment(s: str) -> tuple[float, int, int]:
    position = covered = words = longest = 0
    while position < len(s):
        step = 0
        for size in range(min(lex.MAX_WORD, len(s) - position), lex.MIN_WORD - 1, -1):
            if s[position : position + size] in _WORD_SET:
                step = size
                break
        covered, words, longest = covered + step, words + (step > 0), max(longest, step)
        position += max(step, 1)
    return covered / max(len(s), 1), words, longest


@settings(max_examples=60, deadline=None)
@given(st.lists(st.one_of(st.just(""), _WORDY, _LABEL), max_size=15))
def test_segmentation_equals_reference(strings: list[str]) -> None:
    coverage, words, longest = _WORDS.segment(_buffer(strings))
    for i, s in enumerate(strings):
        expected = _reference_segment(s)
        assert (round(float(coverage[i]), 5), int(words[i]), int(longest[i])) == (
            round(expected[0], 5),
            expected[1],
            expected[2],
        ), s


@settings(max_examples=40, deadline=None)
@given(st.lists(_NAMES, min_size=1, max_size=20))
def test_suffix_split_equals_tldextract(names: list[str]) -> None:
    import tldextract

    from vigil.features._suffixes import public_suffixes

    reference = tldextract.TLDExtract(
        suffix_list_urls=(), cache_dir=None, include_psl_private_domains=True
    )
    data, offsets = buffers(pa.array(names, type=pa.large_string()))
    split = public_suffixes().split(data, offsets)
    for i, name in enumerate(names):
        expected = reference(name)
        labels = name.split(".")
        count = int(split.suffix_labels[i])
        assert (".".join(labels[len(labels) - count :]) if count else "") == expected.suffix
        assert bool(split.private[i]) == expected.is_private


@settings(max_examples=300, deadline=None)
@given(
    st.lists(
        st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789-", min_size=0, max_size=59),
        min_size=1,
        max_size=3,
    )
)
def test_idn_flags_read_any_xn_label_without_raising(labels: list[str]) -> None:
    """Punycode decoding of arbitrary ``xn--`` labels (overflowing digits, bare dashes, ...)
    gives two flags, and a name that is not non-ASCII cannot mix scripts."""
    name = ".".join(f"xn--{label}" for label in labels) + ".com"
    non_ascii, mixed = _decoded_scripts.__wrapped__(name)
    assert isinstance(non_ascii, bool)
    assert isinstance(mixed, bool)
    assert non_ascii or not mixed
