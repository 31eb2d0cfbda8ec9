"""Character statistics, a character trigram model and word segmentation of short strings.

Everything works on the flat UTF-8 buffer and row offsets of a batch of normalized names
(bytes in ``[a-z0-9-_.]``), never per row: histograms are ``bincount`` over
``row * alphabet + symbol``, runs and segments are index arithmetic.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from functools import cache, cached_property
from importlib import resources

import numpy as np
from numpy.typing import NDArray

from vigil.features import _accel
from vigil.features._hashindex import HashIndex

#: The symbols of a normalized name, then the begin and end markers of the language model.
ALPHABET = "abcdefghijklmnopqrstuvwxyz0123456789-_."
BOS = len(ALPHABET)
EOS = BOS + 1
SYMBOLS = EOS + 1
LM_SIZE = SYMBOLS**3

_SYMBOL_OF_BYTE = np.full(256, ALPHABET.index("."), dtype=np.int64)
for _i, _c in enumerate(ALPHABET.encode()):
    _SYMBOL_OF_BYTE[_c] = _i
_LETTER = np.zeros(256, dtype=bool)
_LETTER[np.frombuffer(b"abcdefghijklmnopqrstuvwxyz", dtype=np.uint8)] = True
_VOWEL = np.zeros(256, dtype=bool)
_VOWEL[np.frombuffer(b"aeiou", dtype=np.uint8)] = True
_CONSONANT = _LETTER & ~_VOWEL
_DIGIT = np.zeros(256, dtype=bool)
_DIGIT[np.frombuffer(b"0123456789", dtype=np.uint8)] = True

#: Columns of :func:`char_stats`, in order.
CHAR_STATS = (
    "length",
    "entropy",
    "digit_share",
    "hyphen_share",
    "vowel_ratio",
    "longest_consonant_run",
    "longest_digit_run",
    "distinct_share",
)


#: Per-byte classes for the share statistics and runs.
_OTHER, _VOWEL_CLASS, _CONSONANT_CLASS, _DIGIT_CLASS, _HYPHEN_CLASS = range(5)
_CLASSES = 5
_CLASS_OF_BYTE = np.zeros(256, dtype=np.int64)
_CLASS_OF_BYTE[_CONSONANT] = _CONSONANT_CLASS
_CLASS_OF_BYTE[_VOWEL] = _VOWEL_CLASS
_CLASS_OF_BYTE[_DIGIT] = _DIGIT_CLASS
_CLASS_OF_BYTE[ord("-")] = _HYPHEN_CLASS
#: ``log2(c)`` and ``1 / c`` for every count a name (at most 253 bytes) can hold.
_LOG2 = np.log2(np.maximum(np.arange(256, dtype=np.float64), 1.0))
_INVERSE = 1.0 / np.maximum(np.arange(256, dtype=np.float64), 1.0)
#: The tables as the compiled kernel takes them.
_SYMBOL_ID_OF_BYTE = _SYMBOL_OF_BYTE.astype(np.uint8)
_CLASS_ID_OF_BYTE = _CLASS_OF_BYTE.astype(np.uint8)


@dataclass(frozen=True)
class Buffer:
    """A batch of short strings as one byte buffer, with per-byte indexes made once."""

    data: NDArray[np.uint8]
    offsets: NDArray[np.int64]

    def __len__(self) -> int:
        return len(self.offsets) - 1

    @cached_property
    def lengths(self) -> NDArray[np.int64]:
        return np.diff(self.offsets)

    @cached_property
    def row(self) -> NDArray[np.int64]:
        """The row of every byte."""
        return np.repeat(np.arange(len(self), dtype=np.int64), self.lengths)

    @cached_property
    def column(self) -> NDArray[np.int64]:
        """Every byte's position inside its row."""
        return np.arange(self.data.size, dtype=np.int64) - self.offsets[:-1][self.row]

    @cached_property
    def symbols(self) -> NDArray[np.int64]:
        return _SYMBOL_OF_BYTE[self.data]

    @cached_property
    def nonempty(self) -> NDArray[np.bool_]:
        return self.lengths > 0

    @cached_property
    def first(self) -> NDArray[np.int64]:
        """Where each non-empty row starts (for ``reduceat``)."""
        return self.offsets[:-1][self.nonempty]

    def row_max(self, per_byte: NDArray[np.int64]) -> NDArray[np.float64]:
        """Per row, the maximum of ``per_byte`` (0 for an empty row)."""
        out = np.zeros(len(self), dtype=np.float64)
        if self.first.size:
            out[self.nonempty] = np.maximum.reduceat(per_byte, self.first)
        return out


def char_stats(buffer: Buffer) -> NDArray[np.float32]:
    """Per row, the :data:`CHAR_STATS` columns; an empty row gives zeros.

    Entropy and the distinct-character count come from each byte's count in its row
    (``H = log2 L - sum(log2 count) / L``; distinct ``= sum(1 / count)``), which touches
    each byte once instead of every cell of a rows x alphabet table. The compiled kernel
    (when loaded) makes the same sums in the same order, one name at a time.
    """
    n = len(buffer)
    if _accel.kernels is not None:  # the same sums in the same order, one pass per name
        stats = np.empty((n, len(CHAR_STATS)), dtype=np.float64)
        _accel.kernels.name_stats(
            *_accel.rows(buffer.data, buffer.offsets),
            _SYMBOL_ID_OF_BYTE,
            BOS,
            _CLASS_ID_OF_BYTE,
            _LOG2,
            _INVERSE,
            stats,
        )
        return stats.astype(np.float32)
    row = buffer.row
    lengths = buffer.lengths.astype(np.float64)
    safe = np.maximum(lengths, 1.0)
    key = row * BOS + buffer.symbols
    count = np.minimum(np.bincount(key, minlength=n * BOS)[key], 255)
    log_count = np.bincount(row, weights=_LOG2[count], minlength=n)
    distinct = np.bincount(row, weights=_INVERSE[count], minlength=n)
    entropy = np.where(lengths > 0, np.log2(safe) - log_count / safe, 0.0)
    kind = _CLASS_OF_BYTE[buffer.data]
    classes = np.bincount(row * _CLASSES + kind, minlength=n * _CLASSES).reshape(n, _CLASSES)
    consonant_run, digit_run = _class_runs(buffer, kind)
    stats = np.column_stack(
        [
            lengths,
            entropy,
            classes[:, _DIGIT_CLASS] / safe,
            classes[:, _HYPHEN_CLASS] / safe,
            classes[:, _VOWEL_CLASS] / np.maximum(classes[:, _CONSONANT_CLASS], 1),
            consonant_run,
            digit_run,
            np.rint(distinct) / safe,
        ]
    )
    return stats.astype(np.float32)


def _class_runs(
    buffer: Buffer, kind: NDArray[np.int64]
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Per row, the longest run of consonants and of digits, from one running maximum."""
    if kind.size == 0:
        zeros = np.zeros(len(buffer), dtype=np.float64)
        return zeros, zeros
    index = np.arange(kind.size, dtype=np.int64)
    starts = np.ones(kind.size, dtype=bool)
    starts[1:] = kind[1:] != kind[:-1]
    starts[buffer.first] = True
    run = index - np.maximum.accumulate(np.where(starts, index, 0)) + 1
    return (
        buffer.row_max(np.where(kind == _CONSONANT_CLASS, run, 0)),
        buffer.row_max(np.where(kind == _DIGIT_CLASS, run, 0)),
    )


def longest_runs(buffer: Buffer, mask: NDArray[np.bool_]) -> NDArray[np.float64]:
    """Per row, the longest run of consecutive True bytes."""
    if mask.size == 0:
        return np.zeros(len(buffer), dtype=np.float64)
    index = np.arange(mask.size, dtype=np.int64)
    barrier = np.where(mask, -1, index)
    first = buffer.first
    barrier[first] = np.maximum(barrier[first], first - 1)
    return buffer.row_max(index - np.maximum.accumulate(barrier))


def trigram_codes(buffer: Buffer) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
    """Trigram codes of every character event and of every row's end event.

    Each character is predicted from the two symbols before it (``BOS`` before the row
    start), and the row's end (``EOS``) from its last two; a row of length L has L + 1
    events, so no row is without one.
    """
    symbols, column = buffer.symbols, buffer.column
    before = np.full(symbols.size, BOS, dtype=np.int64)
    before[1:] = symbols[:-1]
    before[column == 0] = BOS
    two_before = np.full(symbols.size, BOS, dtype=np.int64)
    two_before[2:] = symbols[:-2]
    two_before[column <= 1] = BOS
    chars = (two_before * SYMBOLS + before) * SYMBOLS + symbols
    padded = np.append(symbols, BOS)  # index -1 below reads BOS for empty rows
    last = np.where(buffer.lengths >= 1, buffer.offsets[1:] - 1, -1)
    second = np.where(buffer.lengths >= 2, buffer.offsets[1:] - 2, -1)
    ends = (padded[second] * SYMBOLS + padded[last]) * SYMBOLS + EOS
    return chars, ends


def fit_trigram_model(buffer: Buffer, k: float = 0.1) -> NDArray[np.float32]:
    """Log-probabilities ``log P(c | a b)``, flat over ``(a, b, c)``.

    Trigram, bigram and unigram estimates (each add-``k``) are interpolated 0.7/0.2/0.1,
    so an unseen context falls back to what follows its last symbol rather than to
    uniform.
    """
    chars, ends = trigram_codes(buffer)
    counts = np.bincount(np.concatenate([chars, ends]), minlength=LM_SIZE).astype(np.float64)
    tri = counts.reshape(SYMBOLS * SYMBOLS, SYMBOLS)
    bi = tri.reshape(SYMBOLS, SYMBOLS, SYMBOLS).sum(axis=0)  # (b, c)
    uni = bi.sum(axis=0)  # (c,)
    outcomes = SYMBOLS - 1  # BOS is never predicted

    def smooth(table: NDArray[np.float64]) -> NDArray[np.float64]:
        table = table + k
        table[..., BOS] = 0.0
        total = table.sum(axis=-1, keepdims=True)
        return table / np.maximum(total, k * outcomes)  # type: ignore[no-any-return]

    p3 = smooth(tri).reshape(SYMBOLS, SYMBOLS, SYMBOLS)
    p2 = smooth(bi)[None, :, :]
    p1 = smooth(uni)[None, None, :]
    mixed = 0.7 * p3 + 0.2 * p2 + 0.1 * p1
    with np.errstate(divide="ignore"):
        logp = np.log(mixed)
    logp[..., BOS] = np.log(1e-9)
    return logp.reshape(-1).astype(np.float32)


def trigram_scores(
    model: NDArray[np.float32], buffer: Buffer
) -> tuple[NDArray[np.float32], NDArray[np.float32]]:
    """Per row, the mean and the minimum log-likelihood per event under ``model``.

    The compiled kernel (when loaded) makes the same sums in the same order, one name at
    a time: a name's dozen numpy passes cost ~80 µs a call however short the batch.
    """
    if _accel.kernels is not None:
        means = np.empty(len(buffer), dtype=np.float32)
        lows = np.empty(len(buffer), dtype=np.float32)
        _accel.kernels.trigram_scores(
            *_accel.rows(buffer.data, buffer.offsets),
            _SYMBOL_ID_OF_BYTE,
            np.ascontiguousarray(model, dtype=np.float32),
            BOS,
            EOS,
            SYMBOLS,
            means,
            lows,
        )
        return means, lows
    chars, ends = trigram_codes(buffer)
    char_logp = model[chars]
    end_logp = model[ends].astype(np.float64)
    total = np.bincount(buffer.row, weights=char_logp, minlength=len(buffer)) + end_logp
    mean = total / (buffer.lengths + 1)
    low = end_logp.copy()
    if buffer.first.size:
        low[buffer.nonempty] = np.minimum(
            low[buffer.nonempty], np.minimum.reduceat(char_logp, buffer.first)
        )
    return mean.astype(np.float32), low.astype(np.float32)


# -- words --------------------------------------------------------------------------------

#: Words are coded in base 27 (a=1 .. z=26), unique up to 13 letters in 64 bits.
MAX_WORD = 13
MIN_WORD = 3
_LETTER_INDEX = np.zeros(256, dtype=np.int32)
_LETTER_INDEX[np.frombuffer(b"abcdefghijklmnopqrstuvwxyz", dtype=np.uint8)] = np.arange(1, 27)
_LETTER_ID_OF_BYTE = _LETTER_INDEX.astype(np.uint8)  # as the compiled kernel takes it


#: Prefix lengths looked up in a direct table (27**4 bytes) instead of a binary search:
#: most scanned positions stop there.
_DIRECT = (3, 4)
_PREFIX, _WORD = 1, 2


@dataclass(frozen=True)
class WordList:
    """Words as base-27 codes, with every prefix of them, for a pruned vectorized scan."""

    prefixes: NDArray[np.uint64]
    is_word: NDArray[np.bool_]
    size: int
    digest: str

    @cached_property
    def _index(self) -> HashIndex:
        return HashIndex.build(self.prefixes)

    @cached_property
    def _direct(self) -> dict[int, NDArray[np.uint8]]:
        """For short prefix lengths: code -> _PREFIX | _WORD flags."""
        tables = {}
        for length in _DIRECT:
            low, high = 27 ** (length - 1), 27**length
            table = np.zeros(high, dtype=np.uint8)
            inside = (self.prefixes >= low) & (self.prefixes < high)
            codes = self.prefixes[inside].astype(np.int64)
            table[codes] = _PREFIX | np.where(self.is_word[inside], _WORD, 0).astype(np.uint8)
            tables[length] = table
        return tables

    @classmethod
    def from_words(cls, words: list[str]) -> WordList:
        kept = sorted(
            {w for w in words if MIN_WORD <= len(w) <= MAX_WORD and w.isascii() and w.isalpha()}
        )
        codes: dict[int, bool] = {}
        for word in kept:
            code = 0
            for i, ch in enumerate(word.lower(), start=1):
                code = code * 27 + (ord(ch) - 96)
                if i >= MIN_WORD:
                    codes[code] = codes.get(code, False) or i == len(word)
        ordered = sorted(codes)
        digest = hashlib.sha256("\n".join(kept).encode()).hexdigest()[:16]
        return cls(
            prefixes=np.asarray(ordered, dtype=np.uint64),
            is_word=np.asarray([codes[c] for c in ordered], dtype=bool),
            size=len(kept),
            digest=digest,
        )

    def longest_at(self, buffer: Buffer) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
        """The longest word starting at every byte (0: none), over a separated copy.

        The letters are copied with a 0 after each row, so a window that crosses a row
        end, or holds a non-letter, has a 0 digit and matches no prefix (a leading 0 makes
        its code too small for its length). Lengths 3 and 4 are looked up for every byte
        in direct tables; only positions starting a 4-letter word prefix go on to a binary
        search, one length at a time. Returns the lengths and the separated offsets.
        """
        n = len(buffer)
        offsets = buffer.offsets + np.arange(n + 1, dtype=np.int64)
        size = int(offsets[-1]) + MAX_WORD
        letters = np.zeros(size, dtype=np.int32)
        letters[np.arange(buffer.data.size, dtype=np.int64) + buffer.row] = _LETTER_INDEX[
            buffer.data
        ]
        best = np.zeros(size, dtype=np.int64)
        if buffer.data.size < MIN_WORD or self.prefixes.size == 0:
            return best, offsets
        direct3, direct4 = self._direct[3], self._direct[4]
        code = (letters[:-2] * 27 + letters[1:-1]) * 27 + letters[2:]
        flags = direct3[code]
        best[: size - 2][(flags & _WORD) > 0] = 3
        code = code[:-1] * 27 + letters[3:]
        flags = np.where(flags[:-1] > 0, direct4[code], 0)
        best[: size - 3][(flags & _WORD) > 0] = 4
        start = np.flatnonzero(flags)
        wide = code[start].astype(np.uint64)
        for length in range(5, MAX_WORD + 1):
            wide = wide * np.uint64(27) + letters[start + length - 1].astype(np.uint64)
            found, where = self._index.lookup(wide)
            start, wide, where = start[found], wide[found], where[found]
            if start.size == 0:
                break
            best[start[self.is_word[where]]] = length
        return best, offsets

    def segment(
        self, buffer: Buffer
    ) -> tuple[NDArray[np.float32], NDArray[np.float32], NDArray[np.float32]]:
        """Greedy longest-match segmentation of every row: covered share, words, longest.

        Left to right, take the longest word starting here, else skip one character.
        """
        covered, words, longest = self._walk(buffer)
        lengths = np.maximum(buffer.lengths, 1)
        return (
            (covered / lengths).astype(np.float32),
            words.astype(np.float32),
            longest.astype(np.float32),
        )

    def _walk(
        self, buffer: Buffer
    ) -> tuple[NDArray[np.int64], NDArray[np.int64], NDArray[np.int64]]:
        """Per row: bytes covered by words, words, the longest word (see :meth:`segment`).

        The compiled kernel (when loaded) walks one name at a time and looks up only the
        positions the walk visits, with the same tables, so it finds the same words. The
        numpy twin finds the longest word at every byte first, then steps all rows at
        once, one step per loop.
        """
        n = len(buffer)
        covered = np.zeros(n, dtype=np.int64)
        words = np.zeros(n, dtype=np.int64)
        longest = np.zeros(n, dtype=np.int64)
        kernels = _accel.kernels
        if kernels is not None and self.prefixes.size:
            keys, slots = self._index.compiled_table
            kernels.segment_words(
                *_accel.rows(buffer.data, buffer.offsets),
                _LETTER_ID_OF_BYTE,
                self._direct[3],
                self._direct[4],
                slots,
                keys,
                self._word_flags,
                MIN_WORD,
                MAX_WORD,
                covered,
                words,
                longest,
            )
            return covered, words, longest
        best, offsets = self.longest_at(buffer)
        rows = np.flatnonzero(buffer.nonempty)
        position = offsets[:-1][rows]
        end = position + buffer.lengths[rows]
        while rows.size:
            step = best[position]
            covered[rows] += step
            words[rows] += step > 0
            longest[rows] = np.maximum(longest[rows], step)
            position = position + np.maximum(step, 1)
            going = position < end
            rows, position, end = rows[going], position[going], end[going]
        return covered, words, longest

    @cached_property
    def _word_flags(self) -> NDArray[np.uint8]:
        return self.is_word.astype(np.uint8)


@cache
def english_words() -> WordList:
    """The word list shipped in ``features/data/words.txt`` (see the README there)."""
    text = resources.files("vigil.features").joinpath("data/words.txt").read_text("ascii")
    return WordList.from_words(text.split())
