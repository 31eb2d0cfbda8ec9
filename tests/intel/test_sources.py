"""SourceSnapshot: plain data with a fingerprint of its entries."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from vigil.errors import IntelError
from vigil.intel import FileSource, HTTPSource, Source, SourceSnapshot, SQLSource
from vigil.intel.formats import ParsedList
from vigil.intel.sources import entries_fingerprint


def test_fingerprint_is_of_the_sorted_entries() -> None:
    a = SourceSnapshot("a", "domain", "malware", ("b.com", "a.com"))
    b = SourceSnapshot("a", "domain", "malware", ("a.com", "b.com"))
    c = SourceSnapshot("a", "domain", "malware", ("a.com", "c.com"))
    assert a.fingerprint == b.fingerprint == entries_fingerprint(["a.com", "b.com"])
    assert a.fingerprint != c.fingerprint
    assert len(a.fingerprint) == 64


def test_from_parsed_and_to_dict() -> None:
    source = FileSource("feed", "feed.txt", "domain", "phishing")
    when = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)
    snapshot = SourceSnapshot.from_parsed(
        source, ParsedList(("a.com",), skipped=3, examples_skipped=("x",), kept=1), when
    )
    assert snapshot.to_dict() == {
        "kind": "domain",
        "category": "phishing",
        "entries": 1,
        "skipped": 3,
        "fingerprint": entries_fingerprint(["a.com"]),
        "fetched_at": "2024-05-01T12:00:00+00:00",
    }
    assert snapshot.examples_skipped == ("x",)
    assert not snapshot.allows
    assert SourceSnapshot("ok", "domain", "allow", ()).allows


@pytest.mark.parametrize(
    ("name", "kind", "category", "message"),
    [
        ("../etc", "domain", "malware", "must be letters"),
        ("", "domain", "malware", "must be letters"),
        ("feed", "url", "malware", "kind 'url'"),
        ("feed", "ip", " ", "category must be a word"),
    ],
)
def test_snapshots_refuse_bad_names_kinds_and_categories(
    name: str, kind: str, category: str, message: str
) -> None:
    with pytest.raises(IntelError, match=message):
        SourceSnapshot(name, kind, category, ())  # type: ignore[arg-type]


def test_built_in_sources_satisfy_the_protocol() -> None:
    sources = [
        FileSource("f", "x.txt", "ip", "c2", format="netset"),
        SQLSource("s", "duckdb:///x.duckdb", "domain", "malware", query="select 1"),
        HTTPSource("h", "http://127.0.0.1/x", "domain", "malware"),
    ]
    assert all(isinstance(s, Source) for s in sources)
