"""Detections as vectorized DuckDB functions (Arrow UDFs), on any DuckDB connection.

Each detection ``d`` becomes ``vigil_d_score(VARCHAR) -> DOUBLE`` and
``vigil_d_iocs(VARCHAR) -> VARCHAR[]``. DuckDB hands the functions 2,048-row Arrow
chunks; NULL in gives NULL out; no input string fails the query.
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


def _drop_if_present(connection: duckdb.DuckDBPyConnection, name: str) -> None:
    with contextlib.suppress(duckdb.Error):  # InvalidInputException: no such function
        connection.remove_function(name)
