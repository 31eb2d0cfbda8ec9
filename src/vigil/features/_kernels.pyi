# The compiled module's signatures (see _kernels.c); every array is C-contiguous.
import numpy as np
from numpy.typing import NDArray

def wide_sums(
    data: NDArray[np.uint8],
    offsets: NDArray[np.int64],
    weights: NDArray[np.float32],
    sums: NDArray[np.float64],
    counts: NDArray[np.float64],
    max_bytes: int,
    multiplier3: int,
    multiplier4: int,
    multiplier5: int,
    fifth: int,
    /,
) -> None: ...
def add_signed_windows(
    values: NDArray[np.float32],
    width: int,
    column: int,
    data: NDArray[np.uint8],
    offsets: NDArray[np.int64],
    bits: int,
    sizes: NDArray[np.uint8],
    multipliers: NDArray[np.uint32],
    /,
) -> None: ...
def byte_stats(
    data: NDArray[np.uint8],
    offsets: NDArray[np.int64],
    class_of_byte: NDArray[np.uint8],
    entropy: NDArray[np.float64],
    classes: NDArray[np.float64],
    n_classes: int,
    /,
) -> None: ...
def framed_window_sums(
    data: NDArray[np.uint8],
    offsets: NDArray[np.int64],
    valid: NDArray[np.bool_],
    weights: NDArray[np.float32],
    max_bytes: int,
    multiplier1: int,
    multiplier2: int,
    multiplier3: int,
    multiplier4: int,
    totals: NDArray[np.float64],
    windows: NDArray[np.float64],
    /,
) -> None: ...
def token_ngrams(
    data: NDArray[np.uint8],
    offsets: NDArray[np.int64],
    token_byte: NDArray[np.uint8],
    values: NDArray[np.float32],
    width: int,
    column: int,
    buckets: int,
    per_row: NDArray[np.float64],
    longest: NDArray[np.float64],
    total_length: NDArray[np.float64],
    base64_bytes: NDArray[np.float64],
    /,
) -> None: ...
def indicator_counts(
    data: NDArray[np.uint8],
    offsets: NDArray[np.int64],
    starts: NDArray[np.int64],
    ends: NDArray[np.int64],
    indicators: NDArray[np.int64],
    word: NDArray[np.uint8],
    identifier: NDArray[np.uint8],
    counts: NDArray[np.int32],
    /,
) -> None: ...
def name_stats(
    data: NDArray[np.uint8],
    offsets: NDArray[np.int64],
    symbol_of_byte: NDArray[np.uint8],
    n_symbols: int,
    class_of_byte: NDArray[np.uint8],
    log2_of_count: NDArray[np.float64],
    inverse_of_count: NDArray[np.float64],
    stats: NDArray[np.float64],
    /,
) -> None: ...
def string_hashes(
    data: NDArray[np.uint8],
    offsets: NDArray[np.int64],
    seed: int,
    out: NDArray[np.uint64],
    /,
) -> None: ...
def hash_slots(hashes: NDArray[np.uint64], slots: NDArray[np.int64], /) -> int: ...
def hash_slots_find(
    slots: NDArray[np.int64],
    hashes: NDArray[np.uint64],
    queries: NDArray[np.uint64],
    out: NDArray[np.int64],
    /,
) -> None: ...
def clean_script(
    data: NDArray[np.uint8],
    offsets: NDArray[np.int64],
    valid: NDArray[np.uint8],
    out: NDArray[np.uint8],
    out_offsets: NDArray[np.int64],
    drop: NDArray[np.uint8],
    /,
) -> None: ...
def payload_rows(
    data: NDArray[np.uint8],
    offsets: NDArray[np.int64],
    valid: NDArray[np.uint8],
    out: NDArray[np.uint8],
    /,
) -> None: ...
def trigram_scores(
    data: NDArray[np.uint8],
    offsets: NDArray[np.int64],
    symbol_of_byte: NDArray[np.uint8],
    model: NDArray[np.float32],
    bos: int,
    eos: int,
    n_symbols: int,
    mean: NDArray[np.float32],
    low: NDArray[np.float32],
    /,
) -> None: ...
def segment_words(
    data: NDArray[np.uint8],
    offsets: NDArray[np.int64],
    letter_index: NDArray[np.uint8],
    direct3: NDArray[np.uint8],
    direct4: NDArray[np.uint8],
    slots: NDArray[np.int64],
    keys: NDArray[np.uint64],
    is_word: NDArray[np.uint8],
    min_word: int,
    max_word: int,
    covered: NDArray[np.int64],
    words: NDArray[np.int64],
    longest: NDArray[np.int64],
    /,
) -> None: ...
def plain_names(
    data: NDArray[np.uint8],
    offsets: NDArray[np.int64],
    valid: NDArray[np.uint8],
    max_length: int,
    out: NDArray[np.uint8],
    out_offsets: NDArray[np.int64],
    status: NDArray[np.uint8],
    /,
) -> None: ...
def ancestor_sizes(
    data: NDArray[np.uint8],
    offsets: NDArray[np.int64],
    max_length: int,
    labels: NDArray[np.int32],
    /,
) -> tuple[int, int, int]: ...
def ancestor_fill(
    data: NDArray[np.uint8],
    offsets: NDArray[np.int64],
    labels: NDArray[np.int32],
    depth: int,
    out: NDArray[np.uint8],
    out_offsets: NDArray[np.int64],
    rows: NDArray[np.int64],
    levels: NDArray[np.int32],
    /,
) -> None: ...
def tree_margins(
    nodes: NDArray[np.void],
    roots: NDArray[np.int32],
    depths: NDArray[np.int32],
    features: NDArray[np.float32],
    width: int,
    base: float,
    out: NDArray[np.float32],
    /,
) -> None: ...
def suffix_split(
    data: NDArray[np.uint8],
    offsets: NDArray[np.int64],
    node_slots: NDArray[np.int64],
    node_keys: NDArray[np.uint64],
    end_slots: NDArray[np.int64],
    end_keys: NDArray[np.uint64],
    end_private: NDArray[np.uint8],
    depth: int,
    out: NDArray[np.int64],
    /,
) -> None: ...
def scan_patterns(
    text: bytes,
    byte_class: NDArray[np.uint8],
    table: NDArray[np.int32],
    classes: int,
    out_offsets: NDArray[np.int64],
    out_patterns: NDArray[np.int64],
    pattern_length: NDArray[np.int64],
    pattern_switch: NDArray[np.uint8],
    start: NDArray[np.int64],
    end: NDArray[np.int64],
    pattern: NDArray[np.int64],
    /,
) -> int: ...
def punycode_encode(text: str, /) -> bytes | None: ...
def punycode_decode(text: bytes, /) -> str | None: ...
def launcher_scripts(
    data: NDArray[np.uint8],
    offsets: NDArray[np.int64],
    out: NDArray[np.uint8],
    out_offsets: NDArray[np.int64],
    status: NDArray[np.uint8],
    /,
) -> None: ...
