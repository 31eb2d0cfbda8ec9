"""Domain generation algorithms in the style of well-known malware families, written for vigil.

A bot and its herder run the same algorithm on a shared seed (often the date plus a key baked into
the binary) and so agree on tomorrow's rendezvous names without talking. Each generator here takes
a numpy ``Generator`` in place of that key and returns ``n`` names, TLD included; ``lcg`` keeps the
date seeding to show the texture it gives. None is a faithful port of a real family: each has one
family's look (uniform letters, hex digests, syllables, dictionary words, digit tails).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Mapping
from datetime import date, timedelta

import numpy as np
from numpy.typing import NDArray

from vigil.datasets._names import DGA_WORDS, pick, pick_weighted

__all__ = ["DGAS", "random_strings"]

DGA = Callable[[np.random.Generator, int], list[str]]

LETTERS = "abcdefghijklmnopqrstuvwxyz"
DIGITS = "0123456789"
HEX = "0123456789abcdef"
ALNUM = LETTERS + DIGITS
CONSONANTS = "bcdfghjklmnpqrstvwxz"
VOWELS = "aeiouy"

_CLASSIC_TLDS: Mapping[str, float] = {"com": 5, "net": 3, "org": 2, "info": 2, "biz": 1, "ru": 2}


def random_strings(
    rng: np.random.Generator, n: int, alphabet: str, min_len: int, max_len: int
) -> list[str]:
    """``n`` strings of uniform characters from ``alphabet``, lengths uniform in the bounds."""
    lengths = rng.integers(min_len, max_len + 1, size=n)
    codes = _alphabet(alphabet)[rng.integers(0, len(alphabet), size=(n, max_len))]
    return _rows(codes, lengths)


def _alphabet(chars: str) -> NDArray[np.uint8]:
    return np.frombuffer(chars.encode("ascii"), dtype=np.uint8)


def _rows(codes: NDArray[np.uint8], lengths: NDArray[np.int64]) -> list[str]:
    """Row ``i`` of an ASCII code matrix, cut to ``lengths[i]``."""
    width = codes.shape[1]
    text = np.ascontiguousarray(codes).tobytes().decode("ascii")
    return [text[i * width : i * width + k] for i, k in enumerate(lengths.tolist())]


def _with_tlds(labels: list[str], tlds: list[str]) -> list[str]:
    return [f"{label}.{tld}" for label, tld in zip(labels, tlds, strict=True)]


def uniform(rng: np.random.Generator, n: int) -> list[str]:
    """Long runs of uniform letters (zloader, ramnit, necurs look): 10-20 of 26."""
    return _with_tlds(random_strings(rng, n, LETTERS, 10, 20), pick_weighted(rng, _CLASSIC_TLDS, n))


def hexdigest(rng: np.random.Generator, n: int) -> list[str]:
    """A slice of the MD5 of date and counter, hex as it comes (some downloaders, tinba-like)."""
    key = rng.bytes(8)
    days = rng.integers(0, 365, size=n).tolist()
    counters = rng.integers(0, 10_000, size=n).tolist()
    lengths = rng.integers(12, 33, size=n).tolist()
    starts = rng.integers(0, 8, size=n).tolist()
    tlds = pick_weighted(rng, {"com": 4, "net": 3, "info": 2, "org": 1, "cc": 1}, n)
    out = []
    for day, counter, k, start, tld in zip(days, counters, lengths, starts, tlds, strict=True):
        # per row: one digest each; a few tens of thousands per second is plenty here
        digest = hashlib.md5(key + f"{day}:{counter}".encode(), usedforsecurity=False).hexdigest()
        out.append(f"{digest[start : start + k]}.{tld}")
    return out


def pronounceable(rng: np.random.Generator, n: int) -> list[str]:
    """Consonant-vowel alternation that reads aloud (pykspa, simda look): 6-14 letters."""
    width = 14
    consonants = _alphabet(CONSONANTS)[rng.integers(0, len(CONSONANTS), size=(n, width))]
    vowels = _alphabet(VOWELS)[rng.integers(0, len(VOWELS), size=(n, width))]
    vowel_first = rng.integers(0, 2, size=(n, 1))
    is_vowel = (np.arange(width)[None, :] + vowel_first) % 2 == 1
    codes = np.where(is_vowel, vowels, consonants).astype(np.uint8)
    labels = _rows(codes, rng.integers(6, width + 1, size=n))
    return _with_tlds(labels, pick_weighted(rng, {"com": 4, "net": 2, "biz": 1, "ru": 1}, n))


def wordlist(rng: np.random.Generator, n: int) -> list[str]:
    """Two or three dictionary words run together (suppobox, matsnu look)."""
    first, second, third = (pick(rng, DGA_WORDS, n) for _ in range(3))
    three = (rng.random(n) < 0.25).tolist()
    tlds = pick_weighted(rng, {"net": 5, "com": 4, "ru": 1, "info": 1}, n)
    return [
        f"{a}{b}{c if t else ''}.{tld}"
        for a, b, c, t, tld in zip(first, second, third, three, tlds, strict=True)
    ]


#: Keys of the simulated campaigns: each mixes into the date seed, as a family's build key does.
_LCG_CAMPAIGNS = (0x1F3A5C7E, 0x2B4D6F81, 0x0C0FFEE1, 0x7A5E1D03)
_LCG_TLDS = ("com", "net", "org", "info", "biz", "in", "ru", "su", "cc", "ws")


def lcg(rng: np.random.Generator, n: int) -> list[str]:
    """Letters from a linear congruential generator seeded by date, campaign and index.

    Like ranbyus- or necurs-style DGAs, every name is a pure function of (day, campaign, index):
    the same three always give the same name.
    """
    start = date(2024, 1, 1)
    days = rng.integers(0, 366, size=n)
    yyyymmdd = np.array(
        [int((start + timedelta(days=d)).strftime("%Y%m%d")) for d in range(366)], dtype=np.uint64
    )[days]
    campaign = np.array(_LCG_CAMPAIGNS, dtype=np.uint64)[rng.integers(0, 4, size=n)]
    index = rng.integers(0, 2048, size=n).astype(np.uint64)
    mask = np.uint64(2**31 - 1)
    state = (yyyymmdd * np.uint64(0x5DEECE66D) + campaign + index * np.uint64(0x9E3779B1)) & mask

    def step(x: NDArray[np.uint64]) -> NDArray[np.uint64]:
        return (x * np.uint64(1103515245) + np.uint64(12345)) & mask

    state = step(state)
    lengths = (np.uint64(8) + (state >> np.uint64(16)) % np.uint64(9)).astype(np.int64)
    width = 16
    codes = np.empty((n, width), dtype=np.uint8)
    for j in range(width):  # per character position, vectorised over rows
        state = step(state)
        codes[:, j] = ((state >> np.uint64(16)) % np.uint64(26)).astype(np.uint8) + ord("a")
    state = step(state)
    tld_index = ((state >> np.uint64(16)) % np.uint64(len(_LCG_TLDS))).astype(np.int64).tolist()
    return _with_tlds(_rows(codes, lengths), [_LCG_TLDS[i] for i in tld_index])


def numeric_suffix(rng: np.random.Generator, n: int) -> list[str]:
    """Letters then a run of digits (``kqzwe4821.top``), as counter-based generators leave."""
    letters = random_strings(rng, n, LETTERS, 5, 10)
    digits = random_strings(rng, n, DIGITS, 2, 4)
    tlds = pick_weighted(rng, {"top": 3, "xyz": 3, "online": 2, "info": 2, "com": 2, "pw": 1}, n)
    return [f"{a}{d}.{t}" for a, d, t in zip(letters, digits, tlds, strict=True)]


def alphanumeric(rng: np.random.Generator, n: int) -> list[str]:
    """Letters and digits mixed, a letter first (``q7hxw2mbt9kd.online``)."""
    heads = random_strings(rng, n, LETTERS, 1, 1)
    tails = random_strings(rng, n, LETTERS * 3 + DIGITS, 9, 15)
    tlds = pick_weighted(rng, {"online": 2, "site": 2, "xyz": 2, "ru": 2, "com": 3, "net": 1}, n)
    return [f"{h}{t}.{tld}" for h, t, tld in zip(heads, tails, tlds, strict=True)]


#: Family name (``dga_<algo>``) to generator.
DGAS: Mapping[str, DGA] = {
    "dga_uniform": uniform,
    "dga_hex": hexdigest,
    "dga_pronounceable": pronounceable,
    "dga_wordlist": wordlist,
    "dga_lcg": lcg,
    "dga_numeric": numeric_suffix,
    "dga_alnum": alphanumeric,
}
