"""The indexes against brute force: Python loops over names and the ``ipaddress`` module."""

from __future__ import annotations

import ipaddress

import pyarrow as pa
import tldextract
from hypothesis import given, settings
from hypothesis import strategies as st

from vigil.intel import DomainIndex, IPIndex, SourceSnapshot
from vigil.intel._ancestors import expand
from vigil.intel._suffixes import PublicSuffixes, bundled
from vigil.intel.formats import normalize_ip_entry

RULES = ["com", "uk", "co.uk", "*.ck", "!www.ck", "jp", "*.kobe.jp"]
SUFFIXES = PublicSuffixes.from_rules(RULES)


def registered_level(name: str) -> int:
    """The Public Suffix List algorithm over RULES, one name at a time."""
    labels = name.split(".")
    exact = {r for r in RULES if r[0] not in "*!"}
    wild = {r[2:] for r in RULES if r.startswith("*.")}
    excepted = {r[1:] for r in RULES if r.startswith("!")}
    for level in range(len(labels)):
        candidate = ".".join(labels[level:])
        parent = ".".join(labels[level + 1 :])
        if candidate in excepted:
            return level
        if candidate in exact or parent in wild:
            return level - 1
    return len(labels) - 2


def ancestor(name: str, level: int) -> str:
    return ".".join(name.split(".")[level:])


_LABELS = st.sampled_from(["a", "b", "evil", "www", "kobe", "x"])
_TLDS = st.sampled_from(["com", "co.uk", "uk", "ck", "www.ck", "x.ck", "kobe.jp", "jp", "org"])
_NAMES = st.builds(
    lambda labels, tld: ".".join([*labels, tld]), st.lists(_LABELS, max_size=3), _TLDS
)


@settings(max_examples=60, deadline=None)
@given(
    lists=st.lists(st.lists(_NAMES, max_size=8), min_size=1, max_size=3),
    allowed=st.lists(_NAMES, max_size=3),
    queries=st.lists(st.one_of(_NAMES, st.none()), max_size=12),
)
def test_domain_index_matches_brute_force(
    lists: list[list[str]], allowed: list[str], queries: list[str | None]
) -> None:
    snapshots = [
        SourceSnapshot(f"s{i}", "domain", "malware", tuple(sorted(set(names))))
        for i, names in enumerate(lists)
    ]
    trusted = SourceSnapshot("ok", "domain", "allow", tuple(sorted(set(allowed))))
    hits = DomainIndex.build([*snapshots, trusted], suffixes=SUFFIXES).lookup(
        pa.array(queries, type=pa.large_string())
    )
    listed = {n for s in snapshots for n in s.entries}
    for i, name in enumerate(queries):
        if name is None:
            assert hits.exact_sources[i].as_py() is None
            assert hits.parent_sources[i] == 0
            continue
        reg = registered_level(name)
        exact = [s.name for s in snapshots if name in s.entries]
        parents = [ancestor(name, k) for k in range(1, reg + 1)]
        parent_sources = {s.name for s in snapshots for p in parents if p in s.entries}
        distances = [k for k in range(1, reg + 1) if ancestor(name, k) in listed]
        if reg >= 0:
            registered = ancestor(name, reg)
            siblings = sum(
                1
                for other in listed - {name}
                if registered_level(other) >= 0
                and ancestor(other, registered_level(other)) == registered
            )
        else:
            siblings = 0
        trusted_names = {name, *parents}
        assert hits.exact_sources[i].as_py() == exact, name
        assert hits.parent_sources[i] == len(parent_sources), name
        assert hits.parent_distance[i] == (min(distances) if distances else -1), name
        assert hits.sibling_listed[i] == siblings, name
        assert hits.allowed[i] == bool(trusted_names & set(trusted.entries)), name


def test_registered_domains_agree_with_tldextract() -> None:
    extract = tldextract.TLDExtract(
        suffix_list_urls=(), cache_dir=None, include_psl_private_domains=True
    )
    names = [
        "a.b.example.co.uk",
        "example.com",
        "x.y.z.github.io",
        "foo.www.ck",
        "a.b.ck",
        "a.city.kawasaki.jp",
        "b.a.kawasaki.jp",
        "deep.name.s3.amazonaws.com",
        "xn--80ak6aa92e.com",
        "a.b.xn--p1ai",
        "co.uk",
        "blogspot.com",
    ]
    ancestors = expand(pa.array(names, type=pa.large_string()), bundled())
    at = ancestors.registered
    ours = [ancestors.strings[int(i)].as_py() if i >= 0 else "" for i in at]
    theirs = [extract(name).top_domain_under_public_suffix for name in names]
    assert ours == theirs


def _address(version: int) -> st.SearchStrategy[int]:
    if version == 4:
        near = st.integers(0x0A000000, 0x0A0003FF)  # 10.0.0.0 - 10.0.3.255: many hits
        return st.one_of(near, st.integers(0, 2**32 - 1), st.sampled_from([0, 2**32 - 1]))
    his = st.sampled_from([0x20010DB800000000, 0x20010DB800000001, 0, 2**64 - 1])
    los = st.one_of(st.integers(0, 2**64 - 1), st.sampled_from([0, 1, 2**63, 2**64 - 1]))
    return st.builds(lambda h, lo: (h << 64) | lo, his, los)


def _networks(version: int) -> st.SearchStrategy[str]:
    bits = 32 if version == 4 else 128
    prefix = (
        st.integers(0, bits)
        if version == 4
        else st.one_of(st.integers(56, 72), st.integers(0, 128), st.just(128))
    )
    return st.builds(
        lambda a, p: (
            normalize_ip_entry(
                str(ipaddress.ip_network((a, p), strict=False))  # type: ignore[arg-type]
            )
            or ""
        ),
        _address(version),
        prefix,
    )


def _ip(value: int, version: int) -> ipaddress.IPv4Address | ipaddress.IPv6Address:
    return ipaddress.IPv4Address(value) if version == 4 else ipaddress.IPv6Address(value)


@settings(max_examples=60, deadline=None)
@given(
    data=st.data(),
    version=st.sampled_from([4, 6]),
    n_sources=st.integers(1, 3),
)
def test_ip_index_matches_ipaddress(data: st.DataObject, version: int, n_sources: int) -> None:
    lists = [data.draw(st.lists(_networks(version), max_size=10)) for _ in range(n_sources)]
    allow = data.draw(st.lists(_networks(version), max_size=3))
    queries = data.draw(st.lists(_address(version), min_size=1, max_size=15))
    snapshots = [
        SourceSnapshot(f"s{i}", "ip", "c2", tuple(sorted(set(entries))))
        for i, entries in enumerate(lists)
    ]
    trusted = SourceSnapshot("ok", "ip", "allow", tuple(sorted(set(allow))))
    texts = [str(_ip(q, version)) for q in queries]
    hits = IPIndex.build([*snapshots, trusted]).lookup(texts)

    networks = [[ipaddress.ip_network(e) for e in s.entries if "/" in e] for s in snapshots]
    singles = {ipaddress.ip_address(e) for s in snapshots for e in s.entries if "/" not in e}
    group_bits = 24 if version == 4 else 64
    for i, q in enumerate(queries):
        address = _ip(q, version)
        exact = [s.name for s in snapshots if str(address) in s.entries]
        holding = [[n for n in nets if address in n] for nets in networks]
        prefixes = [n.prefixlen for nets in holding for n in nets]
        group = ipaddress.ip_network((address, group_bits), strict=False)
        neighbours = sum(1 for a in singles if a in group and a != address)
        allowed = any(address in ipaddress.ip_network(e) for e in trusted.entries)
        assert hits.exact_sources[i].as_py() == exact, address
        assert hits.cidr_sources[i] == sum(1 for h in holding if h), address
        assert hits.cidr_prefix[i] == (max(prefixes) if prefixes else -1), address
        assert hits.neighbours[i] == neighbours, address
        assert hits.allowed[i] == allowed, address
