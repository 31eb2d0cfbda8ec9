"""IntelSnapshot: loaded sources, their indexes, and one fingerprint for manifests."""

from __future__ import annotations

from pathlib import Path

import pytest

from vigil.errors import IntelError, SourceUnavailable
from vigil.intel import FileSource, IntelSnapshot, IntelView, SourceSnapshot, load_intel

A = SourceSnapshot("a", "domain", "malware", ("evil.com",))
B = SourceSnapshot("b", "ip", "c2", ("10.0.0.0/8",))


def test_fingerprint_ignores_order_and_follows_content() -> None:
    one = IntelSnapshot.from_snapshots([A, B])
    two = IntelSnapshot.from_snapshots([B, A])
    assert one.fingerprint == two.fingerprint
    changed = SourceSnapshot("a", "domain", "malware", ("evil.com", "bad.org"))
    assert IntelSnapshot.from_snapshots([changed, B]).fingerprint != one.fingerprint
    renamed = SourceSnapshot("c", "domain", "malware", ("evil.com",))
    assert IntelSnapshot.from_snapshots([renamed, B]).fingerprint != one.fingerprint


def test_lookups_go_to_the_indexes() -> None:
    intel = IntelSnapshot.from_snapshots([A, B])
    assert isinstance(intel, IntelView)
    assert intel.domain_hits(["evil.com", "x.evil.com"]).exact_sources.to_pylist() == [["a"], []]
    assert intel.ip_hits(["10.1.2.3"]).cidr_prefix.tolist() == [8]


def test_to_dict_summarizes_each_source() -> None:
    summary = IntelSnapshot.from_snapshots([A, B]).to_dict()
    assert set(summary) == {"fingerprint", "sources"}
    assert summary["sources"]["a"]["entries"] == 1
    assert summary["sources"]["b"]["fingerprint"] == B.fingerprint
    assert set(summary["sources"]["b"]) == {
        "kind",
        "category",
        "entries",
        "skipped",
        "fingerprint",
        "fetched_at",
    }


def test_empty_intel_lists_nothing() -> None:
    intel = IntelSnapshot.empty()
    assert intel.to_dict()["sources"] == {}
    assert intel.domain_hits(["evil.com"]).exact_sources.to_pylist() == [[]]
    assert intel.ip_hits(["1.2.3.4"]).cidr_sources.tolist() == [0]
    assert intel.fingerprint == IntelSnapshot.empty().fingerprint


def test_load_intel_from_files(tmp_path: Path) -> None:
    (tmp_path / "hosts").write_text("0.0.0.0 evil.com\n")
    (tmp_path / "drop.txt").write_text("10.0.0.0/8\n")
    intel = load_intel(
        [
            FileSource("hosts", str(tmp_path / "hosts"), "domain", "malware", format="hosts"),
            FileSource("drop", str(tmp_path / "drop.txt"), "ip", "c2", format="netset"),
        ]
    )
    assert [s.name for s in intel.sources] == ["hosts", "drop"]
    assert intel.domain_hits(["evil.com"]).exact_sources.to_pylist() == [["hosts"]]


def test_load_intel_fails_fast(tmp_path: Path) -> None:
    with pytest.raises(SourceUnavailable, match="'gone'"):
        load_intel([FileSource("gone", str(tmp_path / "gone"), "domain", "malware")])


def test_source_names_must_be_distinct(tmp_path: Path) -> None:
    twice = FileSource("same", str(tmp_path / "x"), "domain", "malware")
    with pytest.raises(IntelError, match=r"repeated: \['same'\]"):
        load_intel([twice, twice])
    with pytest.raises(IntelError, match=r"repeated: \['a'\]"):
        IntelSnapshot.from_snapshots([A, A])
