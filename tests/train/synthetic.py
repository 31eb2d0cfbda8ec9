"""Synthetic feature matrices shaped like the PowerShell extractor's output."""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

#: Column layout of the synthetic matrices: IOC counts, statistics, signed hash buckets.
N_COUNTS = 300
N_STATS = 76
N_HASH = 1024
WIDTH = N_COUNTS + N_STATS + N_HASH  # 1,400 like the real extractor


def realistic_features(n: int, seed: int) -> NDArray[np.float32]:
    """Mostly zeros; a few small counts (some up to ~15), ratios and entropies, ±1 hashes."""
    rng = np.random.default_rng(seed)
    x = np.zeros((n, WIDTH), dtype=np.float32)
    counts = rng.poisson(0.3, size=(n, N_COUNTS)) * (rng.random((n, N_COUNTS)) < 0.05)
    x[:, :N_COUNTS] = np.minimum(counts * rng.integers(1, 6, size=(n, N_COUNTS)), 15)
    stats = x[:, N_COUNTS : N_COUNTS + N_STATS]
    stats[:, : N_STATS // 2] = rng.random((n, N_STATS // 2))  # ratios
    stats[:, N_STATS // 2 :] = rng.gamma(4.0, 1.0, size=(n, N_STATS - N_STATS // 2))
    stats[:, -1] = 1.0  # a constant column
    hashed = rng.random((n, N_HASH)) < 0.04
    x[:, N_COUNTS + N_STATS :] = hashed * rng.choice(np.float32([-1, 1]), size=(n, N_HASH))
    return x


def labelled(
    n: int, seed: int, *, positive_rate: float = 0.3, strength: float = 1.0, width: int = WIDTH
) -> tuple[NDArray[np.float32], NDArray[np.int64]]:
    """Features of benign rows plus, in malicious rows, what malicious commands show.

    Malicious rows hit a fixed set of 20 IOC count columns more often, set 30 fixed hash
    buckets to +1 more often and score higher on two statistics. ``strength`` scales
    those shifts: 1 is learnable to a validation AUC near 0.99, lower values overlap
    more. The columns are the same for every seed, so different seeds give splits of one
    task. ``width`` < 1,400 keeps the first columns only (counts and statistics).
    """
    rng = np.random.default_rng(seed + 10_000)
    x = realistic_features(n, seed)
    y = rng.random(n) < positive_rate
    rule = np.random.default_rng(7)
    iocs = rule.choice(min(width, N_COUNTS), size=20, replace=False)
    buckets = N_COUNTS + N_STATS + rule.choice(N_HASH, size=30, replace=False)
    m = int(y.sum())
    hits = rng.random((m, iocs.size)) < 0.12 * strength
    x[np.ix_(y, iocs)] += hits * rng.integers(1, 4, size=(m, iocs.size))
    set_bucket = rng.random((m, buckets.size)) < 0.25 * strength
    rows = np.flatnonzero(y)
    x[np.ix_(rows, buckets)] = np.where(set_bucket, 1.0, x[np.ix_(rows, buckets)])
    x[y, N_COUNTS] += 0.5 * strength  # a ratio
    x[y, N_COUNTS + N_STATS // 2] += 1.5 * strength  # an entropy-like statistic
    return x[:, :width], y.astype(np.int64)
