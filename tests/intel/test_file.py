"""FileSource on local files and fsspec URLs."""

from __future__ import annotations

import gzip
import uuid
from collections.abc import Iterator
from pathlib import Path

import fsspec
import pytest

from vigil.errors import IntelError, SourceUnavailable
from vigil.intel import FileSource


def test_reads_a_local_hosts_file(tmp_path: Path) -> None:
    path = tmp_path / "hosts"
    path.write_text("# c\n127.0.0.1 localhost\n0.0.0.0 evil.com\n0.0.0.0 bad.org\n")
    snapshot = FileSource("hosts", str(path), "domain", "malware", format="hosts").load()
    assert snapshot.entries == ("bad.org", "evil.com")
    assert snapshot.skipped == 2
    assert (snapshot.name, snapshot.kind, snapshot.category) == ("hosts", "domain", "malware")


def test_reads_gzip_files(tmp_path: Path) -> None:
    path = tmp_path / "list.txt.gz"
    path.write_bytes(gzip.compress(b"10.0.0.0/8\n1.2.3.4\n"))
    snapshot = FileSource("drop", str(path), "ip", "c2", format="netset").load()
    assert snapshot.entries == ("1.2.3.4", "10.0.0.0/8")


@pytest.fixture
def memory_url() -> Iterator[str]:
    url = f"memory://vigil-intel-{uuid.uuid4().hex}/list.csv"
    yield url
    fs = fsspec.filesystem("memory")
    if fs.exists(url):
        fs.rm(url)


def test_reads_fsspec_urls(memory_url: str) -> None:
    with fsspec.open(memory_url, "wb") as file:
        file.write(b"ip,comment\n192.0.2.1,bad\n")
    source = FileSource("mem", memory_url, "ip", "c2", format="csv", column="ip")
    assert source.load().entries == ("192.0.2.1",)


def test_a_missing_file_is_unavailable_and_named(tmp_path: Path) -> None:
    source = FileSource("gone", str(tmp_path / "nope.txt"), "domain", "malware")
    with pytest.raises(SourceUnavailable, match=r"'gone'.*nope\.txt"):
        source.load()


def test_a_csv_without_its_column_names_the_source(tmp_path: Path) -> None:
    path = tmp_path / "x.csv"
    path.write_text("a,b\n1,2\n")
    source = FileSource("feed", str(path), "domain", "malware", format="csv", column="url")
    with pytest.raises(IntelError, match=r"'feed'.*no column 'url'"):
        source.load()


def test_configuration_is_checked_on_construction() -> None:
    with pytest.raises(IntelError, match="needs 'column'"):
        FileSource("x", "x.csv", "domain", "malware", format="csv")
    with pytest.raises(IntelError, match="does not hold domain entries"):
        FileSource("x", "x.txt", "domain", "malware", format="netset")
