"""PowerShell command-line features: IOC counts and ratios, text statistics, hashed n-grams.

The catalog (``iocs.toml``) is the vocabulary analysts read in explanations; the signed,
hashed token n-grams let the model learn what the catalog misses. Everything is computed
on the decoded, normalized text, so an ``-EncodedCommand`` launch is judged by what it runs.

A fitted extractor (:meth:`PowerShellExtractor.with_state`, state carried in the model
file) also computes ``wide_logit``: the log-odds of a linear model over hashed character
3-5-grams of that same text (the "wide part", see :mod:`vigil.features._wide`), which the
network stacks on. Unfitted, the column is 0.0.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from functools import cached_property
from hashlib import blake2b
from itertools import pairwise
from typing import TYPE_CHECKING

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from numpy.typing import NDArray

from vigil._types import as_string_array
from vigil.errors import ModelError
from vigil.features import _accel
from vigil.features._ngrams import crossing_windows, window_hashes
from vigil.features._wide import WIDE_NGRAM_SIZES, WideState
from vigil.features.base import FeatureMatrix, FeatureSpec
from vigil.features.catalog import Catalog
from vigil.features.normalize import (
    Decoded,
    buffers,
    clean_text,
    from_buffers,
    unwrap_and_decode,
)

if TYPE_CHECKING:
    from collections.abc import Mapping
    from typing import Any

    from vigil._types import StringColumn

#: Hashed token n-gram buckets. 1,024 keeps the first layer's matmul at ~1.5 ms per 2,048
#: rows (onnxruntime, one thread); 4,096 cost 4x for +0.0006 ROC AUC on the shared data.
NGRAM_BUCKETS = 1024

#: Hashed character 3- and 4-gram buckets: punctuation and sub-word patterns the tokens
#: drop (``[byte[]]``, ``-bxor``, ``)|%{``). On the shared data they raised TPR at FPR 1e-3
#: from 0.72 to 0.83-0.88 for ~4 ms of features per 2,048 rows.
CHAR_NGRAM_BUCKETS = 1024
CHAR_NGRAM_SIZES = (3, 4)

#: Tokens of only letters and digits this long are counted as base64-looking.
BASE64_MIN_RUN = 20

# 2: the wide part's ``wide_logit`` column; 3: NULs dropped; 4: ordinary launchers unwrapped
_FEATURES_VERSION = "4"

#: The last column: the wide part's log-odds (0.0 until the extractor is fitted).
WIDE_COLUMN = "wide_logit"

_TOKEN_BYTE = np.zeros(256, dtype=bool)
for _c in b"abcdefghijklmnopqrstuvwxyz0123456789_":
    _TOKEN_BYTE[_c] = True
_TOKEN_BYTE[0x80:] = True  # non-ASCII letters stay inside their word
_TOKEN_FLAG = _TOKEN_BYTE.astype(np.uint8)  # as the compiled token kernel takes it
#: Maps every byte that is not part of a token to a space, for Arrow's whitespace split.
_TOKEN_VIEW = np.where(_TOKEN_BYTE, np.arange(256), 0x20).astype(np.uint8)
#: A token that looks like a piece of base64 (letters and digits mixed, long).
_BASE64_TOKEN_RE2 = rf"^[a-z0-9]{{{BASE64_MIN_RUN},}}$"


#: Disjoint byte classes counted per row for the share statistics.
_CLASS_NAMES = ("other", "letter", "digit", "space", "quote", "bracket", "dollar", "separator")
_N_CLASSES = len(_CLASS_NAMES)
_CLASS_OF_BYTE = np.zeros(256, dtype=np.int64)
for _name, _chars in (
    ("letter", b"abcdefghijklmnopqrstuvwxyz"),
    ("digit", b"0123456789"),
    ("space", b" "),
    ("quote", b"'\""),
    ("bracket", b"()[]{}"),
    ("dollar", b"$"),
    ("separator", b";|&"),
):
    _CLASS_OF_BYTE[list(_chars)] = _CLASS_NAMES.index(_name)
_CLASS_ID_OF_BYTE = _CLASS_OF_BYTE.astype(np.uint8)


STAT_NAMES: tuple[str, ...] = (
    "stat:length",
    "stat:tokens",
    "stat:entropy",
    "stat:non_alnum_share",
    "stat:digit_share",
    "stat:space_share",
    "stat:quote_share",
    "stat:bracket_share",
    "stat:dollar_share",
    "stat:separator_share",
    "stat:longest_token",
    "stat:mean_token_length",
    "stat:base64_share",
    "stat:decoded_layers",
    "stat:binary_payloads",
    "stat:failed_payloads",
    "stat:ioc_total",
    "stat:ioc_distinct",
    "stat:categories_hit",
)


def _fmix64(h: NDArray[np.uint64]) -> NDArray[np.uint64]:
    """MurmurHash3's finalizer: spreads every input bit over the whole word."""
    with np.errstate(over="ignore"):
        h = h ^ (h >> np.uint64(33))
        h = h * np.uint64(0xFF51AFD7ED558CCD)
        h = h ^ (h >> np.uint64(33))
        h = h * np.uint64(0xC4CEB9FE1A85EC53)
        return h ^ (h >> np.uint64(33))


@dataclass(frozen=True)
class Analysis:
    """The normalized batch and everything measured on it."""

    data: NDArray[np.uint8]
    offsets: NDArray[np.int64]
    content_data: NDArray[np.uint8]
    content_offsets: NDArray[np.int64]
    counts: NDArray[np.int32]
    layers: NDArray[np.float32]
    binary_payloads: NDArray[np.float32]
    failed_payloads: NDArray[np.float32]
    valid: NDArray[np.bool_]

    def __len__(self) -> int:
        return len(self.offsets) - 1


@dataclass(frozen=True)
class Content:
    """What a batch runs, normalized: decoded, cleaned, lower-cased UTF-8 bytes per row."""

    data: NDArray[np.uint8]
    offsets: NDArray[np.int64]
    valid: NDArray[np.bool_]

    def __len__(self) -> int:
        return len(self.offsets) - 1


class PowerShellExtractor:
    """Features of PowerShell command lines or script blocks.

    Args:
        catalog: the IOC catalog; the packaged one by default.
        buckets: number of signed hashed n-gram buckets.
        char_buckets: number of signed hashed character 3- and 4-gram buckets.
    """

    name = "powershell"
    #: Works unfitted (``wide_logit`` is then 0.0): IOC listing needs no model.
    requires_state = False
    _wide: WideState | None = None

    def __init__(
        self,
        catalog: Catalog | None = None,
        buckets: int = NGRAM_BUCKETS,
        char_buckets: int = CHAR_NGRAM_BUCKETS,
    ) -> None:
        self.catalog = catalog or Catalog.load()
        self.buckets = buckets
        self.char_buckets = char_buckets
        self._category_index = np.asarray(
            [self.catalog.categories.index(i.category) for i in self.catalog.indicators],
            dtype=np.int64,
        )
        self._membership = np.zeros(
            (len(self.catalog.indicators), len(self.catalog.categories)), dtype=np.float32
        )
        self._membership[np.arange(len(self._category_index)), self._category_index] = 1.0

    @cached_property
    def spec(self) -> FeatureSpec:
        iocs = [i.name for i in self.catalog.indicators]
        names = (
            *(f"ioc:{n}" for n in iocs),
            *(f"ioc_present:{n}" for n in iocs),
            *(f"ioc_ratio:{n}" for n in iocs),
            *(f"category:{c}" for c in self.catalog.categories),
            *(f"category_present:{c}" for c in self.catalog.categories),
            *(f"category_ratio:{c}" for c in self.catalog.categories),
            *(f"category_distinct:{c}" for c in self.catalog.categories),
            *STAT_NAMES,
            *(f"ngram:{b:04d}" for b in range(self.buckets)),
            *(f"chargram:{b:04d}" for b in range(self.char_buckets)),
            WIDE_COLUMN,
        )
        params = {
            **self.catalog.to_params(),
            "buckets": self.buckets,
            "hash": "blake2b-64",
            "char_buckets": self.char_buckets,
            "char_ngrams": list(CHAR_NGRAM_SIZES),
            "char_hash": "fibonacci-32",
            # The weights, their number and the byte budget travel in the model file's
            # state; what the column means is fixed here.
            "wide_ngrams": list(WIDE_NGRAM_SIZES),
            "wide_hash": "fibonacci-64",
            "wide_tf": "binary-l2",
        }
        return FeatureSpec(self.name, _FEATURES_VERSION, tuple(names), params)

    @cached_property
    def _groups(self) -> dict[str, tuple[int, ...]]:
        names = self.spec.names
        position = {name: i for i, name in enumerate(names)}
        groups: dict[str, tuple[int, ...]] = {}
        for category in self.catalog.categories:
            members = [i.name for i in self.catalog.indicators if i.category == category]
            columns = [
                position[f"{prefix}:{member}"]
                for member in members
                for prefix in ("ioc", "ioc_present", "ioc_ratio")
            ]
            columns += [
                position[f"{prefix}:{category}"]
                for prefix in (
                    "category",
                    "category_present",
                    "category_ratio",
                    "category_distinct",
                )
            ]
            groups[category] = tuple(sorted(columns))
        groups["text statistics"] = tuple(position[name] for name in STAT_NAMES)
        groups["token n-grams"] = tuple(
            i for i, name in enumerate(names) if name.startswith("ngram:")
        )
        groups["character n-grams"] = tuple(
            i for i, name in enumerate(names) if name.startswith("chargram:")
        )
        groups["character n-gram model"] = (position[WIDE_COLUMN],)
        return groups

    def feature_groups(self) -> dict[str, tuple[int, ...]]:
        """Each IOC category, the text statistics, the hashed n-grams, the wide part."""
        return self._groups

    # -- the fitted wide part ----------------------------------------------------------

    @property
    def state(self) -> WideState | None:
        """The fitted wide part (``.to_dict()`` goes into the model file), None unfitted."""
        return self._wide

    def with_state(self, state: Mapping[str, Any]) -> PowerShellExtractor:
        """This extractor with a model file's fitted state (see :meth:`WideState.to_dict`)."""
        try:
            wide = WideState.from_dict(state)
        except ValueError as exc:
            raise ModelError(f"the model's PowerShell feature state is unusable: {exc}") from exc
        return self.with_wide(wide)

    def with_wide(self, wide: WideState | None) -> PowerShellExtractor:
        """A copy that computes ``wide_logit`` with ``wide`` (None: the unfitted 0.0)."""
        fitted = copy.copy(self)
        fitted._wide = wide
        return fitted

    @cached_property
    def _ngram_column(self) -> int:
        """Index of the first hashed token n-gram column."""
        return self.spec.names.index("ngram:0000")

    @property
    def wide_column(self) -> int:
        """Index of ``wide_logit`` in the feature matrix: the last column."""
        return self.spec.width - 1

    def category_of(self, indicator: str) -> str:
        for entry in self.catalog.indicators:
            if entry.name == indicator:
                return entry.category
        raise KeyError(indicator)

    # -- the pipeline -------------------------------------------------------------------

    def normalize(self, values: StringColumn) -> pa.Array:
        """The text the features are computed on (nulls stay null); for analysts and tests."""
        analysis = self.analyze(values)
        text = from_buffers(analysis.data, analysis.offsets)
        return pc.if_else(pa.array(analysis.valid), text, pa.nulls(len(text), text.type))

    def content(self, values: StringColumn) -> Content:
        """The bytes the wide part reads: decoded, cleaned, lower-cased (no IOC matching)."""
        valid, decoded = self._decoded(values)
        data, offsets = buffers(pc.utf8_lower(decoded.content))
        return Content(data, offsets, valid)

    @staticmethod
    def _decoded(values: StringColumn) -> tuple[NDArray[np.bool_], Decoded]:
        array = as_string_array(values)
        valid = np.asarray(array.is_valid().to_numpy(zero_copy_only=False), dtype=bool)
        text = pc.fill_null(array, "") if array.null_count else array
        return valid, unwrap_and_decode(clean_text(text))

    def analyze(self, values: StringColumn) -> Analysis:
        valid, decoded = self._decoded(values)
        lowered = pc.utf8_lower(decoded.text)
        data, offsets = buffers(lowered)
        if decoded.content is decoded.text:
            content_data, content_offsets = data, offsets
        else:
            content_data, content_offsets = buffers(pc.utf8_lower(decoded.content))
        counts = self.catalog.matcher.count(data, offsets)
        return Analysis(
            data,
            offsets,
            content_data,
            content_offsets,
            counts,
            decoded.layers,
            decoded.binary_payloads,
            decoded.failed_payloads,
            valid,
        )

    def transform(self, values: StringColumn) -> FeatureMatrix:
        return self.features(self.analyze(values))

    def features(self, analysis: Analysis) -> FeatureMatrix:
        n = len(analysis)
        data, offsets = analysis.content_data, analysis.content_offsets
        values = np.zeros((n, self.spec.width), dtype=np.float32)
        tokens = add_token_ngrams(values, self._ngram_column, self.buckets, data, offsets)
        counts = analysis.counts.astype(np.float32)
        n_tokens = np.maximum(tokens.per_row, 1).astype(np.float32)[:, None]

        present = (counts > 0).astype(np.float32)
        by_category = counts @ self._membership
        distinct = present @ self._membership

        stats = self._statistics(analysis, tokens, present, by_category)
        blocks = (
            log1p_counts(analysis.counts),
            present,
            counts / n_tokens,
            np.log1p(by_category),
            (by_category > 0).astype(np.float32),
            by_category / n_tokens,
            distinct,
            stats,
        )
        column = 0
        for block in blocks:
            values[:, column : column + block.shape[1]] = block
            column += block.shape[1]
        _add_char_ngrams(values, column + self.buckets, data, offsets, self.char_buckets)
        if self._wide is not None:
            values[:, self.wide_column] = self._wide.logits(data, offsets)
        values[~analysis.valid] = 0.0
        return FeatureMatrix(values, self.spec.names, analysis.valid)

    def _statistics(
        self,
        analysis: Analysis,
        tokens: TokenStats,
        present: NDArray[np.float32],
        by_category: NDArray[np.float32],
    ) -> NDArray[np.float32]:
        data, offsets = analysis.content_data, analysis.content_offsets
        lengths = np.diff(offsets).astype(np.float64)
        safe = np.maximum(lengths, 1.0)
        entropy, classes = byte_statistics(data, offsets)

        def share(*names: str) -> NDArray[np.float64]:
            columns = [_CLASS_NAMES.index(name) for name in names]
            share_of_row: NDArray[np.float64] = classes[:, columns].sum(axis=1) / safe
            return share_of_row

        stats = np.column_stack(
            [
                np.log1p(lengths),
                np.log1p(tokens.per_row),
                entropy,
                1.0 - share("letter", "digit", "space"),
                share("digit"),
                share("space"),
                share("quote"),
                share("bracket"),
                share("dollar"),
                share("separator"),
                np.log1p(tokens.longest),
                tokens.mean_length,
                tokens.base64_bytes / safe,
                analysis.layers,
                np.log1p(analysis.binary_payloads),
                np.log1p(analysis.failed_payloads),
                np.log1p(analysis.counts.sum(axis=1)),
                present.sum(axis=1),
                (by_category > 0).sum(axis=1),
            ]
        )
        return stats.astype(np.float32)

    # -- explanations -------------------------------------------------------------------

    def indicators(self, values: StringColumn) -> pa.Array:
        """Per input, the names of the indicators it matched, in catalog order; null for null."""
        return self.indicators_of(self.analyze(values))

    def indicators_of(self, analysis: Analysis) -> pa.Array:
        rows, columns = np.nonzero(analysis.counts)
        names = pa.array([i.name for i in self.catalog.indicators], type=pa.string())
        per_row = np.bincount(rows, minlength=len(analysis))
        list_offsets = np.zeros(len(analysis) + 1, dtype=np.int32)
        np.cumsum(per_row, out=list_offsets[1:])
        return pa.ListArray.from_arrays(
            pa.array(list_offsets),
            names.take(pa.array(columns)),
            mask=pa.array(~analysis.valid),
        )


#: ``np.log1p`` of the counts 0..255 as float32, made by ``np.log1p`` itself.
_LOG1P = np.log1p(np.arange(256, dtype=np.float32))


def log1p_counts(counts: NDArray[np.int32]) -> NDArray[np.float32]:
    """``np.log1p(counts.astype(np.float32))`` of non-negative hit counts, by table lookup.

    The IOC counts are small integers; a lookup in a table of ``np.log1p``'s own float32
    values gives the same bits ~4x faster (1.1 -> 0.24 ms per 2,048 rows x 129
    indicators). A batch with a count past the table takes ``np.log1p`` itself.
    """
    if counts.size and (counts.min() < 0 or counts.max() >= len(_LOG1P)):
        return np.log1p(counts.astype(np.float32))
    return np.take(_LOG1P, counts)


@dataclass(frozen=True)
class TokenStats:
    """Per row of a normalized batch: its word tokens' number and lengths."""

    per_row: NDArray[np.float64]
    longest: NDArray[np.float64]
    mean_length: NDArray[np.float64]
    base64_bytes: NDArray[np.float64]  # bytes in tokens of 20+ letters and digits only


def add_token_ngrams(
    values: NDArray[np.float32],
    column: int,
    buckets: int,
    data: NDArray[np.uint8],
    offsets: NDArray[np.int64],
) -> TokenStats:
    """Add each row's signed hashed token uni- and bigrams to ``values``; its token stats.

    Tokens are the pieces of the row split at each run of bytes other than ``[a-z0-9_]``
    and non-ASCII, as Arrow's ``ascii_split_whitespace`` splits: a row that starts or ends
    with a separator has an empty first or last token, an empty row one empty token (the
    trained models saw them so). Each hashes as a string
    (the first 8 bytes of its BLAKE2b digest), a bigram mixes two by MurmurHash's
    finalizer, and every n-gram adds +-1/sqrt(tokens in the row) to the column it hashes
    to, from ``column`` on (the block must be zero). The compiled kernel does it in one
    pass per row; the numpy twin is :class:`_Tokens`.
    """
    n = len(offsets) - 1
    if _accel.kernels is None:
        tokens = _Tokens.of(data, offsets)
        tokens.add_hashed(values, column, buckets)
        return tokens.stats
    per_row, longest, total, base64_bytes = (np.empty(n, dtype=np.float64) for _ in range(4))
    _accel.kernels.token_ngrams(
        *_accel.rows(data, offsets),
        _TOKEN_FLAG,
        values,
        values.shape[1],
        column,
        buckets,
        per_row,
        longest,
        total,
        base64_bytes,
    )
    return TokenStats(per_row, longest, total / np.maximum(per_row, 1.0), base64_bytes)


@dataclass(frozen=True)
class _Tokens:
    """Word tokens of a normalized batch: their rows and 64-bit hashes.

    Tokens are split by Arrow; only the batch's distinct tokens are hashed and measured
    (a few thousand per 2,048 rows), then broadcast back with ``take``. The numpy twin of
    the compiled ``token_ngrams`` kernel (see :func:`add_token_ngrams`).
    """

    row: NDArray[np.int64]
    hash: NDArray[np.uint64]
    stats: TokenStats

    @classmethod
    def of(cls, data: NDArray[np.uint8], offsets: NDArray[np.int64]) -> _Tokens:
        n = len(offsets) - 1
        words = pc.ascii_split_whitespace(from_buffers(_TOKEN_VIEW[data], offsets))
        flat = words.flatten()
        per_row_int = np.diff(np.asarray(words.offsets))
        row = np.repeat(np.arange(n, dtype=np.int64), per_row_int)
        per_row = per_row_int.astype(np.float64)
        if len(flat) == 0:
            zeros = np.zeros(n, dtype=np.float64)
            stats = TokenStats(per_row, zeros, zeros, zeros)
            return cls(row, np.zeros(0, dtype=np.uint64), stats)
        encoded = pc.dictionary_encode(flat)
        distinct = encoded.dictionary
        index = np.asarray(encoded.indices, dtype=np.int64)
        distinct_hash = _hash_strings(distinct)
        distinct_length = np.asarray(pc.binary_length(distinct), dtype=np.float64)
        looks_base64 = np.asarray(pc.match_substring_regex(distinct, _BASE64_TOKEN_RE2), dtype=bool)
        lengths = distinct_length[index]
        longest = np.zeros(n, dtype=np.float64)
        np.maximum.at(longest, row, lengths)
        total = np.bincount(row, weights=lengths, minlength=n)
        base64_bytes = np.bincount(
            row, weights=np.where(looks_base64[index], lengths, 0.0), minlength=n
        ).astype(np.float64, copy=False)
        stats = TokenStats(per_row, longest, total / np.maximum(per_row, 1.0), base64_bytes)
        return cls(row, distinct_hash[index], stats)

    def add_hashed(self, values: NDArray[np.float32], column: int, buckets: int) -> None:
        """Add signed unigram + bigram counts, scaled by 1/sqrt(tokens), to ``values``.

        The n-gram block starts at ``column``; see :func:`_scatter_add` for how. Tokens
        hash as strings (blake2b-64, bigrams mixed by MurmurHash's finalizer), not as byte
        windows, so this stays outside the shared character n-gram core.
        """
        if self.row.size == 0:
            return
        same_row = self.row[1:] == self.row[:-1]
        with np.errstate(over="ignore"):
            bigrams = _fmix64(self.hash[:-1][same_row] * np.uint64(31) + self.hash[1:][same_row])
        grams = np.concatenate([self.hash, bigrams])
        rows = np.concatenate([self.row, self.row[1:][same_row]])
        sign = np.where((grams >> np.uint64(63)) == 1, -1.0, 1.0).astype(np.float32)
        scale = (1.0 / np.sqrt(np.maximum(self.stats.per_row, 1.0))).astype(np.float32)
        _scatter_add(values, rows, column + _bucket(grams, buckets), sign * scale[rows])


def _bucket(hashes: NDArray[np.uint64], buckets: int) -> NDArray[np.int64]:
    if buckets & (buckets - 1) == 0:  # a mask is ~10x faster than uint64 modulo
        return (hashes & np.uint64(buckets - 1)).astype(np.int64)
    return (hashes % np.uint64(buckets)).astype(np.int64)


def _scatter_add(
    values: NDArray[np.float32],
    rows: NDArray[np.int64],
    columns: NDArray[np.int64],
    weights: NDArray[np.float32],
) -> None:
    """``values[rows, columns] += weights`` with repeats, on the flat C-contiguous matrix.

    ``np.add.at`` on the flat array measured 7x faster than on a strided 2-D block view
    (8 ms against 58 ms for 740k updates). Only the numpy twins of the compiled kernels
    scatter this way.
    """
    flat = values.reshape(-1)
    np.add.at(flat, rows * values.shape[1] + columns, weights)


#: Odd 32-bit multipliers (Fibonacci hashing) for the 3- and 4-gram codes.
_CHAR_NGRAM_MULTIPLIER = {3: np.uint32(0x9E3779B1), 4: np.uint32(0x85EBCA77)}
#: The sizes and their multipliers as the compiled kernel takes them (made once).
_CHAR_NGRAM_SIZE_ARRAY = np.asarray(CHAR_NGRAM_SIZES, dtype=np.uint8)
_CHAR_NGRAM_MULTIPLIER_ARRAY = np.asarray(
    [_CHAR_NGRAM_MULTIPLIER[k] for k in CHAR_NGRAM_SIZES], dtype=np.uint32
)


def _add_char_ngrams(
    values: NDArray[np.float32],
    column: int,
    data: NDArray[np.uint8],
    offsets: NDArray[np.int64],
    buckets: int,
) -> None:
    """Add signed hashed character n-grams, scaled by 1/sqrt(length), from ``column`` on.

    A 3- or 4-byte n-gram is its own exact 32-bit code; one multiply spreads it (Fibonacci
    hashing, the shared core's :func:`~vigil.features._ngrams.window_hashes`) and the top
    bits pick the bucket, the next bit the sign. There is no padding bucket: n-grams that
    cross into the next row are dropped. This replaced a 64-bit polynomial + MurmurHash
    finalizer at a third of the cost.
    """
    if buckets & (buckets - 1):
        raise ValueError(f"character n-gram buckets must be a power of two, got {buckets}")
    if _accel.kernels is not None:  # the same updates in the same order, one pass per row
        _accel.kernels.add_signed_windows(
            values,
            values.shape[1],
            column,
            *_accel.rows(data, offsets),
            buckets.bit_length() - 1,
            _CHAR_NGRAM_SIZE_ARRAY,
            _CHAR_NGRAM_MULTIPLIER_ARRAY,
        )
        return
    row = np.arange(len(offsets) - 1, dtype=np.int64)
    lengths = np.diff(offsets)
    scale = (1.0 / np.sqrt(np.maximum(lengths, 1))).astype(np.float32)
    bits = buckets.bit_length() - 1
    for k, hashed in window_hashes(data, CHAR_NGRAM_SIZES, _CHAR_NGRAM_MULTIPLIER):
        count = len(hashed)
        inside = np.ones(count, dtype=bool)  # the n-gram does not cross into the next row
        inside[crossing_windows(offsets, k, count)] = False
        h = hashed[inside]
        rows = np.repeat(row, np.maximum(lengths - (k - 1), 0))  # each row's, in order
        bucket = (h >> np.uint32(32 - bits)).astype(np.int64)
        sign = np.where((h >> np.uint32(31 - bits)) & np.uint32(1), np.float32(-1), np.float32(1))
        _scatter_add(values, rows, column + bucket, sign * scale[rows])


def byte_statistics(
    data: NDArray[np.uint8], offsets: NDArray[np.int64]
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Per row, the Shannon entropy of its bytes (bits) and its byte count per class.

    Classes are :data:`_CLASS_NAMES`, columns in that order.
    """
    n = len(offsets) - 1
    if _accel.kernels is not None:
        entropy = np.empty(n, dtype=np.float64)
        classes = np.empty((n, _N_CLASSES), dtype=np.float64)
        _accel.kernels.byte_stats(
            *_accel.rows(data, offsets),
            _CLASS_ID_OF_BYTE,
            entropy,
            classes,
            _N_CLASSES,
        )
        return entropy, classes
    lengths = np.diff(offsets).astype(np.float64)
    safe = np.maximum(lengths, 1.0)
    # One histogram of (row, byte) cells; entropy and class shares use its filled cells.
    cells = np.bincount(
        np.repeat(np.arange(n, dtype=np.int64) * 256, np.diff(offsets)) + data,
        minlength=n * 256,
    )
    filled = np.flatnonzero(cells)
    counts = cells[filled].astype(np.float64)
    cell_row = filled >> 8
    c_log_c = np.bincount(cell_row, weights=counts * np.log2(counts), minlength=n)
    entropy = np.where(lengths > 0, np.log2(safe) - c_log_c / safe, 0.0)
    class_counts = np.bincount(
        cell_row * _N_CLASSES + _CLASS_OF_BYTE[filled & 255],
        weights=counts,
        minlength=n * _N_CLASSES,
    )
    return entropy, class_counts.astype(np.float64).reshape(n, _N_CLASSES)


def _hash_strings(strings: pa.Array) -> NDArray[np.uint64]:
    """Stable 64-bit hashes of short strings (Python's ``hash`` is salted per process)."""
    digests = [blake2b(v, digest_size=8).digest() for v in _as_bytes_list(strings)]
    return np.frombuffer(b"".join(digests), dtype=np.uint64).copy()


def _as_bytes_list(strings: pa.Array) -> list[bytes]:
    data, offsets = buffers(strings)
    raw = data.tobytes()
    bounds = offsets.tolist()
    return [raw[a:b] for a, b in pairwise(bounds)]
