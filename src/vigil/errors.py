"""Everything vigil raises or warns about, in one tree.

Catch at whatever level suits you::

    VigilError
    ├── ConfigError              vigil.toml / profile / environment problems
    ├── DetectionNotFound        unknown detection name (suggests close names)
    ├── DataError                an input file or column is missing or unreadable
    ├── MissingExtra             an optional dependency is not installed (names the extra)
    ├── StoreError               anything about stored model files
    │   ├── InvalidName          a detection, version or alias is not one safe path component
    │   ├── ModelNotFound        no such detection, version or alias in the store
    │   ├── VersionExists        versions are write-once
    │   └── IntegrityError       a file's sha256 differs from its manifest
    ├── ModelError               a model cannot be used by this code
    │   └── FeatureSpecMismatch  the model was trained on other features than this vigil computes
    ├── EngineError              a SQL engine refused or failed a statement
    └── IntelError               a threat-intelligence source is misconfigured or unusable
        └── SourceUnavailable    a source could not be fetched and has no cached copy

Warnings are API too::

    VigilWarning
    ├── ModelReloadWarning       a newer model was refused; the previous one keeps serving
    ├── SlowPathWarning          an input forced a slower, row-by-row path
    ├── StaleIntelWarning        a source failed to refresh; its cached copy is served
    └── MissingIntelWarning      a model trained with intel is scored without any

Every message names the thing at fault, the mismatch, and the next step.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable


class VigilError(Exception):
    """Root of every error vigil raises on purpose."""


class ConfigError(VigilError):
    """A profile, configuration file or environment variable is wrong."""


class DetectionNotFound(VigilError):
    """No detection is registered under the requested name."""

    def __init__(self, name: str, known: Iterable[str]) -> None:
        self.name = name
        self.known = sorted(known)
        close = difflib.get_close_matches(name, self.known, n=1)
        hint = f"; did you mean {close[0]!r}?" if close else f"; known: {', '.join(self.known)}"
        super().__init__(f"no detection {name!r}{hint}")


class DataError(VigilError):
    """An input file, table or column cannot be used."""


class MissingExtra(VigilError):
    """An optional dependency is needed for this operation."""

    def __init__(self, module: str, extra: str) -> None:
        self.module = module
        self.extra = extra
        super().__init__(
            f"{module!r} is not installed; install it with: pip install 'vigil[{extra}]'"
        )


class StoreError(VigilError):
    """A model store operation failed."""


class InvalidName(StoreError):
    """A name used as a store path component is unsafe."""


class ModelNotFound(StoreError):
    """The store has no such detection, version or alias."""


class VersionExists(StoreError):
    """A model version was written already; versions are never overwritten."""


class IntegrityError(StoreError):
    """A stored file does not match the sha256 recorded in its manifest."""


class ModelError(VigilError):
    """A model file cannot be used by this code."""


class FeatureSpecMismatch(ModelError):
    """The model expects features other than those this code computes."""


class EngineError(VigilError):
    """A SQL engine refused or failed a statement."""


class IntelError(VigilError):
    """A threat-intelligence source is misconfigured or cannot be used."""


class SourceUnavailable(IntelError):
    """A source could not be fetched and there is no cached copy to serve instead."""


class VigilWarning(UserWarning):
    """Root of vigil's warnings."""


class ModelReloadWarning(VigilWarning):
    """A new model version was refused; the previous version keeps serving."""


class SlowPathWarning(VigilWarning):
    """An input forced a slower, row-by-row path."""


class StaleIntelWarning(VigilWarning):
    """A source failed to refresh; its last good copy is served instead."""


class MissingIntelWarning(VigilWarning):
    """A model trained with threat intelligence is scored without any: its intel features
    all read "nothing listed"."""


__all__ = [
    "ConfigError",
    "DataError",
    "DetectionNotFound",
    "EngineError",
    "FeatureSpecMismatch",
    "IntegrityError",
    "IntelError",
    "InvalidName",
    "MissingExtra",
    "MissingIntelWarning",
    "ModelError",
    "ModelNotFound",
    "ModelReloadWarning",
    "SlowPathWarning",
    "SourceUnavailable",
    "StaleIntelWarning",
    "StoreError",
    "VersionExists",
    "VigilError",
    "VigilWarning",
]
