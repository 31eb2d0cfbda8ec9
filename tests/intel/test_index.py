"""DomainIndex and IPIndex: the semantics of each hit, on small hand-checked cases."""

from __future__ import annotations

import dataclasses

import numpy as np
import pyarrow as pa
import pytest

from vigil.intel import DomainHits, DomainIndex, IPHits, IPIndex, SourceSnapshot
from vigil.intel import index as index_module
from vigil.intel._suffixes import PublicSuffixes

MALWARE = SourceSnapshot(
    "malware", "domain", "malware", ("evil.com", "x.evil.com", "b.c.d.example.co.uk", "co.uk")
)
PHISHING = SourceSnapshot("phishing", "domain", "phishing", ("evil.com", "example.co.uk"))
TRUSTED = SourceSnapshot("trusted", "domain", "allow", ("good.evil.com", "co.uk"))


@pytest.fixture(scope="module")
def domains() -> DomainIndex:
    return DomainIndex.build([MALWARE, PHISHING, TRUSTED])


def rows(
    hits: DomainHits | IPHits, names: list[str | None]
) -> dict[str | None, tuple[object, ...]]:
    """Each name's hits as a tuple, fields in declaration order."""
    columns = [getattr(hits, f.name) for f in dataclasses.fields(hits)]
    out = {}
    for i, name in enumerate(names):
        values = []
        for column in columns:
            value = column[i]
            values.append(value.as_py() if isinstance(value, pa.Scalar) else value.item())
        out[name] = tuple(values)
    return out


def test_domain_hits(domains: DomainIndex) -> None:
    names = [
        "evil.com",
        "x.evil.com",
        "y.x.evil.com",
        "a.b.c.d.example.co.uk",
        "foo.co.uk",
        "co.uk",
        "good.evil.com",
        "z.good.evil.com",
        "unlisted.org",
        None,
        "",
    ]
    got = rows(domains.lookup(pa.array(names, type=pa.large_string())), names)
    # exact sources, parent sources, distance, siblings, allowed
    assert got["evil.com"] == (["malware", "phishing"], 0, -1, 1, False)
    assert got["x.evil.com"] == (["malware"], 2, 1, 1, False)
    assert got["y.x.evil.com"] == ([], 2, 1, 2, False)
    # co.uk is a public suffix: listing it says nothing about names under it
    assert got["a.b.c.d.example.co.uk"] == ([], 2, 1, 2, False)
    assert got["foo.co.uk"] == ([], 0, -1, 0, False)
    assert got["co.uk"] == (["malware"], 0, -1, 0, True)
    assert got["good.evil.com"] == ([], 2, 1, 2, True)
    assert got["z.good.evil.com"] == ([], 2, 2, 2, True)
    assert got["unlisted.org"] == ([], 0, -1, 0, False)
    assert got[None] == (None, 0, -1, 0, False)
    assert got[""] == (None, 0, -1, 0, False)


def test_domain_hits_types(domains: DomainIndex) -> None:
    hits = domains.lookup(["evil.com"])
    assert hits.exact_sources.type == pa.list_(pa.string())
    for column in (hits.parent_sources, hits.parent_distance, hits.sibling_listed):
        assert column.dtype == np.int32
    assert hits.allowed.dtype == np.bool_


def test_private_and_wildcard_suffixes_from_the_bundled_list() -> None:
    listed = SourceSnapshot(
        "s", "domain", "malware", ("github.io", "a.github.io", "www.ck", "y.ck", "city.kawasaki.jp")
    )
    index = DomainIndex.build([listed])
    names = ["b.github.io", "x.a.github.io", "foo.www.ck", "x.y.ck", "a.city.kawasaki.jp"]
    got = rows(index.lookup(names), names)
    assert got["b.github.io"] == ([], 0, -1, 0, False)  # github.io is a (private) suffix
    assert got["x.a.github.io"] == ([], 1, 1, 1, False)
    assert got["foo.www.ck"] == ([], 1, 1, 1, False)  # !www.ck: www.ck is registrable
    assert got["x.y.ck"] == ([], 0, -1, 0, False)  # *.ck: y.ck is a suffix
    assert got["a.city.kawasaki.jp"] == ([], 1, 1, 1, False)  # !city.kawasaki.jp


def test_without_a_suffix_list_ancestors_need_two_labels() -> None:
    listed = SourceSnapshot("s", "domain", "malware", ("uk", "co.uk", "a.co.uk"))
    index = DomainIndex.build([listed], suffixes=PublicSuffixes.none())
    got = rows(index.lookup(["b.a.co.uk", "x.co.uk"]), ["b.a.co.uk", "x.co.uk"])
    assert got["b.a.co.uk"] == ([], 1, 1, 2, False)
    assert got["x.co.uk"] == ([], 1, 1, 2, False)


def test_empty_indexes_answer_not_listed() -> None:
    hits = DomainIndex.empty().lookup(["evil.com", None])
    assert hits.exact_sources.to_pylist() == [[], None]
    assert hits.parent_sources.tolist() == [0, 0]
    ip_hits = IPIndex.empty().lookup(["1.2.3.4", "nope"])
    assert ip_hits.exact_sources.to_pylist() == [[], None]
    assert ip_hits.cidr_prefix.tolist() == [-1, -1]
    assert len(DomainIndex.empty().lookup([]).parent_sources) == 0


def test_lookups_in_several_chunks_agree(
    domains: DomainIndex, monkeypatch: pytest.MonkeyPatch
) -> None:
    names = ["evil.com", "x.evil.com", None, "y.x.evil.com", "a.b.c.d.example.co.uk"] * 3
    whole = domains.lookup(names)
    monkeypatch.setattr(index_module, "_CHUNK_ROWS", 4)
    chunked = DomainIndex.build([MALWARE, PHISHING, TRUSTED]).lookup(names)
    assert chunked.exact_sources.equals(whole.exact_sources)
    for field in ("parent_sources", "parent_distance", "sibling_listed", "allowed"):
        np.testing.assert_array_equal(getattr(chunked, field), getattr(whole, field))


def test_sliced_and_chunked_arrow_input(domains: DomainIndex) -> None:
    array = pa.array(["pad", "x.evil.com", "evil.com"], type=pa.string()).slice(1)
    chunked = pa.chunked_array([array.slice(0, 1), array.slice(1)])
    assert domains.lookup(chunked).exact_sources.to_pylist() == [
        ["malware"],
        ["malware", "phishing"],
    ]


C2 = SourceSnapshot(
    "c2",
    "ip",
    "c2",
    ("1.2.3.4", "1.2.3.9", "10.0.0.0/8", "10.1.0.0/16", "2001:db8::1", "2001:db8::/32"),
)
DROP = SourceSnapshot("drop", "ip", "c2", ("1.2.3.4", "10.0.0.0/24", "0.0.0.0/0"))
OFFICE = SourceSnapshot("office", "ip", "allow", ("10.1.2.0/24", "192.0.2.1"))


def test_ip_hits() -> None:
    index = IPIndex.build([C2, DROP, OFFICE])
    names = [
        "1.2.3.4",
        "1.2.3.5",
        "10.0.0.1",
        "10.1.2.3",
        "192.0.2.1",
        "2001:db8::1",
        "2001:db8:0:0:1::5",
        "[2001:db8::1]:443",
        "2001:db9::1",
        "junk",
        None,
    ]
    got = rows(index.lookup(names), names)
    # exact sources, sources with a network, longest prefix, neighbours, allowed
    assert got["1.2.3.4"] == (["c2", "drop"], 1, 0, 1, False)
    assert got["1.2.3.5"] == ([], 1, 0, 2, False)
    assert got["10.0.0.1"] == ([], 2, 24, 0, False)
    assert got["10.1.2.3"] == ([], 2, 16, 0, True)
    assert got["192.0.2.1"] == ([], 1, 0, 0, True)
    assert got["2001:db8::1"] == (["c2"], 1, 32, 0, False)
    assert got["2001:db8:0:0:1::5"] == ([], 1, 32, 1, False)
    assert got["[2001:db8::1]:443"] == (["c2"], 1, 32, 0, False)
    assert got["2001:db9::1"] == ([], 0, -1, 0, False)
    assert got["junk"] == (None, 0, -1, 0, False)
    assert got[None] == (None, 0, -1, 0, False)


def test_ip_edges_of_the_address_space() -> None:
    top4 = "255.255.255.255"
    top6 = "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff"
    listed = SourceSnapshot(
        "edges",
        "ip",
        "c2",
        (top4, "255.255.255.254/31", "0.0.0.0/1", top6, "ffff:ffff:ffff:ffff::/64", "::/0"),
    )
    index = IPIndex.build([listed])
    names = [top4, "255.255.255.254", "0.0.0.0", "128.0.0.0", top6, "::", "ffff:ffff:ffff:ffff::1"]
    got = rows(index.lookup(names), names)
    assert got[top4] == (["edges"], 1, 31, 0, False)
    assert got["255.255.255.254"] == ([], 1, 31, 1, False)
    assert got["0.0.0.0"] == ([], 1, 1, 0, False)
    assert got["128.0.0.0"] == ([], 0, -1, 0, False)
    assert got[top6] == (["edges"], 1, 64, 0, False)
    assert got["::"] == ([], 1, 0, 0, False)
    assert got["ffff:ffff:ffff:ffff::1"] == ([], 1, 64, 1, False)
