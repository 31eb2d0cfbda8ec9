"""A session: one profile's warehouse connection with every detection bound as SQL functions."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from vigil.config import Profile, load_profile
from vigil.errors import ConfigError, DetectionNotFound, EngineError
from vigil.runtime.detection import BUILTIN_DETECTIONS, BoundDetection, Detection

if TYPE_CHECKING:
    import duckdb

    from vigil.intel import IntelSnapshot
    from vigil.store import Store


class Session:
    """A warehouse connection with vigil's functions registered on it.

    Queries return DuckDB relations: call ``.to_arrow_table()``, ``.df()`` or ``.fetchall()``.
    """

    def __init__(self, profile: Profile, *, connection: duckdb.DuckDBPyConnection | None = None):
        import duckdb

        from vigil.engines import duckdb as duckdb_engine
        from vigil.store import Store

        self.profile = profile
        self.store: Store = Store(profile.store, storage_options=profile.storage_options)
        if connection is None:
            database = profile.database
            if database != ":memory:":
                Path(database).parent.mkdir(parents=True, exist_ok=True)
            try:
                connection = duckdb.connect(database)
            except duckdb.Error as exc:
                raise EngineError(
                    f"cannot open DuckDB database {database} (profile {profile.name!r}): {exc}"
                ) from exc
        self.connection = connection
        known = profile_detections(profile)
        names = profile.detections or tuple(known)
        self.intel: IntelSnapshot | None = None
        self.detections: dict[str, BoundDetection] = {}
        for name in names:
            if name not in known:
                raise DetectionNotFound(name, known)
            self.detections[name] = self._bind(known[name])
        self.functions = duckdb_engine.register(connection, self.detections.values())

    def sql(self, query: str, params: Any = None) -> duckdb.DuckDBPyRelation:
        """Run SQL on the warehouse; vigil's functions are available in it.

        Raises:
            EngineError: DuckDB refused the statement (syntax, unknown table, ...).
        """
        import duckdb

        try:
            return self.connection.sql(query, params=params)
        except duckdb.Error as exc:
            raise EngineError(
                f"DuckDB refused the query on {self.profile.database} "
                f"(profile {self.profile.name!r}): {exc}"
            ) from exc

    def detection(self, name: str) -> BoundDetection:
        try:
            return self.detections[name]
        except KeyError:
            raise DetectionNotFound(name, self.detections) from None

    def bind(self, detection: Detection) -> BoundDetection:
        """Add a detection defined in code to this session and its SQL functions."""
        from vigil.engines import duckdb as duckdb_engine

        bound = self._bind(detection)
        self.detections[detection.name] = bound
        self.functions += duckdb_engine.register(self.connection, [bound])
        return bound

    def refresh_intel(self) -> IntelSnapshot | None:
        """Reload every threat-intelligence source and re-bind the detections that use it."""
        self.intel = profile_intel(self.profile)
        for name, bound in list(self.detections.items()):
            if uses_intel(bound.detection):
                self.detections[name] = bound.detection.bind(self.store, intel=self.intel)
        from vigil.engines import duckdb as duckdb_engine

        duckdb_engine.register(self.connection, self.detections.values())
        return self.intel

    def _bind(self, detection: Detection) -> BoundDetection:
        if not uses_intel(detection):
            return detection.bind(self.store)
        if self.intel is None:
            self.intel = profile_intel(self.profile)
        return detection.bind(self.store, intel=self.intel)

    def close(self) -> None:
        self.connection.close()

    def __enter__(self) -> Session:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return (
            f"<vigil.Session profile={self.profile.name!r} database={self.profile.database!r} "
            f"store={self.profile.store!r} detections={list(self.detections)}>"
        )


def profile_detections(profile: Profile) -> dict[str, Detection]:
    """The built-in detections and those ``vigil.toml`` defines under ``[detections.NAME]``.

    A table named like a built-in changes only the keys it sets (``threshold``, ...); any
    other name defines a new detection, e.g. an ensemble of model versions::

        [detections.domain_ensemble]
        extractor = "domain"
        members = ["domain@production", "domain@staging"]
        combine = "max"
    """
    detections = dict(BUILTIN_DETECTIONS)
    for name, table in profile.detection_tables.items():
        where = f"{profile.source}: [detections.{name}]"
        try:
            base = detections[name].to_dict() if name in detections else {"name": name}
            detections[name] = Detection.from_dict({**base, **table, "name": name})
        except TypeError as exc:  # a missing required key, e.g. extractor
            raise ConfigError(f'{where}: {exc}; it needs at least extractor = "..."') from exc
        except ConfigError as exc:
            raise ConfigError(f"{where}: {exc}") from exc
    return detections


def uses_intel(detection: Detection) -> bool:
    """Whether the detection's extractor looks entities up in threat intelligence."""
    from vigil.features import get_extractor

    return hasattr(get_extractor(detection.extractor), "with_intel")


def profile_intel(profile: Profile) -> IntelSnapshot | None:
    """The profile's ``[intel.sources]`` loaded and indexed; None when it has none."""
    sources = profile.intel.get("sources", {})
    if not sources:
        return None
    from vigil.intel import build_sources, load_intel

    return load_intel(build_sources(sources, where=profile.source))


def connect(profile: str | Profile | None = None, *, config: str | Path | None = None) -> Session:
    """Open a session for a profile of ``vigil.toml`` (``dev`` unless told otherwise).

    Without a ``vigil.toml`` a local default is used: ``.vigil/vigil.duckdb`` and
    ``.vigil/models`` in the working directory.
    """
    if not isinstance(profile, Profile):
        profile = load_profile(profile, config=config)
    return Session(profile)
