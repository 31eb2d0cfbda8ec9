"""Pure, vectorized feature extractors: a column of raw values in, a named float32 matrix out."""

from __future__ import annotations

from collections.abc import Callable
from functools import cache

from vigil.errors import DetectionNotFound
from vigil.features.base import Extractor, FeatureMatrix, FeatureSpec
from vigil.features.catalog import Catalog, Indicator

#: Built-in extractors by registry name; factories so that importing this package is cheap.
_FACTORIES: dict[str, Callable[[], Extractor]] = {}


def register_extractor(name: str, factory: Callable[[], Extractor]) -> None:
    """Make an extractor available by name (built-ins register exactly like plugins)."""
    _FACTORIES[name] = factory
    get_extractor.cache_clear()


@cache
def get_extractor(name: str) -> Extractor:
    """The shared, stateless extractor registered as ``name``."""
    try:
        factory = _FACTORIES[name]
    except KeyError:
        raise DetectionNotFound(name, _FACTORIES) from None
    return factory()


def extractor_names() -> list[str]:
    return sorted(_FACTORIES)


def _powershell() -> Extractor:
    from vigil.features.powershell import PowerShellExtractor

    return PowerShellExtractor()


register_extractor("powershell", _powershell)

__all__ = [
    "Catalog",
    "Extractor",
    "FeatureMatrix",
    "FeatureSpec",
    "Indicator",
    "extractor_names",
    "get_extractor",
    "register_extractor",
]
