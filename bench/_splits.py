"""Helpers the shared-data preparation scripts share: seeded streams and stable splits."""

from __future__ import annotations

import hashlib

import numpy as np


def rng(seed: int, purpose: int) -> np.random.Generator:
    """One independent stream per use, so changing one draw leaves the others alone."""
    return np.random.default_rng([seed, purpose])


def in_test(key: str, test_share: float, seed: int) -> bool:
    """A stable side for ``key``: the same key, share and seed always land on one side."""
    bucket = int.from_bytes(hashlib.blake2b(f"{seed}:{key}".encode(), digest_size=4).digest())
    return bucket % 10_000 < test_share * 10_000
