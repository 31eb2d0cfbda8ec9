"""The wide part's kernel: hashed character 3-5-grams of the decoded text and their weights.

A linear model over every character 3-, 4- and 5-gram of the normalized, decoded content
ranks PowerShell better than a small dense network over a few thousand columns can; its
log-odds become one column of the feature matrix (``wide_logit``) that the network stacks.

Training (``vigil.train.wide``) and serving share :func:`distinct_buckets`, so both see the
same buckets bit for bit. Only numpy here: the scoring path loads no scipy or scikit-learn.

Hashing is the kernel the domain n-grams use too (:mod:`vigil.features._ngrams`): a 3- or
4-byte n-gram is its own exact 32-bit code, a 5-gram folds its fifth byte in
(``code4 * _FIFTH + byte``); one multiply by an odd constant per size spreads the code
(Fibonacci hashing) and the top ``bits`` bits pick the bucket. The last bucket is the
padding: n-grams that land there move to the one before it, and its weight is always 0.
The wide part's own are its sizes and constants, unframed rows (the stored weights were
fitted without ``^``/``$`` markers) and the binary rows below.

A row's features are binary: each bucket its n-grams hit counts once, scaled by
``1 / sqrt(distinct buckets)`` (unit L2 norm, like TF-IDF rows). In 5-fold cross-validation
on the shared data's training split, binary L2-normalized rows reached ROC AUC 0.9967 and
raw counts over ``sqrt(n-grams)``, which need no de-duplication, 0.993.

De-duplication sorts each row's buckets on its own: rows are laid out as the lines of a
few padded blocks (one per width class) that ``sort(axis=1)`` sorts line by line; many
short uint16 sorts run ~50x faster than one sort of the batch's ``(row, bucket)`` keys.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from vigil.features import _accel
from vigil.features._ngrams import clip_rows, crossing_windows, window_buckets

#: Character n-gram sizes of the wide part (the peer baseline's TF-IDF uses 3-5 too).
WIDE_NGRAM_SIZES = (3, 4, 5)

#: Odd 32-bit multipliers (Fibonacci hashing; xxHash32's primes), one per n-gram size.
WIDE_MULTIPLIER = {3: np.uint32(0x9E3779B1), 4: np.uint32(0x85EBCA77), 5: np.uint32(0xC2B2AE3D)}
#: A 5-gram's code is ``code(first 4 bytes) * _FIFTH + fifth byte`` (mod 2**32).
_FIFTH = np.uint32(0x27D4EB2F)

#: Buckets are uint16, so at most 2**16 (the last one the padding). In cross-validation
#: (with an earlier 64-bit hash) 2**16 ranked like 2**18 and 2**20 (ROC AUC 0.9968,
#: 0.9969, 0.9967) and 2**15 a little lower (0.9966); this hash at 2**16: 0.9966.
#: 2**16 float32 weights are 256 KiB, 350 kB of base64 in the model file.
WIDE_BITS = 16
_MIN_BITS, _MAX_BITS = 4, 16

#: Only each row's first bytes feed the wide part, bounding its cost on huge script
#: blocks (16 KiB and 32 KiB ranked alike in cross-validation).
WIDE_MAX_BYTES = 16_384

#: Narrowest padded width class: rows with fewer n-gram cells share it.
_MIN_WIDTH = 16

#: Format tag of the serialized state; a model file whose state names another is refused.
STATE_FORMAT = "vigil.powershell.wide/1"


def _check_bits(bits: int) -> None:
    if not _MIN_BITS <= bits <= _MAX_BITS:
        raise ValueError(
            f"wide buckets must number 2**{_MIN_BITS} to 2**{_MAX_BITS}, got 2**{bits}"
        )


def ngram_hashes(data: NDArray[np.uint8], bits: int) -> Iterator[tuple[int, NDArray[np.uint16]]]:
    """For each n-gram size ``k``, the bucket of the ``k``-gram starting at every byte it can.

    Yields ``(k, buckets)`` with ``buckets[i]`` for ``data[i : i + k]``, rows aside: the
    caller drops n-grams that cross from one row into the next. The shared kernel
    (:func:`vigil.features._ngrams.window_buckets`) with the wide part's sizes and
    constants; uint16 because the buckets fill a uint16 arena (at most 2**16 of them).
    """
    _check_bits(bits)
    for k, hashed in window_buckets(data, WIDE_NGRAM_SIZES, WIDE_MULTIPLIER, bits, fifth=_FIFTH):
        yield k, hashed.astype(np.uint16)


@dataclass(frozen=True)
class RowBuckets:
    """The distinct buckets of some rows: line ``i`` of ``buckets`` is row ``rows[i]``'s.

    Each line is sorted; each distinct bucket appears once in it and every other cell is
    the padding ``2**bits - 1``.
    """

    rows: NDArray[np.int64]
    buckets: NDArray[np.uint16]
    counts: NDArray[np.int64]  # distinct buckets per row


def _width_classes(cells: NDArray[np.int64]) -> NDArray[np.int64]:
    """Padded width per row: the first of 16, 24, 32, 48, 64, 96, ... that holds its cells."""
    power = 1 << np.ceil(np.log2(np.maximum(cells, _MIN_WIDTH))).astype(np.int64)
    three_quarters = power - power // 4
    return np.where(cells <= three_quarters, three_quarters, power)


def distinct_buckets(
    data: NDArray[np.uint8], offsets: NDArray[np.int64], bits: int
) -> Iterator[RowBuckets]:
    """Each row's distinct n-gram buckets, by width class of rows (empty rows are left out).

    Rows of one width class are the lines of one padded block in an arena; every byte
    owns ``len(WIDE_NGRAM_SIZES)`` consecutive cells of its row's line (its 3-, 4- and
    5-gram), so hashing writes straight into place. Each block is then sorted line by
    line and repeats within a line become padding.
    """
    _check_bits(bits)
    padding = np.uint16((1 << bits) - 1)
    width = len(WIDE_NGRAM_SIZES)
    lengths = np.diff(offsets)
    cells = lengths * width
    classes = _width_classes(cells)
    filled = cells > 0
    line = np.zeros(len(lengths), dtype=np.intp)  # where each row's line starts
    blocks: list[tuple[NDArray[np.int64], int, int]] = []
    used = 0
    for class_width in np.unique(classes[filled]).tolist():
        rows = np.flatnonzero((classes == class_width) & filled)
        line[rows] = used + np.arange(len(rows), dtype=np.intp) * class_width
        blocks.append((rows, used, class_width))
        used += len(rows) * class_width
    arena = np.full(used, padding, dtype=np.uint16)
    # cell[i]: the arena cell of the 3-gram starting at byte i (its 4-, 5-gram follow).
    cell = np.repeat(line - offsets[:-1] * width, lengths)
    cell += np.arange(0, len(data) * width, width, dtype=np.intp)
    index = np.empty(len(cell), dtype=np.intp)
    for k, hashed in ngram_hashes(data, bits):
        count = len(hashed)
        j = WIDE_NGRAM_SIZES.index(k)
        # The last k - 1 bytes of a row start no k-gram of it: their cells stay padding.
        np.add(cell[:count], j, out=index[:count])
        arena[index[:count]] = hashed
        arena[cell[crossing_windows(offsets, k, count)] + j] = padding
    for rows, start, class_width in blocks:
        block = arena[start : start + len(rows) * class_width].reshape(len(rows), class_width)
        block.sort(axis=1)
        repeated = np.zeros(block.shape, dtype=bool)
        np.equal(block[:, 1:], block[:, :-1], out=repeated[:, 1:])
        np.putmask(block, repeated, padding)
        # Every line ends in padding (a row of L bytes has < 3L n-grams), counted once.
        counts = class_width - 1 - np.count_nonzero(repeated, axis=1)
        yield RowBuckets(rows, block, counts)


@dataclass(frozen=True, eq=False)
class WideState:
    """The fitted wide part: one weight per bucket, a bias, and the byte budget per row.

    The last weight belongs to the padding bucket and is always 0.
    """

    weights: NDArray[np.float32]
    bias: float
    max_bytes: int = WIDE_MAX_BYTES

    def __post_init__(self) -> None:
        weights = np.array(self.weights, dtype=np.float32).reshape(-1)
        bits = len(weights).bit_length() - 1
        if len(weights) != 1 << bits:
            raise ValueError(f"wide weights must number a power of two, got {len(weights)}")
        _check_bits(bits)
        if not (np.isfinite(weights).all() and np.isfinite(self.bias)):
            raise ValueError("wide weights and bias must be finite")
        if int(self.max_bytes) < max(WIDE_NGRAM_SIZES):
            raise ValueError(f"wide max_bytes must be >= 5, got {self.max_bytes}")
        weights[-1] = 0.0  # the padding bucket
        weights.flags.writeable = False
        object.__setattr__(self, "weights", weights)
        object.__setattr__(self, "bias", float(self.bias))
        object.__setattr__(self, "max_bytes", int(self.max_bytes))

    @property
    def bits(self) -> int:
        return len(self.weights).bit_length() - 1

    def logits(self, data: NDArray[np.uint8], offsets: NDArray[np.int64]) -> NDArray[np.float64]:
        """Log-odds per row of normalized bytes: ``bias + sum(weights[distinct]) / sqrt(distinct)``.

        One pass per row in the compiled kernel, else vectorized over the batch in numpy.
        """
        if _accel.kernels is None:
            sums, counts = self.bucket_sums(data, offsets)
        else:
            sums, counts = self.compiled_bucket_sums(data, offsets)
        result: NDArray[np.float64] = self.bias + sums / np.sqrt(np.maximum(counts, 1.0))
        return result

    def bucket_sums(
        self, data: NDArray[np.uint8], offsets: NDArray[np.int64]
    ) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
        """Per row, its distinct buckets' summed weights and their number (numpy).

        One hashing pass over the batch, one padded sort per width class.
        """
        n = len(offsets) - 1
        data, offsets = clip_rows(data, offsets, self.max_bytes)
        sums = np.zeros(n, dtype=np.float64)
        counts = np.zeros(n, dtype=np.float64)
        for part in distinct_buckets(data, offsets, self.bits):
            sums[part.rows] = self.weights[part.buckets].sum(axis=1, dtype=np.float64)
            counts[part.rows] = part.counts
        return sums, counts

    def compiled_bucket_sums(
        self, data: NDArray[np.uint8], offsets: NDArray[np.int64]
    ) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
        """:meth:`bucket_sums` by the compiled kernel: one pass per row, a stamp per bucket.

        The sums add the same weights in another order, so they agree to ~1e-12, not bit
        for bit. Raises ``RuntimeError`` when the kernels are not available.
        """
        kernels = _accel.require()
        n = len(offsets) - 1
        sums = np.zeros(n, dtype=np.float64)
        counts = np.zeros(n, dtype=np.float64)
        kernels.wide_sums(
            *_accel.rows(data, offsets),
            self.weights,
            sums,
            counts,
            self.max_bytes,
            *(int(WIDE_MULTIPLIER[k]) for k in WIDE_NGRAM_SIZES),
            int(_FIFTH),
        )
        return sums, counts

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready: the weights as base64 of little-endian float32 bytes (no pickle)."""
        raw = self.weights.astype("<f4", copy=False).tobytes()
        return {
            "format": STATE_FORMAT,
            "bits": self.bits,
            "bias": self.bias,
            "max_bytes": self.max_bytes,
            "weights": base64.b64encode(raw).decode("ascii"),
        }

    @classmethod
    def from_dict(cls, state: Mapping[str, Any]) -> WideState:
        """The state :meth:`to_dict` wrote; ``ValueError`` for anything else."""
        if state.get("format") != STATE_FORMAT:
            raise ValueError(
                f"not a PowerShell wide-part state: format {state.get('format')!r}, expected "
                f"{STATE_FORMAT!r} (keys {sorted(state)})"
            )
        try:
            bits = int(state["bits"])
            raw = base64.b64decode(state["weights"], validate=True)
            bias = float(state["bias"])
            max_bytes = int(state["max_bytes"])
        except (KeyError, TypeError, ValueError, binascii.Error) as exc:
            raise ValueError(f"malformed PowerShell wide-part state: {exc!r}") from exc
        _check_bits(bits)
        if len(raw) != 4 << bits:
            raise ValueError(
                f"wide-part state holds {len(raw)} weight bytes, expected 4 * 2**{bits}"
            )
        return cls(np.frombuffer(raw, dtype="<f4"), bias, max_bytes)
