"""The Public Suffix List as one exact string set, for the ancestor walk.

The rules come from :func:`vigil._psl.bundled_rules`, the same parsed and normalized list
the features' suffix split is built from, and :func:`vigil.intel._ancestors.expand` replays
the same walk (tldextract's), so features and intel agree on every registered domain.
ICANN and private suffixes both count (``github.io`` and ``duckdns.org`` hand out names to
strangers, so a sibling there says nothing). Without tldextract there are no rules: every
last label is a suffix, so ancestors need two labels.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache

import numpy as np
import pyarrow as pa
from numpy.typing import NDArray

from vigil._psl import SuffixRules, bundled_rules
from vigil.intel._strings import HashCache, StringSet

#: ``name`` is a rule; ``*.name`` is a node; ``!name`` is a node; ``name`` is a node: a rule
#: or a label suffix of one, as tldextract's trie has them (``*.ck`` gives ``*.ck`` and ``ck``).
EXACT, WILDCARD, EXCEPTION, NODE = 1, 2, 4, 8


@dataclass(frozen=True, eq=False)
class PublicSuffixes:
    """Names the rules mention, each with its flags; one set, so one search answers all."""

    names: StringSet
    flags: NDArray[np.uint8]

    @classmethod
    def from_rules(cls, rules: Iterable[str]) -> PublicSuffixes:
        """From rules as written (``*.`` and ``!`` prefixes kept)."""
        return cls.of(SuffixRules.from_lists(rules))

    @classmethod
    def of(cls, rules: SuffixRules) -> PublicSuffixes:
        flag_of: dict[str, int] = dict.fromkeys(sorted(rules.nodes), NODE)
        for rule in rules.rules:
            flag_of[rule] |= EXACT
        for node in sorted(rules.nodes):  # "*.b" and "!a.b" are nodes too, as in the trie
            if node.startswith("*."):
                flag_of[node[2:]] = flag_of.get(node[2:], 0) | WILDCARD
            elif node.startswith("!"):
                flag_of[node[1:]] = flag_of.get(node[1:], 0) | EXCEPTION
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
        return cls.of(SuffixRules({}))


@cache
def bundled() -> PublicSuffixes:
    """tldextract's bundled list, or no list (last label is the suffix) without tldextract."""
    return PublicSuffixes.of(bundled_rules())
