"""The compiled feature kernels (:mod:`vigil.features._kernels`) when they are usable.

The feature extractors call them, and so do the threat-intel indexes
(:mod:`vigil.intel._strings`: the string hash and the hash table behind every lookup).

Why a fallback: the kernels are C, built when vigil is installed. Where they could not be
built (no C compiler) or cannot be loaded (a warehouse that runs only pure-Python
packages), every caller keeps its numpy implementation, which gives the same features
and lookups, only slower. The tests hold the two to the same results.

``VIGIL_KERNELS=0`` in the environment turns the kernels off for a process, to compare
or to rule them out. Callers read :data:`kernels` at call time, so a test can swap it.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from types import ModuleType

import numpy as np
from numpy.typing import NDArray

#: Set this environment variable to ``0`` to use the numpy implementations.
ENV_SWITCH = "VIGIL_KERNELS"


def load() -> ModuleType | None:
    """The compiled module, or None when it is switched off or was not built."""
    if os.environ.get(ENV_SWITCH, "1").strip() == "0":
        return None
    try:
        from vigil.features import _kernels
    except ImportError:
        return None
    return _kernels


#: Whether the environment switched the kernels off when vigil was imported.
switched_off: bool = os.environ.get(ENV_SWITCH, "1").strip() == "0"
#: The compiled module in use, or None for the numpy paths.
kernels: ModuleType | None = load()


def rows(
    data: NDArray[np.uint8], offsets: NDArray[np.int64]
) -> tuple[NDArray[np.uint8], NDArray[np.int64]]:
    """A batch's bytes and row offsets as the kernels take them: C-contiguous, uint8 / int64
    (no copy when they already are)."""
    return np.ascontiguousarray(data, dtype=np.uint8), np.ascontiguousarray(offsets, dtype=np.int64)


def require() -> ModuleType:
    """The compiled module; ``RuntimeError`` saying how to get it when it is not loaded."""
    if kernels is None:
        raise RuntimeError(
            "vigil's compiled feature kernels are not loaded: reinstall vigil where a C "
            f"compiler is available (pip install -e .), and unset {ENV_SWITCH}=0"
        )
    return kernels


@contextmanager
def numpy_only() -> Iterator[None]:
    """Within the block, every feature kernel runs its numpy implementation (one thread:
    it swaps a module global, for tests and benchmarks that compare the two)."""
    global kernels
    saved, kernels = kernels, None
    try:
        yield
    finally:
        kernels = saved
