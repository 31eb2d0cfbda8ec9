"""The Public Suffix List, read and normalized once for every part of vigil that splits names.

tldextract ships a snapshot of the list (``.tld_set_snapshot``); vigil reads that file
without importing tldextract (its package imports ``requests`` and wants a cache
directory), parses it as tldextract does, and puts every rule in IDNA A-label form, the
form normalized names take. The features' suffix split (:mod:`vigil.features._suffixes`)
and the intel ancestor walk (:mod:`vigil.intel._suffixes`) are both built from
:func:`bundled_rules`, and both replay tldextract's trie walk: the longest rule reached
label by label from the right, a ``*`` wildcard only under the deepest rule label the name
reaches, and a ``!`` exception there. ICANN and private rules both count.
"""

from __future__ import annotations

import hashlib
import importlib.util
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import cache, cached_property
from pathlib import Path

from vigil.features.entities import _to_ascii

#: tldextract's own reading of the list (``tldextract.suffix_list``): a rule is the first
#: word of a line that starts with a word character, after any of ``.*!``.
_RULE_RE = re.compile(r"^(?P<suffix>[.*!]*\w[\S]*)", re.UNICODE | re.MULTILINE)
_PRIVATE_MARKER = "// ===BEGIN PRIVATE DOMAINS==="


def parse_rules(text: str) -> tuple[list[str], list[str]]:
    """The ICANN and the private rules of a ``public_suffix_list.dat`` text, as written."""
    public, _, private = text.partition(_PRIVATE_MARKER)
    return (
        [m.group("suffix") for m in _RULE_RE.finditer(public)],
        [m.group("suffix") for m in _RULE_RE.finditer(private)],
    )


def rule_to_ascii(rule: str) -> str | None:
    """A rule lower-cased, each label in IDNA A-label form (``*`` and a leading ``!`` kept);
    None where a label has no A-label form."""
    out = []
    for label in rule.strip().lower().split("."):
        bang = label.startswith("!")
        converted = "*" if label == "*" else _to_ascii(label.lstrip("!"))
        if not converted:
            return None
        out.append(("!" if bang else "") + converted)
    return ".".join(out)


@dataclass(frozen=True)
class SuffixRules:
    """Rules in A-label form (``*`` and ``!`` kept), each marked private or not."""

    #: rule -> whether it is private; a rule listed in both parts counts as ICANN
    rules: Mapping[str, bool]

    @classmethod
    def from_lists(cls, public: Iterable[str], private: Iterable[str] = ()) -> SuffixRules:
        """Rules as written (Unicode or ASCII); ones with no A-label form are dropped."""
        rules: dict[str, bool] = {}
        for rule_list, is_private in ((public, False), (private, True)):
            for rule in rule_list:
                ascii_rule = rule_to_ascii(rule)
                if ascii_rule:
                    rules.setdefault(ascii_rule, is_private)
        return cls(rules)

    @cached_property
    def nodes(self) -> frozenset[str]:
        """Every rule and every label suffix of one (``a.b.c``: also ``b.c`` and ``c``): the
        nodes of tldextract's trie, so a walk down a name's labels stays inside them."""
        labels = [rule.split(".") for rule in self.rules]
        return frozenset(".".join(parts[k:]) for parts in labels for k in range(len(parts)))

    @property
    def depth(self) -> int:
        """Labels in the longest rule (``*`` and ``!`` labels counted)."""
        return max((rule.count(".") + 1 for rule in self.rules), default=1)

    @cached_property
    def digest(self) -> str:
        """Short hash of the rules and their private marks (models record it)."""
        text = "\n".join(f"{r} {int(self.rules[r])}" for r in sorted(self.rules))
        return hashlib.sha256(text.encode()).hexdigest()[:16]


@cache
def bundled_rules() -> SuffixRules:
    """tldextract's bundled snapshot (never fetched: no network), or no rules at all without
    tldextract, where every name's last label is its suffix."""
    spec = importlib.util.find_spec("tldextract")
    for folder in (spec.submodule_search_locations or []) if spec else []:
        snapshot = Path(folder) / ".tld_set_snapshot"
        if snapshot.is_file():
            return SuffixRules.from_lists(*parse_rules(snapshot.read_text("utf-8")))
    return SuffixRules({})
