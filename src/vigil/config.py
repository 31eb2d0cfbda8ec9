"""Profiles: which engine, warehouse and model store a session uses, from ``vigil.toml``.

Resolution order, later wins: built-in defaults, ``[profiles.NAME]`` in ``vigil.toml``,
then ``VIGIL_*`` environment variables (the only home for secrets). Only
:func:`vigil.connect` and the CLI read the environment; everything below takes a Profile.
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any, Literal

from vigil.defaults import DEFAULT_DATABASE, DEFAULT_STORE
from vigil.errors import ConfigError

CONFIG_FILE = "vigil.toml"
Engine = Literal["duckdb"]
_ENGINES = ("duckdb",)
_ENV = {
    "VIGIL_ENGINE": "engine",
    "VIGIL_DATABASE": "database",
    "VIGIL_STORE": "store",
}


@dataclass(frozen=True)
class Profile:
    """Where one environment (dev, prod, ...) keeps its data and models."""

    name: str = "default"
    engine: Engine = "duckdb"
    database: str = DEFAULT_DATABASE
    store: str = DEFAULT_STORE
    detections: tuple[str, ...] = ()
    storage_options: Mapping[str, Any] = field(default_factory=dict)
    intel: Mapping[str, Any] = field(default_factory=dict)
    detection_tables: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    source: str = "built-in defaults"

    def __post_init__(self) -> None:
        if self.engine not in _ENGINES:
            raise ConfigError(
                f"{self.source}: profile {self.name!r} key 'engine' is {self.engine!r}; "
                f"expected one of {', '.join(_ENGINES)}"
            )

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["detections"] = list(self.detections)
        data["storage_options"] = dict(self.storage_options)
        data["intel"] = dict(self.intel)
        data.pop("detection_tables")  # [detections.NAME] is top-level, shared by profiles
        data.pop("source")
        data.pop("name")  # the name is the TOML section's, [profiles.NAME]
        return data

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], *, name: str, source: str) -> Profile:
        known = set(cls.__dataclass_fields__) - {"name", "source", "detection_tables"}
        unknown = set(data) - known
        if unknown:
            raise ConfigError(
                f"{source}: profile {name!r} has unknown keys {sorted(unknown)}; "
                f"known keys: {', '.join(sorted(known))}"
            )
        values = dict(data)
        for key in ("database", "store", "engine"):
            if key in values and not isinstance(values[key], str):
                raise ConfigError(
                    f"{source}: profile {name!r} key {key!r} must be a string, got {values[key]!r}"
                )
        if "detections" in values:
            detections = values["detections"]
            if not isinstance(detections, list) or not all(isinstance(d, str) for d in detections):
                raise ConfigError(
                    f"{source}: profile {name!r} key 'detections' must be a list of names, "
                    f'e.g. ["powershell"]; got {detections!r}'
                )
            values["detections"] = tuple(detections)
        for key in ("storage_options", "intel"):
            if key in values and not isinstance(values[key], Mapping):
                raise ConfigError(
                    f"{source}: profile {name!r} key {key!r} must be a table, got {values[key]!r}"
                )
        return cls(name=name, source=source, **values)


def find_config(start: Path | None = None) -> Path | None:
    """``vigil.toml`` in ``start`` (the working directory) or the nearest parent."""
    here = (start or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        candidate = folder / CONFIG_FILE
        if candidate.is_file():
            return candidate
    return None


def load_profile(
    name: str | None = None,
    *,
    config: str | Path | None = None,
    environ: Mapping[str, str] | None = None,
) -> Profile:
    """Resolve a profile: defaults, then the config file, then ``VIGIL_*`` variables.

    Relative paths in a config file are relative to that file's folder, so a profile works
    from any working directory.
    """
    env = os.environ if environ is None else environ
    name = name or env.get("VIGIL_PROFILE") or "dev"
    path = (
        Path(config)
        if config
        else (Path(env["VIGIL_CONFIG"]) if "VIGIL_CONFIG" in env else find_config())
    )
    profile = Profile(name=name)
    if path is not None:
        if not path.is_file():
            raise ConfigError(f"config file {path} does not exist")
        try:
            data = tomllib.loads(path.read_text("utf-8"))
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"{path}: not valid TOML: {exc}") from exc
        profiles = data.get("profiles", {})
        shared_intel = data.get("intel", {})
        if not isinstance(shared_intel, Mapping):
            raise ConfigError(f"{path}: [intel] must be a table, got {shared_intel!r}")
        if name in profiles:
            profile = Profile.from_dict(profiles[name], name=name, source=str(path))
            profile = _relative_to(profile, path.parent)
        elif config is not None or profiles:
            known = ", ".join(sorted(profiles)) or "none"
            raise ConfigError(
                f"{path}: no [profiles.{name}] section (profiles defined: {known}); add one "
                "or pick another with VIGIL_PROFILE"
            )
        tables = data.get("detections", {})
        if not isinstance(tables, Mapping) or not all(
            isinstance(t, Mapping) for t in tables.values()
        ):
            raise ConfigError(
                f"{path}: [detections] must hold tables, e.g. [detections.domain_ensemble]"
            )
        if tables:
            profile = replace(profile, detection_tables=dict(tables))
        if shared_intel or profile.intel:
            # [intel] applies to every profile; a profile's own intel table adds to it.
            merged = _merge_intel(shared_intel, profile.intel)
            profile = replace(profile, intel=_intel_relative_to(merged, path.parent))
    overridden = [var for var in _ENV if env.get(var)]
    if overridden:
        # Profile validates the values again (an unknown VIGIL_ENGINE is refused there).
        overrides: dict[str, Any] = {_ENV[var]: env[var] for var in overridden}
        profile = replace(
            profile, **overrides, source=f"{profile.source} with {', '.join(overridden)}"
        )
    return profile


def _relative_to(profile: Profile, folder: Path) -> Profile:
    def resolve(value: str) -> str:
        if "://" in value or value == ":memory:" or Path(value).is_absolute():
            return value
        return str(folder / value)

    return replace(profile, database=resolve(profile.database), store=resolve(profile.store))


def _merge_intel(shared: Mapping[str, Any], own: Mapping[str, Any]) -> dict[str, Any]:
    merged = {**shared, **own}
    sources = {**shared.get("sources", {}), **own.get("sources", {})}
    if sources:
        merged["sources"] = sources
    return merged


def _intel_relative_to(intel: Mapping[str, Any], folder: Path) -> dict[str, Any]:
    """File paths of intel sources and the cache folder, relative to the config file."""

    def resolve(value: Any) -> Any:
        if not isinstance(value, str) or "://" in value or Path(value).is_absolute():
            return value
        return str(folder / value)

    out = dict(intel)
    sources = {}
    for source_name, source in dict(out.get("sources", {})).items():
        if isinstance(source, Mapping):
            source = {k: resolve(v) if k in ("path", "cache_dir") else v for k, v in source.items()}
        sources[source_name] = source
    if sources:
        out["sources"] = sources
    return out
