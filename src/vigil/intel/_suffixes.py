"""The Public Suffix List snapshot that ships inside tldextract, read without importing it.

tldextract's package imports ``requests`` and wants a cache directory; all vigil needs is
its bundled ``.tld_set_snapshot`` file, parsed once. ICANN and private suffixes both count
(``github.io`` and ``duckdns.org`` hand out names to strangers, so a sibling there says
nothing). Without tldextract every last label is a suffix, so ancestors need two labels.
"""

from __future__ import annotations

import importlib.util
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import numpy as np
import pyarrow as pa
from numpy.typing import NDArray

from vigil.intel._strings import HashCache, StringSet

EXACT, WILDCARD, EXCEPTION = 1, 2, 4


@dataclass(frozen=True, eq=False)
class PublicSuffixes:
    """Names the rules mention, each with flags: EXACT (``name``), WILDCARD (``*.name``) and
    EXCEPTION (``!name``); one set, so one search answers all three."""

    names: StringSet
    flags: NDArray[np.uint8]

    @classmethod
    def from_rules(cls, rules: list[str]) -> PublicSuffixes:
        flag_of: dict[str, int] = {}
        for rule in rules:
            name = _ascii(rule.lstrip("!").removeprefix("*."))
            if name is None:
                continue
            flag = (
                EXCEPTION if rule.startswith("!") else WILDCARD if rule.startswith("*.") else EXACT
            )
            flag_of[name] = flag_of.get(name, 0) | flag
        names = StringSet.from_unique(pa.array(list(flag_of), type=pa.large_string()))
        flags = np.array(list(flag_of.values()), dtype=np.uint8)
        return cls(names, flags)

    def lookup(self, strings: pa.Array, hashes: HashCache | None = None) -> NDArray[np.uint8]:
        """The flags of each string (0 where no rule mentions it)."""
        found = self.names.find(strings, hashes)
        out = np.zeros(len(found), dtype=np.uint8)
        out[found >= 0] = self.flags[found[found >= 0]]
        return out

    @classmethod
    def none(cls) -> PublicSuffixes:
        return cls.from_rules([])


def _ascii(rule: str) -> str | None:
    try:
        return ".".join(
            label if label.isascii() else label.encode("idna").decode("ascii")
            for label in rule.lower().split(".")
        )
    except UnicodeError:
        return None


def parse_rules(text: str) -> list[str]:
    """Rules of a public_suffix_list.dat text: first word of each non-comment line."""
    rules = []
    for line in text.splitlines():  # per line: a 10,000-line file, read once
        word = line.strip().split(" ", 1)[0]
        if word and not word.startswith("//"):
            rules.append(word)
    return rules


@cache
def bundled() -> PublicSuffixes:
    """tldextract's bundled list, or no list (last label is the suffix) without tldextract."""
    spec = importlib.util.find_spec("tldextract")
    for folder in (spec.submodule_search_locations or []) if spec else []:
        snapshot = Path(folder) / ".tld_set_snapshot"
        if snapshot.is_file():
            return PublicSuffixes.from_rules(parse_rules(snapshot.read_text("utf-8")))
    return PublicSuffixes.none()
