"""Pure, vectorized feature extractors: a column of raw values in, a named float32 matrix out."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from functools import cache
from typing import Any, cast

from vigil.errors import DetectionNotFound, ModelError
from vigil.features.base import FEATURE_STATE_KEY, Extractor, FeatureMatrix, FeatureSpec
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


def fitted_extractor(
    name: str, *, state: Mapping[str, Any] | None = None, intel: Any = None
) -> Extractor:
    """The extractor ``name`` with a model's fitted ``state`` and live ``intel`` applied.

    ``state`` comes from the model file (see :data:`FEATURE_STATE_KEY`); ``intel`` is the
    session's threat-intelligence snapshot, used by extractors that look entities up.
    """
    extractor: Any = get_extractor(name)
    if state is not None:
        if not hasattr(extractor, "with_state"):
            raise ModelError(
                f"the model carries fitted feature state, but extractor {name!r} takes none; "
                "it was trained for another extractor"
            )
        extractor = extractor.with_state(state)
    if intel is not None and hasattr(extractor, "with_intel"):
        extractor = extractor.with_intel(intel)
    return cast(Extractor, extractor)


def extractor_names() -> list[str]:
    return sorted(_FACTORIES)


def _powershell() -> Extractor:
    from vigil.features.powershell import PowerShellExtractor

    return PowerShellExtractor()


def _domain() -> Extractor:
    from vigil.features.domain import DomainExtractor

    return DomainExtractor()


def _ip() -> Extractor:
    from vigil.features.ip import IPExtractor

    return IPExtractor()


register_extractor("powershell", _powershell)
register_extractor("domain", _domain)
register_extractor("ip", _ip)

__all__ = [
    "FEATURE_STATE_KEY",
    "Catalog",
    "Extractor",
    "FeatureMatrix",
    "FeatureSpec",
    "Indicator",
    "extractor_names",
    "fitted_extractor",
    "get_extractor",
    "register_extractor",
]
