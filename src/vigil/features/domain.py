"""Domain name features: lexical shape, a benign-name language model, suffix risk, intel.

Every feature is computed on the normalized name (:func:`normalize_domains`) once per
distinct name of a batch, over the whole batch's byte buffer. What is learned from data
(a character trigram model of benign names and the malicious rate of each public suffix)
lives in a :class:`DomainState` that travels inside the model file, so a model and the
statistics its features were computed with can never be paired wrongly.
"""

from __future__ import annotations

import base64
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import cached_property, lru_cache
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from numpy.typing import NDArray

from vigil._types import as_string_array
from vigil.errors import DataError, ModelError
from vigil.features import _lexical as lex
from vigil.features import _punycode, entities
from vigil.features._charhash import NgramLogit
from vigil.features._hashindex import HashIndex
from vigil.features._suffixes import Split, hash_strings, public_suffixes
from vigil.features.base import FeatureMatrix, FeatureSpec, exactly_listed
from vigil.features.entities import normalize_domains
from vigil.features.normalize import buffers, from_buffers

if TYPE_CHECKING:
    from vigil._types import StringColumn

__all__ = [
    "FEATURE_NAMES",
    "DomainExtractor",
    "DomainHits",
    "DomainState",
    "IntelView",
]

_FEATURES_VERSION = "4"
_STATE_FORMAT = "vigil.domain-state/1"

#: Distinct names per block of feature work: the per-row histograms stay in cache
#: (16,384 x 39 cells) and memory stays flat on million-row batches.
BLOCK_ROWS = 16384
#: Weight, in pseudo-names, of the overall malicious rate in each suffix's smoothed rate.
SUFFIX_PRIOR_STRENGTH = 20.0
#: Suffixes kept in the state, most frequent first: keeps the state well under 1 MB.
MAX_SUFFIXES = 20_000
#: A suffix is named in the indicators when its learned malicious rate is at least this
#: share of the way from the overall rate to 1 (0.65 when 30% of training names are bad).
RISKY_SUFFIX_LIFT = 0.5

_STRUCTURE = ("name:length", "name:labels", "name:subdomain_depth", "name:longest_label")
_NAME_CHARS = tuple(f"name:{s}" for s in lex.CHAR_STATS[1:])
_LABEL_CHARS = tuple(f"label:{s}" for s in lex.CHAR_STATS)
_LM = ("lm:name_mean", "lm:name_min", "lm:label_mean", "lm:label_min")
_WORDS = ("words:coverage", "words:count", "words:longest")
_SUFFIX = ("suffix:labels", "suffix:known", "suffix:private", "suffix:risk")
_IDN = ("idn:punycode", "idn:non_ascii", "idn:mixed_scripts")
#: The leftmost label of a name with a subdomain part (zeros without one): where
#: subdomain-generating malware (kraken under dynamic-DNS parents) puts its randomness.
_HOST_STATS = ("length", "entropy", "digit_share", "vowel_ratio", "longest_consonant_run")
_HOST = (*(f"host:{s}" for s in _HOST_STATS), "host:lm_mean", "host:lm_min")
#: Log-odds of a logistic regression over hashed character 1-4-grams of the whole name
#: (see ``features/_charhash.py``); 0 when the state has none.
_NGRAM = ("ngram:logit",)
_INTEL = ("intel:parent_sources", "intel:parent_distance", "intel:siblings", "intel:kinds_hit")

FEATURE_NAMES: tuple[str, ...] = (
    *_STRUCTURE,
    *_NAME_CHARS,
    *_LABEL_CHARS,
    *_LM,
    *_WORDS,
    *_SUFFIX,
    *_IDN,
    *_HOST,
    *_NGRAM,
    *_INTEL,
)

_GROUPS: dict[str, tuple[str, ...]] = {
    "length and structure": (*_STRUCTURE, "label:length"),
    "character statistics": _NAME_CHARS + _LABEL_CHARS[1:],
    "language model": _LM,
    "dictionary words": _WORDS,
    "public suffix": _SUFFIX,
    "internationalized name": _IDN,
    "subdomain label": _HOST,
    "character n-grams": _NGRAM,
    "threat intelligence": _INTEL,
}


# -- intelligence, as this module needs it (implemented in vigil.intel) ---------------------


class DomainHits(Protocol):
    """What threat intelligence says about each of a batch of normalized names."""

    @property
    def exact_sources(self) -> pa.Array:
        """list<string>: sources listing exactly this name."""
        ...

    @property
    def parent_sources(self) -> NDArray[np.int32]:
        """Sources listing a proper ancestor (never the public suffix)."""
        ...

    @property
    def parent_distance(self) -> NDArray[np.int32]:
        """Labels up to the nearest listed ancestor; -1 for none."""
        ...

    @property
    def sibling_listed(self) -> NDArray[np.int32]:
        """Listed names under the same registered domain, excluding the name itself."""
        ...


class IntelView(Protocol):
    """A snapshot of threat intelligence that looks names up in bulk."""

    @property
    def fingerprint(self) -> str: ...

    def domain_hits(self, domains: pa.Array) -> DomainHits: ...


# -- fitted state ----------------------------------------------------------------------------


def _encode_floats(values: NDArray[np.float32]) -> str:
    return base64.b64encode(np.asarray(values, dtype="<f4").tobytes()).decode("ascii")


def _decode_floats(text: object, size: int | None, what: str) -> NDArray[np.float32]:
    if not isinstance(text, str):
        raise ModelError(f"domain feature state: {what} must be a base64 string")
    try:
        raw = base64.b64decode(text.encode("ascii"), validate=True)
    except (ValueError, UnicodeEncodeError) as exc:
        raise ModelError(f"domain feature state: {what} is not valid base64 ({exc})") from exc
    if len(raw) % 4 or (size is not None and len(raw) != 4 * size):
        expected = "a multiple of 4" if size is None else str(4 * size)
        raise ModelError(f"domain feature state: {what} has {len(raw)} bytes, expected {expected}")
    return np.frombuffer(raw, dtype="<f4").astype(np.float32)


@dataclass(frozen=True, eq=False)
class DomainState:
    """What :meth:`DomainExtractor.fit` learned; plain JSON through :meth:`to_dict`.

    Float arrays are stored as base64 of little-endian float32 (never pickle). The two
    trigram tables dominate the size: 2 x 41**3 floats, about 0.9 MB as JSON.
    """

    name_lm: NDArray[np.float32]
    label_lm: NDArray[np.float32]
    suffixes: tuple[str, ...]
    suffix_risk: NDArray[np.float32]
    prior: float
    names_seen: int = 0
    ngram: NgramLogit | None = None

    def __post_init__(self) -> None:
        for what, table in (("name_lm", self.name_lm), ("label_lm", self.label_lm)):
            if table.shape != (lex.LM_SIZE,):
                raise ModelError(
                    f"domain feature state: {what} has shape {table.shape}, expected "
                    f"({lex.LM_SIZE},); retrain with `vigil train domain`"
                )
        if self.suffix_risk.shape != (len(self.suffixes),):
            raise ModelError(
                f"domain feature state: {len(self.suffixes)} suffixes but "
                f"{self.suffix_risk.shape[0]} risks"
            )
        if not (0.0 <= self.prior <= 1.0) or not np.all(np.isfinite(self.suffix_risk)):
            raise ModelError("domain feature state: risks must be finite rates in [0, 1]")

    def to_dict(self) -> dict[str, Any]:
        return {
            "format": _STATE_FORMAT,
            "alphabet": lex.ALPHABET,
            "name_lm": _encode_floats(self.name_lm),
            "label_lm": _encode_floats(self.label_lm),
            "suffixes": list(self.suffixes),
            "suffix_risk": _encode_floats(self.suffix_risk),
            "prior": float(self.prior),
            "names_seen": int(self.names_seen),
            "ngram": None if self.ngram is None else self.ngram.to_dict(),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> DomainState:
        """The state :meth:`to_dict` wrote; anything else raises :class:`ModelError`."""
        if not isinstance(data, Mapping) or data.get("format") != _STATE_FORMAT:
            found = data.get("format") if isinstance(data, Mapping) else type(data).__name__
            raise ModelError(
                f"domain feature state has format {found!r}, expected {_STATE_FORMAT!r}; "
                "retrain with `vigil train domain`"
            )
        if data.get("alphabet") != lex.ALPHABET:
            raise ModelError("domain feature state was fitted over another alphabet; retrain")
        suffixes = data.get("suffixes")
        if not isinstance(suffixes, list) or not all(isinstance(s, str) for s in suffixes):
            raise ModelError("domain feature state: suffixes must be a list of strings")
        prior = data.get("prior")
        if not isinstance(prior, int | float) or isinstance(prior, bool):
            raise ModelError("domain feature state: prior must be a number")
        names_seen = data.get("names_seen", 0)
        ngram = None
        if data.get("ngram") is not None:
            try:
                ngram = NgramLogit.from_dict(data["ngram"])
            except ValueError as exc:
                raise ModelError(f"domain feature state: {exc}; retrain") from exc
        return cls(
            name_lm=_decode_floats(data.get("name_lm"), lex.LM_SIZE, "name_lm"),
            label_lm=_decode_floats(data.get("label_lm"), lex.LM_SIZE, "label_lm"),
            suffixes=tuple(suffixes),
            suffix_risk=_decode_floats(data.get("suffix_risk"), len(suffixes), "suffix_risk"),
            prior=float(prior),
            names_seen=int(names_seen) if isinstance(names_seen, int) else 0,
            ngram=ngram,
        )

    @cached_property
    def _suffix_index(self) -> HashIndex:
        return HashIndex.build(hash_strings(pa.array(list(self.suffixes), type=pa.large_string())))

    def risk_of(self, suffix_hashes: NDArray[np.uint64]) -> NDArray[np.float32]:
        """The learned malicious rate of each suffix (by hash); the prior for unseen ones."""
        found, where = self._suffix_index.lookup(suffix_hashes)
        out = np.full(suffix_hashes.shape, self.prior, dtype=np.float32)
        out[found] = self.suffix_risk[where[found]]
        return out


# -- the batch, parsed once -----------------------------------------------------------------


@dataclass(frozen=True)
class _Batch:
    """Distinct normalized names of a batch and, for each input row, which one it is."""

    names: pa.Array  # large_string, distinct, no nulls
    row_name: NDArray[np.int64]  # per input row; -1 where invalid or null

    @property
    def valid(self) -> NDArray[np.bool_]:
        return self.row_name >= 0

    @classmethod
    def of(cls, values: StringColumn) -> _Batch:
        array = as_string_array(values)
        encoded = pc.dictionary_encode(array)
        raw_index = np.asarray(pc.fill_null(encoded.indices, -1), dtype=np.int64)
        normalized = pc.dictionary_encode(normalize_domains(encoded.dictionary))
        name_of_raw = np.asarray(pc.fill_null(normalized.indices, -1), dtype=np.int64)
        name_of_raw = np.append(name_of_raw, -1)  # index -1 (null input) stays -1
        return cls(names=normalized.dictionary, row_name=name_of_raw[raw_index])

    @property
    def take_index(self) -> pa.Array:
        """``row_name`` as Arrow indices, null where the row has no name (for ``take``)."""
        return pa.array(self.row_name, mask=~self.valid)

    def broadcast(self, per_name: NDArray[Any], fill: float = 0.0) -> NDArray[Any]:
        out = np.full((len(self.row_name), *per_name.shape[1:]), fill, dtype=per_name.dtype)
        valid = self.valid
        out[valid] = per_name[self.row_name[valid]]
        return out


@dataclass(frozen=True)
class _Parts:
    """The names and their registered labels as byte buffers, and the suffix split."""

    name: lex.Buffer
    label: lex.Buffer
    split: Split

    @classmethod
    def of(cls, names: pa.Array) -> _Parts:
        name = lex.Buffer(*buffers(names))
        split = public_suffixes().split(name.data, name.offsets, name.row)
        label = lex.Buffer(
            *_gather(name.data, split.effective_label_start, split.effective_label_end)
        )
        return cls(name, label, split)

    @property
    def suffix_label_count(self) -> NDArray[np.int64]:
        """Labels in the effective suffix (an unknown last label counts as the suffix)."""
        return np.maximum(self.split.suffix_labels, 1)


def _gather(
    data: NDArray[np.uint8], start: NDArray[np.int64], end: NDArray[np.int64]
) -> tuple[NDArray[np.uint8], NDArray[np.int64]]:
    """The byte ranges ``[start, end)`` of ``data`` as a new buffer and offsets."""
    lengths = np.maximum(end - start, 0)
    offsets = np.zeros(len(start) + 1, dtype=np.int64)
    np.cumsum(lengths, out=offsets[1:])
    index = np.repeat(start - offsets[:-1], lengths) + np.arange(offsets[-1], dtype=np.int64)
    return data[index], offsets


def _idn_flags(names: pa.Array) -> NDArray[np.float32]:
    """Per name: has an ``xn--`` label, decodes to non-ASCII, mixes scripts within a label.

    Per distinct name in Python, for the rare punycode names only.
    """
    out = np.zeros((len(names), 3), dtype=np.float32)
    # A label starting "xn--", by two substring tests: the regex (^|\.)xn-- costs ~0.4 ms
    # a batch, its compilation on every call included.
    has_xn = np.asarray(
        pc.or_(pc.starts_with(names, "xn--"), pc.match_substring(names, ".xn--")), dtype=bool
    )
    rows = np.flatnonzero(has_xn)
    out[rows, 0] = 1.0
    for row, name in zip(rows.tolist(), names.take(pa.array(rows)).to_pylist(), strict=True):
        non_ascii, mixed = _decoded_scripts(name)
        out[row, 1], out[row, 2] = non_ascii, mixed
    return out


#: Scripts that legitimately share one label (Japanese, Korean writing) count as one.
_SCRIPT_ALIASES = {
    "HIRAGANA": "CJK",
    "KATAKANA": "CJK",
    "HANGUL": "CJK",
    "KATAKANA-HIRAGANA": "CJK",
}


def forget_names() -> None:
    """Forget every per-name result remembered across batches (normalized Unicode names
    and URLs, decoded punycode scripts): a benchmark's profile of fresh names calls it
    before each run, since a batch timed twice would otherwise hit these caches."""
    entities.forget_names()
    _decoded_scripts.cache_clear()


@lru_cache(maxsize=65_536)
def _decoded_scripts(name: str) -> tuple[bool, bool]:
    """(non-ASCII, mixed scripts) of a punycode name's labels as a browser would show them.

    Each ``xn--`` label is decoded as bare punycode (:mod:`vigil.features._punycode`,
    compiled: well under a µs a label, where Python's codec takes ~8 µs and its ``idna``
    codec, IDNA 2003 with nameprep, ~35 µs and rejects what IDNA 2008 registries accept,
    ``xn--zca`` "ß", and every character newer than Unicode 3.2). A decoded label that
    is not lower-case and NFC-normalized is invalid IDNA, which browsers show in its
    ``xn--`` form: it counts as ASCII. Cached: logs repeat names.
    """
    import unicodedata

    non_ascii = mixed = False
    for label in name.split("."):
        if not label.startswith("xn--"):
            continue
        try:
            decoded = _punycode.decode(label[4:].encode("ascii"))
        except (UnicodeError, ValueError):
            continue
        if decoded != unicodedata.normalize("NFC", decoded.lower()):
            continue
        non_ascii = non_ascii or not decoded.isascii()
        scripts = set()
        for ch in decoded:
            if ch.isalpha():
                script = unicodedata.name(ch, "UNKNOWN").split(" ")[0]
                scripts.add(_SCRIPT_ALIASES.get(script, script))
        mixed = mixed or len(scripts) > 1
    return non_ascii, mixed


# -- the extractor ---------------------------------------------------------------------------


class DomainExtractor:
    """Features of domain names for a tree model; needs a fitted :class:`DomainState`.

    Args:
        state: what :meth:`fit` learned; :meth:`transform` refuses to run without it.
        intel: a threat-intelligence view; its columns are zero without one.
    """

    name = "domain"
    #: Explanations switch a group off by setting its columns to this.
    occlusion_fill = 0.0

    def __init__(self, state: DomainState | None = None, intel: IntelView | None = None) -> None:
        self._state = state
        self.intel = intel

    @property
    def state(self) -> DomainState | None:
        return self._state

    @cached_property
    def spec(self) -> FeatureSpec:
        words = lex.english_words()
        params = {
            "suffix_list": public_suffixes().digest,
            "words": words.digest,
            "lm": "char-trigram/interpolated",
            "alphabet": lex.ALPHABET,
        }
        return FeatureSpec(self.name, _FEATURES_VERSION, FEATURE_NAMES, params)

    def feature_groups(self) -> Mapping[str, tuple[int, ...]]:
        """Structure, character statistics, language model, words, suffix, IDN, intel."""
        position = {name: i for i, name in enumerate(FEATURE_NAMES)}
        return {g: tuple(sorted(position[n] for n in names)) for g, names in _GROUPS.items()}

    def with_state(self, state: DomainState | Mapping[str, Any] | None) -> DomainExtractor:
        """This extractor with a fitted state (a :class:`DomainState` or its dict)."""
        if state is not None and not isinstance(state, DomainState):
            state = DomainState.from_dict(state)
        return DomainExtractor(state, self.intel)

    def with_intel(self, intel: IntelView | None) -> DomainExtractor:
        return DomainExtractor(self._state, intel)

    # -- fitting -----------------------------------------------------------------------------

    def fit(
        self,
        values: StringColumn,
        labels: NDArray[Any],
        *,
        fit_ngrams: Callable[[pa.Array, NDArray[np.int64]], NgramLogit] | None = None,
    ) -> DomainExtractor:
        """A copy fitted on ``values`` labelled 1 (malicious) or 0 (benign).

        Each distinct (name, label) pair counts once, so a name logged a million times
        does not outweigh the rest. The trigram models see benign names only; suffix
        risk is the malicious share per suffix, pulled towards the overall share by
        :data:`SUFFIX_PRIOR_STRENGTH` pseudo-names.
        """
        array = as_string_array(values)
        y = np.asarray(labels)
        if y.shape != (len(array),):
            raise DataError(f"fit got {len(array)} values but labels of shape {y.shape}")
        if not np.isin(y, (0, 1)).all():
            raise DataError("domain labels must be 0 (benign) or 1 (malicious)")
        names = normalize_domains(array)
        keep = np.asarray(names.is_valid(), dtype=bool)
        encoded = pc.dictionary_encode(names.filter(pa.array(keep)))
        pair = np.asarray(encoded.indices, dtype=np.int64) * 2 + y[keep].astype(np.int64)
        pair = np.unique(pair)
        distinct_names, malicious = encoded.dictionary.take(pa.array(pair // 2)), pair % 2 == 1
        if len(distinct_names) == 0:
            raise DataError("fit needs at least one valid domain name")
        parts = _Parts.of(distinct_names)
        benign = np.flatnonzero(~malicious)
        benign_names = distinct_names.take(pa.array(benign))
        name_lm = lex.fit_trigram_model(lex.Buffer(*buffers(benign_names)))
        label_offsets = parts.label.offsets
        benign_labels = _gather(
            parts.label.data, label_offsets[:-1][benign], label_offsets[1:][benign]
        )
        label_lm = lex.fit_trigram_model(lex.Buffer(*benign_labels))
        suffixes, risk, prior = _suffix_risk(distinct_names, parts, malicious)
        # The regression needs a solver (scikit-learn): training passes one in, so this
        # module, on the scoring path, imports none.
        ngram = None
        if fit_ngrams is not None and 0 < malicious.sum() < len(malicious):
            ngram = fit_ngrams(distinct_names, malicious.astype(np.int64))
        state = DomainState(
            name_lm=name_lm,
            label_lm=label_lm,
            suffixes=suffixes,
            suffix_risk=risk,
            prior=prior,
            names_seen=len(distinct_names),
            ngram=ngram,
        )
        return DomainExtractor(state, self.intel)

    # -- features ----------------------------------------------------------------------------

    def _require_state(self) -> DomainState:
        if self._state is None:
            raise ModelError(
                "the domain features need a fitted model: its language model and suffix "
                "risks come from training data (train one with `vigil train domain`)"
            )
        return self._state

    def transform(self, values: StringColumn) -> FeatureMatrix:
        state = self._require_state()
        batch = _Batch.of(values)
        per_name, hits = self._features(batch.names, state)
        listed = None if hits is None else batch.broadcast(exactly_listed(hits), fill=False)
        return FeatureMatrix(batch.broadcast(per_name), FEATURE_NAMES, batch.valid, listed)

    def _features(
        self, names: pa.Array, state: DomainState
    ) -> tuple[NDArray[np.float32], DomainHits | None]:
        """Features of distinct names, and the intel hits they came from (None without)."""
        out = np.zeros((len(names), len(FEATURE_NAMES)), dtype=np.float32)
        hits = None
        for start in range(0, len(names), BLOCK_ROWS):
            block = names.slice(start, BLOCK_ROWS)
            out[start : start + len(block), : -len(_INTEL) - 1] = _lexical_block(block, state)
        if state.ngram is not None and len(names):
            out[:, -len(_INTEL) - 1] = state.ngram(names)
        if self.intel is not None and len(names):
            hits = self.intel.domain_hits(names)
            out[:, -len(_INTEL) :] = _intel_columns(hits)
        return out, hits

    def feature_table(self, values: StringColumn) -> pa.StructArray:
        """Per input: the name, its registered domain and suffix, and every feature.

        Field names are the feature names with ``:`` as ``_`` (SQL friendly); a row is
        null where the input is null or not a domain name.
        """
        state = self._require_state()
        batch = _Batch.of(values)
        per_name, _ = self._features(batch.names, state)
        registered, suffix = _registered_and_suffix(batch.names)
        matrix = batch.broadcast(per_name)
        columns = [
            pc.cast(strings.take(batch.take_index), pa.string())
            for strings in (batch.names, registered, suffix)
        ]
        columns += [pa.array(matrix[:, i]) for i in range(matrix.shape[1])]
        return pa.StructArray.from_arrays(
            columns, fields=list(self.feature_table_type), mask=pa.array(~batch.valid)
        )

    @property
    def feature_table_type(self) -> pa.StructType:
        fields = [
            pa.field("domain", pa.string()),
            pa.field("registered_domain", pa.string()),
            pa.field("suffix", pa.string()),
        ]
        fields += [pa.field(n.replace(":", "_"), pa.float32()) for n in FEATURE_NAMES]
        return pa.struct(fields)

    # -- explanations ------------------------------------------------------------------------

    def listed(self, values: StringColumn) -> NDArray[np.bool_]:
        """True where intelligence lists the name itself and no allow source does (a verdict)."""
        batch = _Batch.of(values)
        if self.intel is None or len(batch.names) == 0:
            return np.zeros(len(batch.row_name), dtype=bool)
        return batch.broadcast(exactly_listed(self.intel.domain_hits(batch.names)), fill=False)

    def indicators(self, values: StringColumn) -> pa.Array:
        """Per input, readable facts: ``listed:<source>``, ``parent-listed``, ``punycode``...

        Null for null or invalid input. Needs no fitted state; with one, risky suffixes
        are named too.
        """
        batch = _Batch.of(values)
        names = batch.names
        per_name: list[list[str]] = [[] for _ in range(len(names))]
        if len(names):
            self._name_indicators(names, per_name)
        lists = pa.array(per_name, type=pa.list_(pa.string()))
        return lists.take(batch.take_index)

    def _name_indicators(self, names: pa.Array, per_name: list[list[str]]) -> None:
        # per distinct name in Python: building readable strings, only where something hit
        if self.intel is not None:
            hits = self.intel.domain_hits(names)
            sources = hits.exact_sources.to_pylist()
            parents = np.asarray(hits.parent_sources)
            distance = np.asarray(hits.parent_distance)
            siblings = np.asarray(hits.sibling_listed)
            for i in np.flatnonzero(
                np.asarray(pc.fill_null(pc.list_value_length(hits.exact_sources), 0)) > 0
            ).tolist():
                per_name[i] += [f"listed:{s}" for s in sorted(set(sources[i]))]
            for i in np.flatnonzero(parents > 0).tolist():
                per_name[i].append(
                    f"parent-listed:{int(parents[i])} sources, {int(distance[i])} labels up"
                )
            for i in np.flatnonzero(siblings > 0).tolist():
                per_name[i].append(f"siblings-listed:{int(siblings[i])}")
        idn = _idn_flags(names)
        for column, text in ((0, "punycode"), (1, "non-ascii"), (2, "mixed-scripts")):
            for i in np.flatnonzero(idn[:, column]).tolist():
                per_name[i].append(text)
        parts = _Parts.of(names)
        _, suffix = _registered_and_suffix(names, parts)
        suffix_text = suffix.to_pylist()
        for i in np.flatnonzero(parts.split.private).tolist():
            per_name[i].append(f"private-suffix:{suffix_text[i]}")
        for i in np.flatnonzero(parts.split.suffix_labels == 0).tolist():
            per_name[i].append(f"unknown-suffix:{suffix_text[i]}")
        if self._state is not None:
            risk = self._state.risk_of(parts.split.suffix_hash)
            risky = self._state.prior + RISKY_SUFFIX_LIFT * (1.0 - self._state.prior)
            for i in np.flatnonzero(risk >= max(risky, 0.5)).tolist():
                per_name[i].append(f"risky-suffix:{suffix_text[i]} ({risk[i]:.0%} malicious)")


def _lexical_block(names: pa.Array, state: DomainState) -> NDArray[np.float32]:
    """Every column but intel for a block of distinct normalized names."""
    parts = _Parts.of(names)
    split, name, label = parts.split, parts.name, parts.label
    name_stats = lex.char_stats(name)
    label_stats = lex.char_stats(label)
    depth = np.maximum(split.labels - parts.suffix_label_count - 1, 0)
    name_mean, name_min = lex.trigram_scores(state.name_lm, name)
    label_mean, label_min = lex.trigram_scores(state.label_lm, label)
    coverage, words, longest_word = lex.english_words().segment(label)
    columns = [
        name_stats[:, 0],
        split.labels,
        depth,
        lex.longest_runs(name, name.data != ord(".")),
        *name_stats[:, 1:].T,
        *label_stats.T,
        name_mean,
        name_min,
        label_mean,
        label_min,
        coverage,
        words,
        longest_word,
        split.suffix_labels,
        split.suffix_labels > 0,
        split.private,
        state.risk_of(split.suffix_hash),
        *_idn_flags(names).T,
        *_host_columns(parts, depth, state),
    ]
    out = np.empty((len(names), len(columns)), dtype=np.float32)
    for i, column in enumerate(columns):
        out[:, i] = column
    return out


_HOST_COLUMNS = [lex.CHAR_STATS.index(s) for s in _HOST_STATS]


def _host_columns(
    parts: _Parts, depth: NDArray[np.int64], state: DomainState
) -> list[NDArray[Any]]:
    """The :data:`_HOST` columns: the first label of names that have a subdomain part."""
    name = parts.name
    start = name.offsets[:-1]
    end = name.offsets[1:].copy()
    dots = np.flatnonzero(name.data == ord("."))
    rows, first = np.unique(name.row[dots], return_index=True)
    end[rows] = dots[first]
    end = np.where(depth > 0, end, start)  # no subdomain part: an empty label, all zeros
    host = lex.Buffer(*_gather(name.data, start, end))
    stats = lex.char_stats(host)[:, _HOST_COLUMNS]
    lm_mean, lm_min = lex.trigram_scores(state.label_lm, host)
    empty = depth == 0
    lm_mean[empty] = 0.0
    lm_min[empty] = 0.0
    return [*stats.T, lm_mean, lm_min]


def _intel_columns(hits: DomainHits) -> NDArray[np.float32]:
    parents = np.asarray(hits.parent_sources, dtype=np.float32)
    distance = np.asarray(hits.parent_distance, dtype=np.float32)
    siblings = np.asarray(hits.sibling_listed, dtype=np.float32)
    kinds = (parents > 0).astype(np.float32) + (siblings > 0).astype(np.float32)
    return np.column_stack(
        [parents, np.where(distance > 0, distance, 0.0), np.log1p(siblings), kinds]
    ).astype(np.float32)


def registered_domains(names: pa.Array) -> pa.Array:
    """The registered domain (eTLD+1) of each normalized, non-null name, on the same suffix
    split the features use (training groups near-copies by it)."""
    registered, _ = _registered_and_suffix(as_string_array(names))
    return registered


def _registered_and_suffix(
    names: pa.Array, parts: _Parts | None = None
) -> tuple[pa.Array, pa.Array]:
    """Registered domain (label + suffix; the name itself if it is a suffix) and suffix."""
    parts = parts or _Parts.of(names)
    data, offsets = parts.name.data, parts.name.offsets
    suffix_start = parts.split.effective_suffix_start
    registered_start = np.where(
        parts.label.lengths > 0, parts.split.effective_label_start, offsets[:-1]
    )
    registered = from_buffers(*_gather(data, registered_start, offsets[1:]))
    suffix = from_buffers(*_gather(data, suffix_start, offsets[1:]))
    return registered, suffix


def _suffix_risk(
    names: pa.Array, parts: _Parts, malicious: NDArray[np.bool_]
) -> tuple[tuple[str, ...], NDArray[np.float32], float]:
    prior = float(malicious.mean())
    keys, first, inverse, counts = np.unique(
        parts.split.suffix_hash, return_index=True, return_inverse=True, return_counts=True
    )
    bad = np.bincount(inverse, weights=malicious.astype(np.float64), minlength=len(keys))
    rate = (bad + SUFFIX_PRIOR_STRENGTH * prior) / (counts + SUFFIX_PRIOR_STRENGTH)
    keep = np.argsort(-counts, kind="stable")[:MAX_SUFFIXES]
    _, suffix = _registered_and_suffix(names, parts)
    strings = suffix.take(pa.array(first[keep])).to_pylist()
    if not math.isfinite(prior):
        prior = 0.0
    return tuple(strings), rate[keep].astype(np.float32), prior
