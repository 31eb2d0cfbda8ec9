"""Helpers the shared-data preparation scripts share: seeded streams and stable splits."""

from __future__ import annotations

import argparse
import hashlib
from pathlib import Path

import numpy as np

#: ``../shared/data`` beside the repository.
SHARED_DATA = Path(__file__).resolve().parents[2] / "shared" / "data"


def split_parser(description: str, *, shared: Path, out: Path | None) -> argparse.ArgumentParser:
    """The options every preparation script takes: where the data is, where the split goes
    (required when ``out`` is None), the test share and the seed."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--shared", type=Path, default=shared)
    if out is None:
        parser.add_argument("--out", type=Path, required=True)
    else:
        parser.add_argument("--out", type=Path, default=out)
    parser.add_argument("--test-share", type=float, default=0.3)
    parser.add_argument("--seed", type=int, default=0)
    return parser


def rng(seed: int, purpose: int) -> np.random.Generator:
    """One independent stream per use, so changing one draw leaves the others alone."""
    return np.random.default_rng([seed, purpose])


def in_test(key: str, test_share: float, seed: int) -> bool:
    """A stable side for ``key``: the same key, share and seed always land on one side."""
    bucket = int.from_bytes(hashlib.blake2b(f"{seed}:{key}".encode(), digest_size=4).digest())
    return bucket % 10_000 < test_share * 10_000
