"""Domain and IP risk as DuckDB functions: scores, features STRUCT, listed names, bad input."""

from __future__ import annotations

from typing import Any

import duckdb
import numpy as np
import pytest

from vigil.engines import duckdb as duckdb_engine
from vigil.runtime import BUILTIN_DETECTIONS, BoundDetection
from vigil.store import Store


@pytest.fixture(scope="module")
def bound(trained_domain_model: Any) -> BoundDetection:
    return BUILTIN_DETECTIONS["domain"].bind(
        Store(trained_domain_model.store_path), intel=trained_domain_model.intel
    )


@pytest.fixture
def con(bound: BoundDetection) -> duckdb.DuckDBPyConnection:
    connection = duckdb.connect()
    duckdb_engine.register(connection, [bound])
    return connection


def test_sql_risk_equals_python_risk(
    con: duckdb.DuckDBPyConnection, bound: BoundDetection, trained_domain_model: Any
) -> None:
    names = [*trained_domain_model.unlisted.column("domain").to_pylist()[:5000], None]
    con.execute("create table q as select unnest(?::VARCHAR[]) as domain", [names])
    rows = con.sql("select domain, vigil_domain_risk(domain) from q").fetchall()
    python = bound.score([r[0] for r in rows])
    for (domain, sql_score), py_score in zip(rows, python, strict=True):
        if domain is None:
            assert sql_score is None
        else:
            assert sql_score == pytest.approx(py_score, abs=1e-12)


def test_a_listed_name_is_a_lookup_with_its_source(
    con: duckdb.DuckDBPyConnection, trained_domain_model: Any
) -> None:
    listed = trained_domain_model.listed[0]
    ((risk, indicators),) = con.execute(
        "select vigil_domain_risk(?), vigil_domain_indicators(?)", [listed, listed]
    ).fetchall()
    assert risk == 1.0
    assert "listed:generated" in indicators


def test_features_struct_names_its_fields(con: duckdb.DuckDBPyConnection) -> None:
    ((features,),) = con.sql("select vigil_domain_features('www.Example.co.uk.')").fetchall()
    assert isinstance(features, dict)
    assert len(features) >= 10
    assert all(
        isinstance(v, int | float | str | bool | list) or v is None for v in features.values()
    )
    assert con.sql("select vigil_domain_features(NULL::VARCHAR)").fetchall() == [(None,)]


@pytest.mark.parametrize(
    "value",
    [
        "",
        " ",
        "a" * 300,
        "x" * 64 + ".com",
        "https://user@login.example.com:8443/path?q=1",
        "example.com:443",
        "*.example.com",
        "Ünïcödé.例え.jp",
        "\x00\x01\x02",
        "..",
        "1.2.3.4",
        "not a domain at all",
    ],
)
def test_odd_input_never_fails_the_query(con: duckdb.DuckDBPyConnection, value: str) -> None:
    ((risk, indicators, features),) = con.execute(
        "select vigil_domain_risk(?), vigil_domain_indicators(?), vigil_domain_features(?)",
        [value, value, value],
    ).fetchall()
    assert risk is None or 0.0 <= risk <= 1.0
    assert indicators is None or isinstance(indicators, list)
    assert features is None or isinstance(features, dict)


def test_urls_and_ports_score_like_the_bare_name(con: duckdb.DuckDBPyConnection) -> None:
    rows = con.sql(
        """select vigil_domain_risk('qwzxkvbnmtrp.ru'),
                  vigil_domain_risk('https://QWZXKVBNMTRP.ru:8080/a'),
                  vigil_domain_risk('qwzxkvbnmtrp.ru.')"""
    ).fetchall()[0]
    np.testing.assert_allclose(rows, rows[0])
