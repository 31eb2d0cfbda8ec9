"""build_sources: vigil.toml tables to sources, with messages that name the table."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

from vigil.errors import ConfigError
from vigil.intel import FileSource, HTTPSource, SQLSource, build_sources, source_types

CONFIG = """
[intel.sources.urlhaus]
type = "http"
kind = "domain"
url = "http://127.0.0.1:8080/hosts.txt"
format = "hosts"
category = "malware"
max_age = 600
retries = 1
headers = { "Auth-Key" = "k" }

[intel.sources.local_drop]
type = "file"
kind = "ip"
path = "lists/drop.txt"
format = "netset"
category = "c2"

[intel.sources.warehouse]
type = "sql"
kind = "domain"
url = "duckdb:///intel.duckdb"
table = "intel.phishing"
column = "domain"
category = "phishing"
"""


def test_builds_every_type_in_order(tmp_path: Path) -> None:
    config = tomllib.loads(CONFIG)["intel"]["sources"]
    sources = build_sources(config, base_dir=tmp_path)
    http, file, sql = sources
    assert isinstance(http, HTTPSource)
    assert (http.name, http.format, http.max_age, http.retries) == ("urlhaus", "hosts", 600.0, 1)
    assert http.headers == {"Auth-Key": "k"}
    assert http.cache_dir == str(tmp_path / ".vigil/intel")
    assert isinstance(file, FileSource)
    assert file.path == str(tmp_path / "lists/drop.txt")
    assert isinstance(sql, SQLSource)
    assert (sql.table, sql.column, sql.url) == (
        "intel.phishing",
        "domain",
        "duckdb:///intel.duckdb",
    )
    assert source_types() == ["file", "http", "sql"]


@pytest.mark.parametrize(
    ("table", "message"),
    [
        ({"kind": "ip"}, r"\[intel.sources.feed\] needs key 'type'"),
        ({"type": "ftp"}, r"type 'ftp'; known types: file, http, sql"),
        (
            {"type": "file", "kind": "ip", "category": "c2", "path": "x", "colum": "x"},
            r"unknown keys \['colum'\]",
        ),
        ({"type": "file", "kind": "ip", "category": "c2"}, r"needs key 'path'"),
        (
            {"type": "http", "kind": "ip", "category": "c2", "url": "http://x", "retries": "3"},
            r"key 'retries' must be an integer",
        ),
        (
            {"type": "http", "kind": "ip", "category": "c2", "url": "http://x", "max_age": True},
            r"key 'max_age' must be a number",
        ),
        (
            {"type": "file", "kind": "url", "category": "c2", "path": "x"},
            r"kind 'url' is not one of domain, ip",
        ),
        (
            {"type": "file", "kind": "ip", "category": "c2", "path": "x", "format": "hosts"},
            r"format 'hosts' does not hold ip entries",
        ),
        (
            {"type": "sql", "kind": "ip", "category": "c2", "url": "duckdb://", "table": "t"},
            r"needs 'column'",
        ),
        (
            {"type": "http", "kind": "ip", "category": "c2", "url": "http://x", "headers": 1},
            r"key 'headers' must be a table",
        ),
    ],
)
def test_problems_name_the_table_and_the_fix(table: dict[str, object], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        build_sources({"feed": table}, where="conf/vigil.toml")


def test_a_non_table_entry_is_refused() -> None:
    with pytest.raises(ConfigError, match="must be a table"):
        build_sources({"feed": "http://x"})  # type: ignore[dict-item]
