"""vigil: machine-learning security detections that run where the logs already are.

Two lines in a notebook::

    import vigil
    con = vigil.connect("dev")
    con.sql("select cmd, vigil_powershell_score(cmd) from events").df()
"""

from __future__ import annotations

from importlib import metadata as _metadata

from vigil.errors import (
    ConfigError,
    DataError,
    DetectionNotFound,
    EngineError,
    FeatureSpecMismatch,
    IntegrityError,
    InvalidName,
    MissingExtra,
    MissingIntelWarning,
    ModelError,
    ModelNotFound,
    ModelReloadWarning,
    SlowPathWarning,
    StaleIntelWarning,
    StoreError,
    VersionExists,
    VigilError,
    VigilWarning,
)

try:
    __version__ = _metadata.version("vigil")
except _metadata.PackageNotFoundError:  # pragma: no cover - running from a source tree
    __version__ = "0+unknown"


def __getattr__(name: str) -> object:
    # Lazy: `import vigil` stays cheap (no onnxruntime, no duckdb) until these are used.
    if name in ("connect", "Session"):
        from vigil import session

        return getattr(session, name)
    if name in ("Detection", "Scorer", "Explanation"):
        from vigil import runtime

        return getattr(runtime, name)
    if name == "Store":
        from vigil.store import Store

        return Store
    if name == "Profile":
        from vigil.config import Profile

        return Profile
    raise AttributeError(f"module 'vigil' has no attribute {name!r}")


__all__ = [
    "ConfigError",
    "DataError",
    "Detection",
    "DetectionNotFound",
    "EngineError",
    "Explanation",
    "FeatureSpecMismatch",
    "IntegrityError",
    "InvalidName",
    "MissingExtra",
    "MissingIntelWarning",
    "ModelError",
    "ModelNotFound",
    "ModelReloadWarning",
    "Profile",
    "Scorer",
    "Session",
    "SlowPathWarning",
    "StaleIntelWarning",
    "Store",
    "StoreError",
    "VersionExists",
    "VigilError",
    "VigilWarning",
    "__version__",
    "connect",
]
