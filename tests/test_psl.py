"""The one Public Suffix List reader, and the two walks built on it agreeing on every name.

The features' suffix split (``vigil.features._suffixes``, hashes over byte buffers) and the
intel ancestor walk (``vigil.intel._ancestors``, an exact string set) answer the same
question in two shapes; here both answer it for the same names, and tldextract, whose walk
both replay, is the referee wherever it finds a suffix.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyarrow as pa
import pytest
import tldextract
from hypothesis import given, settings
from hypothesis import strategies as st
from tldextract.suffix_list import extract_tlds_from_suffix_list

from vigil import _psl
from vigil._psl import SuffixRules, bundled_rules, parse_rules, rule_to_ascii
from vigil.features._suffixes import SuffixTable, public_suffixes
from vigil.features.domain import registered_domains
from vigil.features.entities import normalize_domain
from vigil.features.normalize import buffers
from vigil.intel._ancestors import expand
from vigil.intel._suffixes import PublicSuffixes, bundled

_EXTRACT = tldextract.TLDExtract(
    suffix_list_urls=(), cache_dir=None, include_psl_private_domains=True
)

#: Hand-checked: (name, its public suffix, its registered domain or None where the name is
#: itself a suffix). An unknown top-level domain is its own suffix.
TRICKY = [
    ("a.b.example.co.uk", "co.uk", "example.co.uk"),
    ("co.uk", "co.uk", None),
    ("uk", "uk", None),
    ("foo.bar.ck", "bar.ck", "foo.bar.ck"),  # *.ck
    ("bar.ck", "bar.ck", None),
    ("ck", "ck", None),  # only "*.ck" is a rule: no rule matches, the last label counts
    ("www.ck", "ck", "www.ck"),  # !www.ck
    ("a.www.ck", "ck", "www.ck"),
    ("a.city.kawasaki.jp", "kawasaki.jp", "city.kawasaki.jp"),  # !city.kawasaki.jp
    ("b.a.kawasaki.jp", "a.kawasaki.jp", "b.a.kawasaki.jp"),  # *.kawasaki.jp
    ("x.y.github.io", "github.io", "y.github.io"),  # private
    ("github.io", "github.io", None),
    ("a.b.my.duckdns.org", "duckdns.org", "my.duckdns.org"),
    ("duckdns.org", "duckdns.org", None),
    ("x.blogspot.com", "blogspot.com", "x.blogspot.com"),
    ("deep.name.s3.amazonaws.com", "s3.amazonaws.com", "name.s3.amazonaws.com"),
    ("evil.zz", "zz", "evil.zz"),  # unknown top-level domains
    ("a.b.evil.notatld", "notatld", "evil.notatld"),
    ("zz", "zz", None),
    ("xn--80ak6aa92e.com", "com", "xn--80ak6aa92e.com"),
    ("a.b.xn--p1ai", "xn--p1ai", "b.xn--p1ai"),  # рф
    ("xn--p1ai", "xn--p1ai", None),
    ("shop.xn--55qx5d.cn", "xn--55qx5d.cn", "shop.xn--55qx5d.cn"),  # 公司.cn
    ("a.xn--55qx5d", "xn--55qx5d", "a.xn--55qx5d"),  # 公司
    # Explicit labels under a wildcard: tldextract's walk follows "ex" (a node, for
    # *.ex.futurecms.at) instead of applying *.futurecms.at to it, and both walks follow.
    ("ex.futurecms.at", "at", "futurecms.at"),
    ("a.ex.futurecms.at", "a.ex.futurecms.at", None),
    ("b.a.ex.futurecms.at", "a.ex.futurecms.at", "b.a.ex.futurecms.at"),
    ("b.futurecms.at", "b.futurecms.at", None),
    ("oci.customer-oci.com", "com", "customer-oci.com"),
    ("ignored.wc.psl.hrsn.dev", "wc.psl.hrsn.dev", "ignored.wc.psl.hrsn.dev"),
    ("a.ignored.wc.psl.hrsn.dev", "wc.psl.hrsn.dev", "ignored.wc.psl.hrsn.dev"),
]


def features_split(
    names: list[str], table: SuffixTable | None = None
) -> list[tuple[str, str | None]]:
    """(suffix, registered domain or None) of each name by the features' split."""
    array = pa.array(names, type=pa.large_string())
    data, offsets = buffers(array)
    split = (table or public_suffixes()).split(data, offsets)
    out = []
    for i, name in enumerate(names):
        suffix = name[split.effective_suffix_start[i] - offsets[i] :]
        is_suffix = split.effective_label_start[i] == split.effective_label_end[i]
        out.append(
            (suffix, None if is_suffix else name[split.effective_label_start[i] - offsets[i] :])
        )
    if table is None:  # the function training groups names by says the same
        expected = [name if reg is None else reg for name, (_, reg) in zip(names, out, strict=True)]
        assert registered_domains(array).to_pylist() == expected
    return out


def intel_split(
    names: list[str], suffixes: PublicSuffixes | None = None
) -> list[tuple[str, str | None]]:
    """(suffix, registered domain or None) of each name by the intel ancestor walk."""
    ancestors = expand(pa.array(names, type=pa.large_string()), suffixes or bundled())
    out = []
    for name, level in zip(names, ancestors.registered_level.tolist(), strict=True):
        labels = name.split(".")
        registered = ".".join(labels[level:]) if level >= 0 else None
        out.append((".".join(labels[level + 1 :]), registered))
    at = ancestors.registered
    strings = [ancestors.strings[int(i)].as_py() if i >= 0 else None for i in at]
    assert strings == [reg for _, reg in out]
    return out


def assert_agree(names: list[str]) -> None:
    features, intel = features_split(names), intel_split(names)
    mismatches = [(n, f, i) for n, f, i in zip(names, features, intel, strict=True) if f != i]
    assert not mismatches, mismatches[:10]
    for name, (_, registered) in zip(names, features, strict=True):
        reference = _EXTRACT(name)
        if reference.suffix:  # tldextract leaves unknown top-level domains suffix-less
            assert (registered or "") == reference.top_domain_under_public_suffix, name


# -- reading the list ------------------------------------------------------------------------


def test_rules_are_read_as_tldextract_reads_them() -> None:
    snapshot = Path(tldextract.__file__).parent / ".tld_set_snapshot"
    text = snapshot.read_text("utf-8")
    assert parse_rules(text) == extract_tlds_from_suffix_list(text)
    public, private = parse_rules(text)
    assert {"co.uk", "*.ck", "!www.ck"} <= set(public)
    assert {"github.io", "duckdns.org"} <= set(private)
    made_up = (
        "// comment\nco.uk\n  indented.example\n*.ck // note\n!www.ck\n\n"
        "// ===BEGIN PRIVATE DOMAINS===\ngithub.io\tx\n"
    )
    assert parse_rules(made_up) == extract_tlds_from_suffix_list(made_up)
    assert parse_rules(made_up) == (["co.uk", "*.ck", "!www.ck"], ["github.io"])


def test_rules_take_the_form_normalized_names_take() -> None:
    assert rule_to_ascii("公司.CN") == "xn--55qx5d.cn"
    assert normalize_domain("shop.公司.cn") == "shop.xn--55qx5d.cn"
    assert rule_to_ascii("*.ck") == "*.ck"
    assert rule_to_ascii("!www.ck") == "!www.ck"
    assert rule_to_ascii(" рф ") == "xn--p1ai"
    assert rule_to_ascii("a..b") is None


def test_suffix_rules_keep_icann_over_private_and_know_their_nodes() -> None:
    rules = SuffixRules.from_lists(["co.uk", "*.ck", "!www.ck"], ["co.uk", "GitHub.io", "a..b"])
    assert rules.rules == {"co.uk": False, "*.ck": False, "!www.ck": False, "github.io": True}
    assert rules.nodes == {"co.uk", "uk", "*.ck", "ck", "!www.ck", "github.io", "io"}
    assert rules.depth == 2
    assert rules.digest != SuffixRules.from_lists(["co.uk"]).digest
    assert SuffixRules({}).depth == 1


def test_both_tables_are_built_from_the_one_bundled_list() -> None:
    rules = bundled_rules()
    assert bundled_rules() is rules  # read once
    assert len(rules.rules) > 9000
    assert public_suffixes().digest == rules.digest
    assert len(public_suffixes().ends) == len(rules.rules)
    assert len(bundled().names) == len(rules.nodes | {r.lstrip("!") for r in rules.rules})


def test_without_tldextract_there_are_no_rules_and_both_walks_agree(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(_psl.importlib.util, "find_spec", lambda name: None)
    rules = bundled_rules.__wrapped__()
    assert rules.rules == {}
    names = ["a.b.co.uk", "co.uk", "uk", "x.github.io"]
    features = features_split(names, SuffixTable.from_rules(rules))
    assert features == intel_split(names, PublicSuffixes.of(rules))
    assert features == [("uk", "co.uk"), ("uk", "co.uk"), ("uk", None), ("io", "github.io")]


# -- features and intel agree ----------------------------------------------------------------


def test_tricky_names() -> None:
    names = [name for name, _, _ in TRICKY]
    expected = [(suffix, registered) for _, suffix, registered in TRICKY]
    assert features_split(names) == expected
    assert intel_split(names) == expected
    assert_agree(names)


def test_every_rule_of_the_bundled_list() -> None:
    names = set()
    for rule in bundled_rules().rules:
        labels = rule.lstrip("!").replace("*", "wild").split(".")
        for k in range(len(labels)):
            for prefix in ("", "a.", "www.", "a.b.", "ignored."):
                names.add(prefix + ".".join(labels[k:]))
    assert len(names) > 50_000
    assert_agree(sorted(names))


_RULES = sorted(bundled_rules().rules)
_LABEL = st.one_of(
    st.sampled_from(["a", "www", "city", "ex", "oci", "wc", "sub", "ignored", "xn--p1ai", "x-1"]),
    st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789-", min_size=1, max_size=8),
)
_SUFFIX = st.one_of(
    st.sampled_from(_RULES).flatmap(
        lambda rule: st.builds(lambda label: rule.lstrip("!").replace("*", label), _LABEL)
    ),
    st.sampled_from(["zz", "notatld", "ck", "kawasaki.jp", "futurecms.at", "co.uk"]),
)
_NAMES = st.builds(
    lambda labels, suffix: ".".join([*labels, suffix]), st.lists(_LABEL, max_size=3), _SUFFIX
)


@settings(max_examples=200, deadline=None)
@given(st.lists(_NAMES, min_size=1, max_size=25))
def test_generated_names(raw: list[str]) -> None:
    names = sorted({n for n in (normalize_domain(x) for x in raw) if n is not None})
    if names:
        assert_agree(names)


def test_flags_mark_nodes_wildcards_and_exceptions() -> None:
    from vigil.intel._suffixes import EXACT, EXCEPTION, NODE, WILDCARD

    suffixes = PublicSuffixes.from_rules(["*.ck", "!www.ck", "jp", "*.ex.futurecms.at"])
    names = ["ck", "*.ck", "www.ck", "!www.ck", "jp", "ex.futurecms.at", "futurecms.at", "no"]
    flags = suffixes.lookup(pa.array(names, type=pa.large_string())).tolist()
    assert flags == [
        NODE | WILDCARD,
        NODE | EXACT,
        EXCEPTION,
        NODE | EXACT,
        NODE | EXACT,
        NODE | WILDCARD,
        NODE,
        0,
    ]
    assert np.array_equal(PublicSuffixes.none().flags, np.zeros(0, dtype=np.uint8))
