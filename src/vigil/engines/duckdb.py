"""Detections as vectorized DuckDB functions (Arrow UDFs), on any DuckDB connection.

Each detection ``d`` becomes ``vigil_d_score(VARCHAR) -> DOUBLE`` and
``vigil_d_iocs(VARCHAR) -> VARCHAR[]`` (or the names the detection sets, e.g.
``vigil_domain_risk``), plus a ``STRUCT`` of named features for detections that offer one
(``vigil_domain_features``). DuckDB hands the functions 2,048-row Arrow chunks; NULL in
gives NULL out; no input string fails the query.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterable

import duckdb
import duckdb.func
import numpy as np
import pyarrow as pa

from vigil.errors import EngineError
from vigil.runtime.detection import BoundDetection


def _scores_to_arrow(scores: np.ndarray) -> pa.Array:
    return pa.array(scores, type=pa.float64(), mask=np.isnan(scores))


def register(
    connection: duckdb.DuckDBPyConnection, detections: Iterable[BoundDetection]
) -> list[str]:
    """Create (or replace) the SQL functions of each detection; returns their names."""
    names: list[str] = []
    for bound in detections:
        names += _register_one(connection, bound)
    return names


def _register_one(connection: duckdb.DuckDBPyConnection, bound: BoundDetection) -> list[str]:
    def score(values: pa.ChunkedArray) -> pa.Array:
        return _scores_to_arrow(bound.score(values))

    def indicators(values: pa.ChunkedArray) -> pa.Array:
        return bound.indicators(values)

    functions = [
        (bound.detection.score_function, score, duckdb.sqltypes.DOUBLE),
        (
            bound.detection.indicators_function,
            indicators,
            duckdb.list_type(duckdb.sqltypes.VARCHAR),
        ),
    ]
    struct_type = _feature_struct_type(bound)
    if bound.detection.features_sql is not None and struct_type is not None:

        def features(values: pa.ChunkedArray) -> pa.Array:
            return bound.feature_table(values)

        functions.append((bound.detection.features_sql, features, struct_type))
    registered = []
    for name, function, returns in functions:
        _drop_if_present(connection, name)
        try:
            connection.create_function(
                name,
                function,
                [duckdb.sqltypes.VARCHAR],
                returns,
                type=duckdb.func.ARROW,
                null_handling=duckdb.func.SPECIAL,
                exception_handling=duckdb.PythonExceptionHandling.DEFAULT,
                side_effects=False,
            )
        except duckdb.Error as exc:
            raise EngineError(f"DuckDB refused function {name}: {exc}") from exc
        registered.append(name)
    return registered


_SQL_TYPES = {
    pa.float64(): "DOUBLE",
    pa.float32(): "FLOAT",
    pa.int32(): "INTEGER",
    pa.int64(): "BIGINT",
    pa.bool_(): "BOOLEAN",
    pa.string(): "VARCHAR",
    pa.large_string(): "VARCHAR",
}


def _sql_type(arrow_type: pa.DataType) -> duckdb.sqltypes.DuckDBPyType:
    if pa.types.is_list(arrow_type) or pa.types.is_large_list(arrow_type):
        return duckdb.list_type(_sql_type(arrow_type.value_type))
    try:
        return duckdb.sqltype(_SQL_TYPES[arrow_type])
    except KeyError:
        raise EngineError(f"no DuckDB type for Arrow type {arrow_type}") from None


def _feature_struct_type(bound: BoundDetection) -> duckdb.sqltypes.DuckDBPyType | None:
    arrow_type = getattr(bound.extractor, "feature_table_type", None)
    if not isinstance(arrow_type, pa.StructType):
        return None
    return duckdb.struct_type({f.name: _sql_type(f.type) for f in arrow_type})


def _drop_if_present(connection: duckdb.DuckDBPyConnection, name: str) -> None:
    with contextlib.suppress(duckdb.Error):  # InvalidInputException: no such function
        connection.remove_function(name)
