"""A list kept in a file: a local path or any fsspec URL (``s3://``, ``memory://``, ...)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from vigil.errors import IntelError, SourceUnavailable
from vigil.intel.formats import Format, Kind, decode_text, parse_list
from vigil.intel.sources import SourceSnapshot, check_format, check_source

if TYPE_CHECKING:
    from vigil.intel.config import SourceTable


@dataclass(frozen=True)
class FileSource:
    """Reads ``path`` on every load; gzip-compressed files are recognised by their bytes."""

    name: str
    path: str
    kind: Kind
    category: str
    format: Format = "plain"
    column: str | None = None
    storage_options: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        check_source(self.name, self.kind, self.category)
        check_format(self.name, self.kind, self.format, self.column)

    def load(self) -> SourceSnapshot:
        fetched_at = datetime.now(UTC)
        try:
            data = self._read()
        except OSError as exc:
            raise SourceUnavailable(
                f"intel source {self.name!r}: cannot read {self.path}: {exc}; check the path "
                "(relative paths in vigil.toml are relative to that file)"
            ) from exc
        try:
            parsed = parse_list(
                decode_text(data), format=self.format, kind=self.kind, column=self.column
            )
        except IntelError as exc:
            raise IntelError(f"intel source {self.name!r} ({self.path}): {exc}") from exc
        return SourceSnapshot.from_parsed(self, parsed, fetched_at)

    def _read(self) -> bytes:
        if "://" not in self.path:
            with open(self.path, "rb") as file:
                return file.read()
        import fsspec

        with fsspec.open(self.path, "rb", **dict(self.storage_options)) as file:
            return bytes(file.read())

    @classmethod
    def from_config(cls, table: SourceTable) -> FileSource:
        table.check_keys(frozenset({"path", "format", "column", "storage_options"}))
        return cls(
            name=table.name,
            path=table.path("path"),
            kind=table.get("kind", str),  # type: ignore[arg-type]
            category=table.get("category", str),
            format=table.get("format", str, "plain"),  # type: ignore[arg-type]
            column=table.optional("column"),
            storage_options=table.get("storage_options", dict, {}),
        )
