"""A list kept in a SQL table, read through SQLAlchemy (DuckDB, MariaDB/MySQL, PostgreSQL, ...).

The engine lives for one load and is always disposed: intel refreshes are rare, and a pool
held between them only keeps connections the database would rather close.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from vigil.errors import IntelError, MissingExtra, SourceUnavailable
from vigil.intel.formats import Kind, parse_values
from vigil.intel.sources import SourceSnapshot, check_source

if TYPE_CHECKING:
    from vigil.intel.config import SourceTable

#: Driver modules that come with ``vigil[intel]``, by SQLAlchemy dialect name.
_EXTRA_DIALECTS = {"duckdb": "duckdb_engine"}


@dataclass(frozen=True)
class SQLSource:
    """Entries from one column of ``query``, or of ``column`` in ``table``.

    ``url`` is a SQLAlchemy URL (``duckdb:///intel.duckdb``,
    ``mysql+pymysql://user@host/db``, ``postgresql+psycopg://user@host/db``); driver options
    such as ``connect_timeout`` go in its query string or in ``connect_args``.
    """

    name: str
    url: str
    kind: Kind
    category: str
    column: str | None = None
    query: str | None = None
    table: str | None = None
    connect_args: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        check_source(self.name, self.kind, self.category)
        if (self.query is None) == (self.table is None):
            raise IntelError(f"intel source {self.name!r}: give exactly one of query or table")
        if self.table is not None and not self.column:
            raise IntelError(
                f"intel source {self.name!r}: table {self.table!r} needs 'column', the column "
                "that holds the entries"
            )

    @property
    def safe_url(self) -> str:
        """The URL with any password masked, for messages and logs."""
        from sqlalchemy.engine import make_url
        from sqlalchemy.exc import ArgumentError

        try:
            return str(make_url(self.url).render_as_string(hide_password=True))
        except ArgumentError:
            return "<unparseable URL>"

    def load(self) -> SourceSnapshot:
        from sqlalchemy.exc import SQLAlchemyError

        fetched_at = datetime.now(UTC)
        engine = self._engine()
        try:
            try:
                connection = engine.connect()
            except SQLAlchemyError as exc:
                raise SourceUnavailable(
                    f"intel source {self.name!r}: cannot connect to {self.safe_url}: "
                    f"{_reason(exc)}; is the server up and the URL right?"
                ) from exc
            with connection:
                values = self._fetch(connection)
        finally:
            engine.dispose()
        parsed = parse_values(values, kind=self.kind)
        return SourceSnapshot.from_parsed(self, parsed, fetched_at)

    def _engine(self) -> Any:
        from sqlalchemy import create_engine
        from sqlalchemy.exc import ArgumentError, NoSuchModuleError

        try:
            return create_engine(self.url, connect_args=dict(self.connect_args))
        except NoSuchModuleError as exc:
            dialect = self.url.partition(":")[0].partition("+")[0]
            if dialect in _EXTRA_DIALECTS:
                raise MissingExtra(_EXTRA_DIALECTS[dialect], "intel") from exc
            raise IntelError(
                f"intel source {self.name!r}: SQLAlchemy has no dialect for {self.safe_url} ({exc})"
            ) from exc
        except ImportError as exc:  # the dialect's DBAPI module is not installed
            raise MissingExtra(exc.name or str(exc), "intel") from exc
        except ArgumentError as exc:
            raise IntelError(
                f"intel source {self.name!r}: {self.url!r} is not a SQLAlchemy URL ({exc})"
            ) from exc

    def _fetch(self, connection: Any) -> list[object]:
        from sqlalchemy import column, select, table, text
        from sqlalchemy.exc import SQLAlchemyError

        if self.query is not None:
            statement: Any = text(self.query)
            described = f"query {self.query!r}"
        else:
            assert self.table is not None
            assert self.column is not None
            schema, _, name = self.table.rpartition(".")
            statement = select(column(self.column)).select_from(table(name, schema=schema or None))
            described = f"column {self.column!r} of table {self.table!r}"
        try:
            result = connection.execute(statement)
            keys = list(result.keys())
            index = self._column_index(keys, described)
            return [row[index] for row in result.fetchall()]
        except SQLAlchemyError as exc:
            raise IntelError(
                f"intel source {self.name!r}: {described} failed on {self.safe_url}: {_reason(exc)}"
            ) from exc

    def _column_index(self, keys: list[str], described: str) -> int:
        if self.query is None:
            return 0
        if self.column is None:
            if len(keys) == 1:
                return 0
            raise IntelError(
                f"intel source {self.name!r}: {described} returns columns {keys}; set 'column' "
                "to the one holding the entries"
            )
        if self.column not in keys:
            raise IntelError(
                f"intel source {self.name!r}: {described} returns columns {keys}, "
                f"not {self.column!r}"
            )
        return keys.index(self.column)

    @classmethod
    def from_config(cls, table: SourceTable) -> SQLSource:
        table.check_keys(frozenset({"url", "query", "table", "column", "connect_args"}))
        return cls(
            name=table.name,
            url=table.get("url", str),
            kind=table.get("kind", str),  # type: ignore[arg-type]
            category=table.get("category", str),
            column=table.optional("column"),
            query=table.optional("query"),
            table=table.optional("table"),
            connect_args=table.get("connect_args", dict, {}),
        )


def _reason(exc: BaseException) -> str:
    """The database's own words, without SQLAlchemy's multi-line wrapping."""
    original = getattr(exc, "orig", None) or exc
    return " ".join(str(original).split())[:500]
