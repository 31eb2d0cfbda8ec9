"""SQLSource against a real DuckDB file, MariaDB and PostgreSQL (skipped when a server is down)."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from vigil.errors import IntelError, MissingExtra, SourceUnavailable
from vigil.intel import SQLSource

from .conftest import ServerTable


@pytest.fixture
def duckdb_url(tmp_path: Path) -> str:
    path = tmp_path / "intel.duckdb"
    with duckdb.connect(str(path)) as connection:
        connection.execute("CREATE SCHEMA feeds")
        connection.execute("CREATE TABLE feeds.phishing (domain VARCHAR, added DATE)")
        connection.execute(
            "INSERT INTO feeds.phishing VALUES "
            "('Phish.Example', '2024-01-01'), ('evil.test', NULL), (NULL, NULL), ('junk', NULL)"
        )
    return f"duckdb:///{path}"


def test_duckdb_table_and_column(duckdb_url: str) -> None:
    source = SQLSource(
        "warehouse", duckdb_url, "domain", "phishing", table="feeds.phishing", column="domain"
    )
    snapshot = source.load()
    assert snapshot.entries == ("evil.test", "phish.example")
    assert snapshot.skipped == 2


def test_duckdb_query_with_one_column(duckdb_url: str) -> None:
    source = SQLSource(
        "q", duckdb_url, "domain", "phishing", query="SELECT domain FROM feeds.phishing"
    )
    assert source.load().entries == ("evil.test", "phish.example")


def test_a_query_with_several_columns_needs_the_column_named(duckdb_url: str) -> None:
    query = "SELECT added, domain FROM feeds.phishing"
    named = SQLSource("q", duckdb_url, "domain", "phishing", query=query, column="domain")
    assert named.load().entries == ("evil.test", "phish.example")
    unnamed = SQLSource("q", duckdb_url, "domain", "phishing", query=query)
    with pytest.raises(IntelError, match=r"returns columns \['added', 'domain'\]; set 'column'"):
        unnamed.load()
    wrong = SQLSource("q", duckdb_url, "domain", "phishing", query=query, column="url")
    with pytest.raises(IntelError, match=r"not 'url'"):
        wrong.load()


def test_a_bad_query_names_the_source_and_the_query(duckdb_url: str) -> None:
    source = SQLSource("broken", duckdb_url, "domain", "malware", query="SELECT nope FROM nowhere")
    with pytest.raises(IntelError, match=r"'broken'.*SELECT nope FROM nowhere.*failed"):
        source.load()


def test_a_missing_table_names_the_table(duckdb_url: str) -> None:
    source = SQLSource("t", duckdb_url, "domain", "malware", table="missing", column="domain")
    with pytest.raises(IntelError, match=r"'t'.*table 'missing' failed"):
        source.load()


def test_a_missing_driver_names_the_extra() -> None:
    # mysqlclient (MySQLdb) is not a vigil dependency, so this dialect's driver is absent
    source = SQLSource("m", "mysql+mysqldb://root@127.0.0.1/test", "ip", "c2", query="SELECT 1")
    with pytest.raises(MissingExtra, match=r"MySQLdb.*vigil\[intel\]"):
        source.load()


def test_an_unknown_dialect_is_an_intel_error() -> None:
    source = SQLSource("m", "nosuchdb://x/y", "ip", "c2", query="SELECT 1")
    with pytest.raises(IntelError, match="no dialect"):
        source.load()


def test_an_unreachable_server_is_unavailable_and_hides_the_password() -> None:
    url = "postgresql+psycopg://postgres:hunter2@127.0.0.1:1/test?connect_timeout=1"
    source = SQLSource("pg", url, "ip", "c2", query="SELECT 1")
    with pytest.raises(
        SourceUnavailable, match=r"cannot connect to .*\*\*\*@127\.0\.0\.1:1"
    ) as info:
        source.load()
    assert "hunter2" not in str(info.value)


def test_table_or_query_but_not_both() -> None:
    with pytest.raises(IntelError, match="exactly one of query or table"):
        SQLSource("x", "duckdb://", "ip", "c2", query="SELECT 1", table="t", column="c")
    with pytest.raises(IntelError, match="exactly one of query or table"):
        SQLSource("x", "duckdb://", "ip", "c2")


def test_mariadb_table(mariadb_table: ServerTable) -> None:
    mariadb_table.execute(
        "INSERT INTO {table} VALUES (1, 'evil.example'), (2, 'HTTP://Phish.Test/x'), (3, NULL)"
    )
    by_table = SQLSource(
        "maria", mariadb_table.url, "domain", "malware", table=mariadb_table.name, column="domain"
    )
    assert by_table.load().entries == ("evil.example", "phish.test")
    by_query = SQLSource(
        "maria",
        mariadb_table.url,
        "domain",
        "malware",
        query=f"SELECT domain FROM {mariadb_table.name} WHERE id < 3",
    )
    assert by_query.load().entries == ("evil.example", "phish.test")


def test_mariadb_bad_query(mariadb_table: ServerTable) -> None:
    source = SQLSource(
        "maria", mariadb_table.url, "domain", "malware", query="SELECT nope FROM nowhere_at_all"
    )
    with pytest.raises(IntelError, match=r"'maria'.*nowhere_at_all"):
        source.load()


def test_postgres_inet_column(postgres_table: ServerTable) -> None:
    postgres_table.execute(
        "INSERT INTO {table} VALUES (1, '192.0.2.1'), (2, '10.0.0.0/8'), "
        "(3, '2001:db8::/32'), (4, NULL)"
    )
    source = SQLSource(
        "pg", postgres_table.url, "ip", "c2", table=postgres_table.name, column="address"
    )
    snapshot = source.load()
    assert snapshot.entries == ("10.0.0.0/8", "192.0.2.1", "2001:db8::/32")
    assert snapshot.skipped == 1


def test_postgres_bad_query(postgres_table: ServerTable) -> None:
    source = SQLSource("pg", postgres_table.url, "ip", "c2", query="SELEC 1")
    with pytest.raises(IntelError, match=r"'pg'.*SELEC 1.*syntax error"):
        source.load()
