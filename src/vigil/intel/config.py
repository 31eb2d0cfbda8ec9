"""Sources built from ``[intel.sources.NAME]`` tables in ``vigil.toml``, by their ``type``.

Each type maps to a factory in one dict; built-ins register exactly like plugins do::

    [intel.sources.urlhaus]
    type = "http"            # file | sql | http
    kind = "domain"          # domain | ip
    category = "malware"
    url = "https://urlhaus.abuse.ch/downloads/hostfile/"
    format = "hosts"         # plain | hosts | netset | csv
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, TypeVar

from vigil.errors import ConfigError, IntelError
from vigil.intel.sources import Source

T = TypeVar("T")
_MISSING: Any = object()

_TOML_TYPES = {str: "a string", int: "an integer", float: "a number", dict: "a table"}

#: Keys every source table may hold, whatever its type.
COMMON_KEYS = frozenset({"type", "kind", "category"})


class SourceTable:
    """Typed reads of one ``[intel.sources.NAME]`` table; every error names the table."""

    def __init__(
        self,
        name: str,
        table: Mapping[str, Any],
        *,
        where: str = "vigil.toml",
        base_dir: Path | None = None,
    ) -> None:
        self.name = name
        self.table = table
        self.where = where
        self.base_dir = base_dir

    def error(self, message: str) -> ConfigError:
        return ConfigError(f"{self.where}: [intel.sources.{self.name}] {message}")

    def check_keys(self, known: frozenset[str]) -> None:
        allowed = known | COMMON_KEYS
        unknown = set(self.table) - allowed
        if unknown:
            raise self.error(
                f"has unknown keys {sorted(unknown)}; a {self.table.get('type')!r} source "
                f"knows {', '.join(sorted(allowed))}"
            )

    def get(self, key: str, kind: type[T], default: T = _MISSING) -> T:
        if key not in self.table:
            if default is _MISSING:
                raise self.error(f"needs key {key!r}")
            return default
        value = self.table[key]
        if kind is float and isinstance(value, int) and not isinstance(value, bool):
            value = float(value)
        if not isinstance(value, kind) or (kind is not bool and isinstance(value, bool)):
            expected = _TOML_TYPES.get(kind, kind.__name__)
            raise self.error(f"key {key!r} must be {expected}, got {value!r}")
        return value

    def optional(self, key: str) -> str | None:
        return self.get(key, str, None)

    def strings(self, key: str) -> dict[str, str]:
        value = self.get(key, dict, {})
        if not all(isinstance(k, str) and isinstance(v, str) for k, v in value.items()):
            raise self.error(f"key {key!r} must be a table of strings, got {value!r}")
        return dict(value)

    def path(self, key: str, default: str | None = None) -> str:
        """A path or URL; a relative local path is relative to the config file's folder."""
        value = self.get(key, str, default) if default is not None else self.get(key, str)
        if "://" in value or self.base_dir is None or Path(value).is_absolute():
            return value
        return str(self.base_dir / value)


SourceFactory = Callable[[SourceTable], Source]
_FACTORIES: dict[str, SourceFactory] = {}


def register_source_type(type_name: str, factory: SourceFactory) -> None:
    """Make ``type = "<type_name>"`` build sources with ``factory`` (plugins call this too)."""
    _FACTORIES[type_name] = factory


def source_types() -> list[str]:
    return sorted(_FACTORIES)


def build_sources(
    config: Mapping[str, Mapping[str, Any]],
    *,
    where: str = "vigil.toml",
    base_dir: str | Path | None = None,
) -> list[Source]:
    """One source per table of ``[intel.sources]``, in order; the first problem raises.

    ``where`` names the file in messages; ``base_dir`` anchors relative paths (the config
    file's folder, so a config works from any working directory).
    """
    folder = Path(base_dir) if base_dir is not None else None
    if not isinstance(config, Mapping):
        raise ConfigError(f"{where}: [intel.sources] must be a table of tables")
    sources: list[Source] = []
    for name, table in config.items():
        if not isinstance(table, Mapping):
            raise ConfigError(
                f"{where}: intel.sources.{name} must be a table ([intel.sources.{name}]), "
                f"got {table!r}"
            )
        reader = SourceTable(name, table, where=where, base_dir=folder)
        type_name = reader.get("type", str)
        if type_name not in _FACTORIES:
            raise reader.error(f"has type {type_name!r}; known types: {', '.join(source_types())}")
        try:
            sources.append(_FACTORIES[type_name](reader))
        except IntelError as exc:
            raise reader.error(str(exc)) from exc
    return sources


def _file(table: SourceTable) -> Source:
    from vigil.intel.file import FileSource

    return FileSource.from_config(table)


def _sql(table: SourceTable) -> Source:
    from vigil.intel.sql import SQLSource

    return SQLSource.from_config(table)


def _http(table: SourceTable) -> Source:
    from vigil.intel.http import HTTPSource

    return HTTPSource.from_config(table)


register_source_type("file", _file)
register_source_type("sql", _sql)
register_source_type("http", _http)
