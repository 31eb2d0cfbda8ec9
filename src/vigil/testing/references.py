"""Slow, obviously-correct references that tests compare vigil's vectorized kernels with."""

from __future__ import annotations

from vigil.features._wide import _FIFTH, WIDE_MULTIPLIER, WIDE_NGRAM_SIZES


def wide_buckets(raw: bytes, bits: int) -> set[int]:
    """The wide part's buckets of ``raw``: every n-gram hashed one at a time, with Python
    integers (what serving must reproduce)."""
    found = set()
    for k in WIDE_NGRAM_SIZES:
        for i in range(len(raw) - k + 1):
            if k < 5:
                code = int.from_bytes(raw[i : i + k], "big")
            else:
                code = (int.from_bytes(raw[i : i + 4], "big") * int(_FIFTH) + raw[i + 4]) % 2**32
            bucket = (code * int(WIDE_MULTIPLIER[k]) % 2**32) >> (32 - bits)
            found.add(min(bucket, 2**bits - 2))
    return found
