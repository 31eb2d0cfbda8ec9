"""Validation shared by the hyper-parameter configs (:class:`MLPConfig`, :class:`TreeConfig`).

Configs come from Python, JSON manifests and (later) tuning search spaces, so every
field is checked with a message that names the config, the field, what it must be and
what it got.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from typing import Any, cast

import numpy as np

from vigil.errors import ConfigError


def is_int(value: object) -> bool:
    """An integer, numpy's included; not a bool."""
    return isinstance(value, int | np.integer) and not isinstance(value, bool)


def is_real(value: object) -> bool:
    """A real number, numpy's included; not a bool."""
    return isinstance(value, int | float | np.integer | np.floating) and not isinstance(value, bool)


def check_fields(config: object, checks: Iterable[tuple[str, bool, str]]) -> None:
    """Raise for the first ``(field, ok, expected)`` that is not ok."""
    for name, ok, expected in checks:
        if not ok:
            raise ConfigError(
                f"{type(config).__name__}.{name} must be {expected}, got {getattr(config, name)!r}"
            )


def class_weight(config: object, weight: object) -> str | float:
    """``"balanced"``, ``"none"`` (also for None) or a positive finite float."""
    if weight is None:
        return "none"
    if isinstance(weight, str) and weight in ("balanced", "none"):
        return weight
    if is_real(weight):
        value = float(cast(float, weight))
        if math.isfinite(value) and value > 0:
            return value
    raise ConfigError(
        f"{type(config).__name__}.class_weight must be 'balanced', 'none' or a positive "
        f"number, got {weight!r}"
    )


def known_keys(cls: type, data: Mapping[str, Any], known: Iterable[str]) -> dict[str, Any]:
    """``data`` as a dict, refused when it holds a key the config does not have."""
    names = set(known)
    unknown = set(data) - names
    if unknown:
        raise ConfigError(
            f"{cls.__name__} has no keys {sorted(unknown)}; known keys: {sorted(names)}"
        )
    return dict(data)
